// Turns Office.js callback APIs (callback receives an AsyncResult) into promises.

/** An Office.js call that reported failure; `officeMessage` is Outlook's own text. */
export class OfficeCallError extends Error {
  constructor(operation, error) {
    const officeMessage = (error && (error.message || error.name)) || 'unknown error';
    super(`${operation}: ${officeMessage}`);
    this.name = 'OfficeCallError';
    this.operation = operation;
    this.code = error && error.code;
    this.officeMessage = String(officeMessage);
  }
}

/**
 * Calls `invoke(callback)` and settles with the AsyncResult's value.
 * Office.AsyncResultStatus.Succeeded is the string "succeeded" in Office.js.
 */
export function callAsync(operation, invoke) {
  return new Promise((resolve, reject) => {
    try {
      invoke((result) => {
        if (result && result.status === 'succeeded') {
          resolve(result.value);
        } else {
          reject(new OfficeCallError(operation, result && result.error));
        }
      });
    } catch (error) {
      reject(new OfficeCallError(operation, error));
    }
  });
}

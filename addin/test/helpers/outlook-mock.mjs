// An Outlook compose item for Node tests: the same stub the browser tests load as office.js
// (fixtures/office-stub.js, built from @types/office-js), wrapped in office-addin-mock.
import { readFileSync } from 'node:fs';
import { OfficeMockObject } from 'office-addin-mock';
import { loadOfficeApi } from './office-api.mjs';

export const officeApi = loadOfficeApi();
const source = readFileSync(new URL('../fixtures/office-stub.js', import.meta.url), 'utf8');
// eslint-disable-next-line no-new-func
const createOfficeStub = new Function(`${source}\nreturn createOfficeStub;`)();

export function versionAtMost(wanted, available) {
  const [a1, a2 = 0] = String(wanted).split('.').map(Number);
  const [b1, b2 = 0] = String(available).split('.').map(Number);
  return a1 < b1 || (a1 === b1 && a2 <= b2);
}

/** See fixtures/office-stub.js for `setup`. Returns { office, controls, calls }. */
export function outlookMock(setup = {}) {
  const { Office, controls } = createOfficeStub(setup, officeApi);
  const office = new OfficeMockObject(Office, 'outlook');
  return { office, raw: Office, controls, calls: controls.calls };
}

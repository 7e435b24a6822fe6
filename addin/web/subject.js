// Subject keyword fallback for Outlook clients without Mailbox 1.8 (no internet headers).

/** The subject with the keyword in front, unless it already holds it (any case). */
export function withSubjectKeyword(subject, keyword) {
  const text = String(subject ?? '');
  const mark = String(keyword ?? '').trim();
  if (!mark) throw new Error('The subject keyword is empty.');
  if (text.toLowerCase().includes(mark.toLowerCase())) return text;
  return text.trim() ? `${mark} ${text.trimStart()}` : mark;
}

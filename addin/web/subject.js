// Subject keyword fallback for Outlook clients without Mailbox 1.8 (no internet headers).

const clean = (keyword) => {
  const mark = String(keyword ?? '').trim();
  if (!mark) throw new Error('The subject keyword is empty.');
  return mark;
};

/** The subject with the keyword in front, unless it already holds it (any case). */
export function withSubjectKeyword(subject, keyword) {
  const text = String(subject ?? '');
  const mark = clean(keyword);
  if (text.toLowerCase().includes(mark.toLowerCase())) return text;
  return text.trim() ? `${mark} ${text.trimStart()}` : mark;
}

/** The subject without the keyword (any case, every occurrence), spaces tidied where it stood. */
export function withoutSubjectKeyword(subject, keyword) {
  const text = String(subject ?? '');
  const mark = clean(keyword).toLowerCase();
  let result = text;
  for (let at = result.toLowerCase().indexOf(mark); at >= 0; at = result.toLowerCase().indexOf(mark)) {
    result = `${result.slice(0, at).trimEnd()} ${result.slice(at + mark.length).trimStart()}`;
  }
  return result === text ? text : result.trim();
}

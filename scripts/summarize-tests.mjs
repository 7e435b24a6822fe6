// Counts the real test results: every TRX file (NUnit via dotnet test) and node's TAP output.
// Prints the plain summary line last and exits non-zero when anything failed or nothing ran.
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';

const dir = process.argv[2];
let passed = 0, failed = 0, skipped = 0;
const files = existsSync(dir) ? readdirSync(dir, { recursive: true }).map(String) : [];

for (const f of files.filter((f) => f.endsWith('.trx'))) {
  const xml = readFileSync(join(dir, f), 'utf8');
  const m = xml.match(/<Counters\b([^>]*)\/>/);
  if (!m) { console.error(`no counters in ${f}`); failed++; continue; }
  const attr = (n) => Number((m[1].match(new RegExp(`\\b${n}="(\\d+)"`)) ?? [0, 0])[1]);
  passed += attr('passed');
  failed += attr('failed') + attr('error') + attr('timeout') + attr('aborted');
  skipped += attr('notExecuted') + attr('inconclusive');
  const outcome = (xml.match(/<ResultSummary outcome="(\w+)"/) ?? [])[1];
  if (outcome && outcome !== 'Completed' && outcome !== 'Passed' && attr('failed') === 0) {
    console.error(`${f}: run outcome ${outcome}`); failed++;
  }
}
for (const f of files.filter((f) => f.endsWith('.tap'))) {
  const tap = readFileSync(join(dir, f), 'utf8');
  const count = (n) => Number((tap.match(new RegExp(`^# ${n} (\\d+)$`, 'm')) ?? [0, 0])[1]);
  passed += count('pass');
  failed += count('fail') + count('cancelled');
  skipped += count('skipped') + count('todo');
}
const ran = passed + failed;
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(failed > 0 || ran === 0 ? 1 : 0);

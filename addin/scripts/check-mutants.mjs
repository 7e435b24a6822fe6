// Applies each hand-made mutant (the defects issue 12 found, and their kin) to web/, runs the test that
// should catch it, and restores the file. Every mutant must make its test fail: `npm run mutants`.
import { readFileSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../', import.meta.url));
const MUTANTS = [
  {
    name: 'sending with an unusable external address',
    file: 'web/taskpane.js',
    find: "    if (can.internetHeaders && rows.some((row) => row.recipient.external && !row.recipient.usable)) {\n      setStatus('error', t('errorAddress'));\n      return;\n    }\n",
    replace: '',
    test: 'cannot be used blocks',
  },
  {
    name: 'remembering numbers before the header was set',
    file: 'web/taskpane.js',
    find: "    setStatus('working', t('working'));\n    let result;",
    replace: "    setStatus('working', t('working'));\n    rememberPhones(storage, entries);\n    let result;",
    test: 'refusing the header',
  },
  {
    name: "ignoring isSetSupported('Mailbox', '1.8')",
    file: 'web/secure-send.js',
    find: "internetHeaders: mailbox('1.8') && Boolean(item?.internetHeaders),",
    replace: 'internetHeaders: Boolean(item?.internetHeaders),',
    test: 'Mailbox 1.1 in a host',
  },
  {
    name: 'applying look-up results during a send',
    file: 'web/taskpane.js',
    find: 'if (busy || started.generation !== generation || started.submits !== submits) return;',
    replace: 'if (started.generation !== generation) return;',
    test: 'during a send',
  },
  {
    name: 'not checking the recipients again right before sendAsync',
    file: 'web/taskpane.js',
    find: "      if (latest !== keys) {\n        await removeMark(t('errorChangedBeforeSend'));\n        return;\n      }\n",
    replace: '',
    test: 'between marking and sendAsync',
  },
  {
    name: 'keeping a stale header after a recipient change',
    file: 'web/taskpane.js',
    find: '    if (marked === null || !can.internetHeaders) return;',
    replace: '    return;',
    test: 'after marking, a',
  },
  {
    name: 'a pinned pane without ItemChanged',
    file: 'web/taskpane.js',
    find: 'office.context.mailbox.addHandlerAsync(office.EventType.ItemChanged, () => bindItem(office.context.mailbox.item));',
    replace: '',
    test: 'ItemChanged',
  },
  {
    name: 'automatic sign-in popups',
    file: 'web/taskpane.js',
    find: 'lookUp({ interactive: false });',
    replace: 'lookUp({ interactive: true });',
    test: 'no popup until the user asks',
  },
  {
    name: 'sign-in without NestedAppAuth 1.1',
    file: 'web/taskpane.js',
    find: 'if (config.graphLookup && can.internetHeaders && can.nestedAppAuth) lookUp',
    replace: 'if (config.graphLookup && can.internetHeaders) lookUp',
    test: 'without NestedAppAuth 1.1',
  },
  {
    name: 'the phone list in clear',
    file: 'web/seal.js',
    find: "  return base64(file).match(/.{1,76}/g).join(' ');",
    replace: '  return list;',
    test: 'stock age tool opens it',
  },
];

let survivors = 0;
for (const mutant of MUTANTS) {
  const path = `${root}${mutant.file}`;
  const original = readFileSync(path, 'utf8');
  if (!original.includes(mutant.find)) {
    console.error(`✗ ${mutant.name}: the code to mutate is gone from ${mutant.file}; update this list`);
    survivors++;
    continue;
  }
  try {
    writeFileSync(path, original.replace(mutant.find, mutant.replace));
    const run = spawnSync(process.execPath, ['--test', `--test-name-pattern=${mutant.test}`,
      'test/taskpane.browser.test.mjs', 'test/secure-send.test.mjs', 'test/seal.test.mjs'], { cwd: root, encoding: 'utf8' });
    const failed = Number(/^# fail (\d+)/m.exec(run.stdout)?.[1] ?? 0);
    const passed = Number(/^# pass (\d+)/m.exec(run.stdout)?.[1] ?? 0);
    if (failed > 0) console.log(`✓ killed: ${mutant.name} (${failed} failing)`);
    else {
      survivors++;
      console.error(`✗ survived: ${mutant.name} (${passed} passing tests matched "${mutant.test}")`);
    }
  } finally {
    writeFileSync(path, original);
  }
}
process.exitCode = survivors === 0 ? 0 : 1;

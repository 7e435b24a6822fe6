// Reads Outlook's API surface from @types/office-js (Microsoft's published type declarations):
// for each member of the mail interfaces the add-in uses, the lowest Mailbox requirement set that
// declares it and its parameter lists. The Office stubs are built from this table, so a stub cannot
// offer a member at a level where Outlook does not, and tests check the add-in's calls against it.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/** The interfaces (namespace Office) the add-in touches, and where to find their members. */
export const INTERFACES = ['Mailbox', 'MessageCompose', 'InternetHeaders', 'SessionData', 'Recipients', 'Subject', 'Body'];

function matchBrace(text, open) {
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    if (text[i] === '{') depth++;
    else if (text[i] === '}' && --depth === 0) return i;
  }
  throw new Error('unbalanced braces');
}

function matchParen(text, open) {
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    if (text[i] === '(') depth++;
    else if (text[i] === ')' && --depth === 0) return i;
  }
  throw new Error('unbalanced parentheses');
}

/** Splits a parameter list at top-level commas into names (with '?' kept for optional ones). */
function parameterNames(list) {
  const names = [];
  let depth = 0;
  let current = '';
  for (const c of list) {
    if ('(<{['.includes(c)) depth++;
    if (')>}]'.includes(c)) depth--;
    if (c === ',' && depth === 0) { names.push(current); current = ''; } else current += c;
  }
  if (current.trim()) names.push(current);
  return names.map((p) => p.trim().match(/^(\w+\??)/)?.[1]).filter(Boolean);
}

const compare = (a, b) => {
  const [a1, a2 = 0] = a.split('.').map(Number);
  const [b1, b2 = 0] = b.split('.').map(Number);
  return a1 - b1 || a2 - b2;
};

/** { Interface: { member: { set, overloads: [[param names]] | null (property) } } } from the declarations. */
export function loadOfficeApi() {
  const path = require.resolve('@types/office-js/index.d.ts');
  const source = readFileSync(path, 'utf8');
  const version = JSON.parse(readFileSync(path.replace(/index\.d\.ts$/, 'package.json'), 'utf8')).version;
  const api = { version };
  for (const name of INTERFACES) {
    const header = new RegExp(`\\n    interface ${name}(?: extends ([\\w., ]+))? \\{`).exec(source);
    if (!header) throw new Error(`@types/office-js: interface Office.${name} not found`);
    const open = header.index + header[0].length - 1;
    const body = source.slice(open + 1, matchBrace(source, open));
    const members = {};
    const member = /\/\*\*((?:(?!\*\/)[\s\S])*)\*\/\s*\n {8}(\w+)(\??)(\s*[(:])/g;
    let m;
    while ((m = member.exec(body)) !== null) {
      // Members without an "[Api set: Mailbox x.y]" line are part of the base set, Mailbox 1.1.
      const set = /\[Api set: Mailbox (\d+\.\d+)/.exec(m[1])?.[1] ?? '1.1';
      const entry = members[m[2]] ??= { set, overloads: null };
      if (compare(set, entry.set) < 0) entry.set = set;
      if (m[4].trim() === '(') {
        const start = m.index + m[0].length - 1;
        (entry.overloads ??= []).push(parameterNames(body.slice(start + 1, matchParen(body, start))));
      }
    }
    api[name] = members;
  }
  return api;
}

/** The Mailbox requirement set that declares Interface.member, or throws when it is not declared. */
export function requirementOf(api, iface, member) {
  const entry = api[iface]?.[member];
  if (!entry) throw new Error(`Office.${iface}.${member} is not in @types/office-js ${api.version}`);
  return entry.set;
}

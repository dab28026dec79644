// CommonJS entry points for wfkit/workflow, /activity, /client and /testing, so that a CommonJS
// TypeScript project (`module: node16`, Temporal's default setup) can `require` wfkit and type-check.
//
// Runtime: dist/cjs/<entry>/index.cjs requires the ESM build (Node >= 20.19 loads ES modules with
// require()), so there is one copy of every module: classes stay the same for instanceof, and an
// activity's Context is the one the engine sets.
// Types: dist/cjs/**/*.d.cts, the ESM declarations reachable from the entries with their relative
// specifiers pointed at .cjs, so that TypeScript reads them as CommonJS declarations (no TS1479).
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const dist = fileURLToPath(new URL('../dist', import.meta.url));
const cjs = join(dist, 'cjs');
const entries = ['workflow', 'activity', 'client', 'testing'];

/** Relative module specifiers in a declaration file: from '...', import('...'), export ... from '...'. */
const SPECIFIER = /(\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)(['"])(\.{1,2}\/[^'"]+?)\.js\2/g;

const seen = new Set();
const queue = entries.map((entry) => join(dist, entry, 'index.d.ts'));
while (queue.length > 0) {
  const file = queue.pop();
  if (seen.has(file)) continue;
  seen.add(file);
  if (!existsSync(file)) throw new Error(`build-cjs: ${relative(dist, file)} is missing; run tsc first`);
  const text = readFileSync(file, 'utf8');
  const rewritten = text.replace(SPECIFIER, (_all, lead, quote, path) => {
    queue.push(resolve(dirname(file), `${path}.d.ts`));
    return `${lead}${quote}${path}.cjs${quote}`;
  });
  const target = join(cjs, relative(dist, file)).replace(/\.d\.ts$/, '.d.cts');
  mkdirSync(dirname(target), { recursive: true });
  writeFileSync(target, rewritten);
}

for (const entry of entries) {
  writeFileSync(
    join(cjs, entry, 'index.cjs'),
    `'use strict';\n// wfkit/${entry} for require(): the ESM build, loaded with require() (Node >= 20.19).\nmodule.exports = require('../../${entry}/index.js');\n`,
  );
}

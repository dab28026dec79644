// Runs one benchmark case in this process and prints its rows as one JSON line.
// Usage: node --expose-gc bench/worker.js <case>
import { cases } from './cases.js';

const name = process.argv[2];
const run = cases[name];
if (!run) {
  console.error(`unknown case ${name}; known: ${Object.keys(cases).join(', ')}`);
  process.exit(2);
}
const rows = await run();
process.stdout.write(`\nWF_BENCH_RESULT ${JSON.stringify(rows)}\n`);

// Summarizes a V8 .cpuprofile (from `node --cpu-prof`): top functions by self time and by total time.
// Usage: node bench/profile-top.js <file.cpuprofile> [count]
import { readFileSync } from 'node:fs';

const [file, countArg] = process.argv.slice(2);
if (!file) {
  console.error('usage: node bench/profile-top.js <file.cpuprofile> [count]');
  process.exit(2);
}
const count = Number(countArg ?? 25);
const profile = JSON.parse(readFileSync(file, 'utf8'));
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

const selfTicks = new Map();
for (const id of profile.samples) selfTicks.set(id, (selfTicks.get(id) ?? 0) + 1);
const totalSamples = profile.samples.length;

const label = (n) => {
  const { functionName, url, lineNumber } = n.callFrame;
  const short = url.replace(/^.*\/(dist|node_modules)\//, '$1/').replace(/^file:\/\//, '');
  return `${functionName || '(anonymous)'} ${short}:${lineNumber + 1}`;
};

const self = new Map();
const total = new Map();
for (const [id, ticks] of selfTicks) {
  const n = byId.get(id);
  self.set(label(n), (self.get(label(n)) ?? 0) + ticks);
  const seen = new Set();
  for (let cur = id; cur !== undefined; cur = parent.get(cur)) {
    const l = label(byId.get(cur));
    if (seen.has(l)) continue;
    seen.add(l);
    total.set(l, (total.get(l) ?? 0) + ticks);
  }
}
const pct = (t) => `${((t / totalSamples) * 100).toFixed(1).padStart(5)}%`;
const print = (title, map) => {
  console.log(`\n${title} (${totalSamples} samples)`);
  for (const [l, t] of [...map].sort((a, b) => b[1] - a[1]).slice(0, count)) console.log(`${pct(t)}  ${l}`);
};
print('self time', self);
print('total time', total);

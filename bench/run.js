// wf benchmarks. `npm run bench` builds dist/ and runs this file.
//
//   node bench/run.js                      every case; one table of issue 9's figures (value, target, met?)
//                                          with the floors and the load average; writes bench/results.json
//   node bench/run.js --quick              only the cases behind the figures, smaller N (under 2 minutes);
//                                          writes bench/results.json marked "quick": true
//   node bench/run.js replay starts        only these cases (results.json is not written)
//   node bench/run.js --profile DIR [...]  also write a V8 CPU profile per case into DIR
//                                          (summarize one with `node bench/profile-top.js FILE`)
//
// Each case runs in its own `node --expose-gc` process, so JIT state and heap do not carry over.
import { spawn, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { BENCH_DIR, median, now, ROOT } from './lib.js';
import { TARGET_CASES, TARGETS } from './targets.js';

const ALL = [
  ...TARGET_CASES,
  'file-store',
  'postgres-store',
  'serve-steps',
  'memory-steps-no-watchdog',
  'tracing',
  'cli',
  'webui',
];

const args = process.argv.slice(2);
let profileDir;
let quick = false;
const selected = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--profile') profileDir = resolve(args[++i] ?? 'bench-profiles');
  else if (args[i] === '--quick') quick = true;
  else selected.push(args[i]);
}
for (const name of selected) {
  if (!ALL.includes(name)) {
    console.error(`unknown case ${name}; known: ${ALL.join(', ')}`);
    process.exit(2);
  }
}
const names = selected.length ? selected : quick ? TARGET_CASES : ALL;

function runCase(name) {
  const flags = ['--expose-gc'];
  if (profileDir)
    flags.push('--cpu-prof', `--cpu-prof-dir=${profileDir}`, `--cpu-prof-name=${name}.cpuprofile`);
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [...flags, join(BENCH_DIR, 'worker.js'), name], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, ...(quick ? { WF_BENCH_QUICK: '1' } : {}) },
    });
    let out = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
    });
    child.on('error', reject);
    child.on('close', (code) => {
      const line = out.split('\n').find((l) => l.startsWith('WF_BENCH_RESULT '));
      if (code !== 0 || !line) {
        reject(new Error(`case ${name} exited with ${code}:\n${out}`));
        return;
      }
      resolvePromise(JSON.parse(line.slice('WF_BENCH_RESULT '.length)));
    });
  });
}

/** 5. `wf --help`: the cost of loading the CLI (oclif, commands) once. */
function cliCase() {
  const bin = join(ROOT, 'bin', 'run.js');
  const once = () => {
    const start = now();
    const result = spawnSync(process.execPath, [bin, '--help'], { cwd: ROOT, encoding: 'utf8' });
    const ms = now() - start;
    if (result.status !== 0) throw new Error(`wf --help exited with ${result.status}: ${result.stderr}`);
    return ms;
  };
  once(); // warm the file cache
  const times = Array.from({ length: 5 }, once);
  const bare = median(
    Array.from({ length: 5 }, () => {
      const start = now();
      spawnSync(process.execPath, ['-e', '0']);
      return now() - start;
    }),
  );
  return [
    { name: 'wf --help wall time (median of 5)', value: median(times), unit: 'ms', detail: { times } },
    { name: 'node -e 0 wall time (baseline, median of 5)', value: bare, unit: 'ms' },
  ];
}

function format(value) {
  if (Math.abs(value) >= 1000) return Math.round(value).toLocaleString('en-US');
  if (Math.abs(value) >= 100) return value.toFixed(0);
  if (Math.abs(value) >= 10) return value.toFixed(1);
  return value.toFixed(2);
}

const startedAt = new Date().toISOString();
const load = loadavg();
const results = [];
const started = now();
for (const name of names) {
  const caseStart = now();
  process.stderr.write(`running ${name}... `);
  const rows = name === 'cli' ? cliCase() : await runCase(name);
  process.stderr.write(`${((now() - caseStart) / 1000).toFixed(1)} s\n`);
  for (const row of rows) results.push({ case: name, ...row });
}

const loadAtEnd = loadavg();
const totalS = (now() - started) / 1000;
const byId = new Map(results.filter((r) => r.id).map((r) => [r.id, r]));
const floors = Object.fromEntries(
  results.filter((r) => r.id?.startsWith('floor-')).map((r) => [r.id, r.value]),
);
const figures = TARGETS.map((t) => {
  const r = byId.get(t.id);
  if (!r) return { id: t.id, figure: t.figure, value: null, unit: null, target: t.target, meets: null };
  const figure = r.n ? t.figure.replace(' N ', ` N = ${r.n.toLocaleString('en-US')} `) : t.figure;
  return {
    id: t.id,
    figure,
    value: r.value,
    unit: r.unit,
    target: t.target,
    meets: t.meets(r.value, floors),
    ...(r.n ? { n: r.n } : {}),
  };
});
const floorRows = results.filter((r) => r.id?.startsWith('floor-'));

const table = [
  ...figures.map((f) => [
    f.figure,
    f.value === null ? '(not run)' : format(f.value),
    f.unit ?? '',
    f.target,
    f.meets === null ? '' : f.meets ? 'yes' : 'NO',
  ]),
  ...floorRows.map((r) => [r.name, format(r.value), r.unit, '', '']),
];
const header = ['figure (issue 9)', 'value', 'unit', 'target', 'meets'];
const widths = header.map((h, i) => Math.max(h.length, ...table.map((t) => t[i].length)));
const line = (cells) =>
  cells
    .map((c, i) => (i === 1 ? c.padStart(widths[i]) : c.padEnd(widths[i])))
    .join('  ')
    .trimEnd();
console.log(`\n${line(header)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}`);
for (const [i, t] of table.entries()) {
  if (i === figures.length) console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  console.log(line(t));
}
const met = figures.filter((f) => f.meets).length;
const measured = figures.filter((f) => f.meets !== null).length;
const loadText = (l) => l.map((v) => v.toFixed(2)).join(' ');
console.log(
  `\n${met} of ${measured} figures meet their target${quick ? ' (--quick: smaller N, see the figure names)' : ''}. ${cpus().length} cores, Node ${process.version}; load average ${loadText(load)} at start, ${loadText(loadAtEnd)} at end; ${totalS.toFixed(1)} s.`,
);
console.log('Every row, with its details: bench/results.json ("rows").');

if (!selected.length) {
  const file = join(BENCH_DIR, 'results.json');
  const report = {
    quick,
    ...(quick
      ? { note: '--quick: smaller N for restart, start-up, HTTP and closed-run memory; not the full figures' }
      : {}),
    startedAt,
    node: process.version,
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model,
    loadAverage: { start: load, end: loadAtEnd },
    totalSeconds: totalS,
    figures,
    floors: floorRows.map((r) => ({ id: r.id, name: r.name, value: r.value, unit: r.unit })),
    rows: results,
  };
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`wrote ${file}`);
}

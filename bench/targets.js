// The figures of issue 9's target table: which result row gives each, its target, and the check.
// `floors` are the rows of the `floors` case, by id (floor-fdatasync, floor-json, floor-node).

/** @type {{ id: string, figure: string, target: string, meets: (value: number, floors: Record<string, number>) => boolean }[]} */
export const TARGETS = [
  {
    id: 'file-step-p50',
    figure: 'durable step, file store, one run, sequential (p50)',
    target: '≤ 0.2 ms, or ≤ 1.5× the fdatasync floor',
    meets: (v, f) => v <= 0.2 || (f['floor-fdatasync'] !== undefined && v <= 1.5 * f['floor-fdatasync']),
  },
  {
    id: 'http-c1',
    figure: '10-step workflow end to end, wf dev over HTTP with wfkit/client, concurrency 1',
    target: '≤ 3 ms',
    meets: (v) => v <= 3,
  },
  {
    id: 'http-c32',
    figure: 'same, concurrency 32',
    target: '≥ 12,500 steps/s (4× Restate)',
    meets: (v) => v >= 12_500,
  },
  {
    id: 'file-100x50',
    figure: 'durable steps, file store, 100 runs × 50 steps at once',
    target: '≥ 15,000 steps/s',
    meets: (v) => v >= 15_000,
  },
  {
    id: 'memory-step',
    figure: 'engine step on the memory store (no I/O)',
    target: '≤ 30 µs',
    meets: (v) => v <= 30,
  },
  { id: 'replay', figure: 'replay', target: '≥ 150,000 events/s', meets: (v) => v >= 150_000 },
  {
    id: 'starts',
    figure: 'runs started per second, memory store',
    target: '≥ 5,000 runs/s',
    meets: (v) => v >= 5_000,
  },
  {
    id: 'restart-answer',
    figure: 'restart with N open runs → server answers',
    target: '≤ 1 s (N = 10,000)',
    meets: (v) => v <= 1,
  },
  {
    id: 'restart-resumed',
    figure: 'restart with N open runs → all resumed',
    target: '≤ 2 s (N = 10,000)',
    meets: (v) => v <= 2,
  },
  {
    id: 'startup-closed',
    figure: 'start-up with N closed runs in the store',
    target: '≤ 300 ms (N = 100,000), flat in closed runs',
    meets: (v) => v <= 300,
  },
  {
    id: 'hot-reload',
    figure: 'hot reload: file saved → new code serving new runs',
    target: '≤ 100 ms',
    meets: (v) => v <= 100,
  },
  {
    id: 'mem-evicted',
    figure: 'memory per evicted waiting run',
    target: '≤ 2 KB',
    meets: (v) => v <= 2,
  },
  {
    id: 'mem-cached',
    figure: 'memory per cached waiting run',
    target: '≤ 30 KB',
    meets: (v) => v <= 30,
  },
  {
    id: 'mem-closed',
    figure: 'memory kept per closed run',
    target: '~0 (taken as ≤ 0.1 KB)',
    meets: (v) => v <= 0.1,
  },
];

/** The cases that give the figures and floors (what `--quick` runs). */
export const TARGET_CASES = [
  'floors',
  'file-steps',
  'memory-steps',
  'replay',
  'starts',
  'heap',
  'closed-memory',
  'dev-http',
  'dev-reload',
  'dev-restart',
  'dev-startup',
];

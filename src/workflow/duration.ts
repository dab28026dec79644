export { type Duration, MAX_DURATION_MS, optionalMs, toMs } from '../common/duration.js';

export { type Duration, optionalMs, toMs } from '../common/duration.js';

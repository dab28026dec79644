import { isAbsolute, relative, sep } from 'node:path';
import { TraceMap, traceSegment } from '@jridgewell/trace-mapping';
import type { CallSite } from '../history/events.js';

/**
 * What mapping a stack back to source needs of a bundle (a `WorkflowBundle` has it). Declared here
 * rather than imported from the bundler, so the bundler can use this module without a cycle.
 */
export interface SourceMappedBundle {
  /** JSON source map of the bundle's code; its `sources` are absolute paths. */
  sourceMap: string;
  /** The name the bundle was evaluated under (`vm.Script` filename). */
  filename: string;
  /** Absolute paths of the user's files in the bundle. */
  inputs: readonly string[];
  /** The directory that paths in messages are relative to. */
  projectRoot: string;
}

interface BundleIndex {
  map: TraceMap;
  /** The map's `sources`, by index, as absolute paths (or `namespace:` names for generated modules). */
  sources: readonly string[];
  userFiles: ReadonlySet<string>;
}

const indexes = new WeakMap<SourceMappedBundle, BundleIndex>();

function indexOf(bundle: SourceMappedBundle): BundleIndex {
  let index = indexes.get(bundle);
  if (!index) {
    const map = new TraceMap(bundle.sourceMap);
    const raw = JSON.parse(bundle.sourceMap) as { sources: string[] };
    index = { map, sources: raw.sources, userFiles: new Set(bundle.inputs) };
    indexes.set(bundle, index);
  }
  return index;
}

/** Each `file:line:column` a V8 stack frame names, in order (innermost first). */
export function parseStackFrames(stack: string): { file: string; line: number; column: number }[] {
  const frames: { file: string; line: number; column: number }[] = [];
  for (const text of stack.split('\n')) {
    // `    at fn (file:1:2)`, `    at file:1:2`, `    at async fn (file:1:2)`
    const match = /^\s*at (?:.*?\()?(.+?):(\d+):(\d+)\)?\s*$/.exec(text);
    if (match) frames.push({ file: match[1]!, line: Number(match[2]), column: Number(match[3]) });
  }
  return frames;
}

/**
 * Maps a stack captured inside the sandbox to the first frame in the user's own workflow code
 * (skipping wf's runtime, node_modules and generated modules), with `file` absolute (made
 * project-relative before it is recorded). Undefined when no frame is the user's. The bundle must
 * have been evaluated as a `vm.Script` named `bundle.filename` with no line or column offset.
 */
export function resolveCallSite(bundle: SourceMappedBundle, stack: string): CallSite | undefined {
  const index = indexOf(bundle);
  for (const frame of parseStackFrames(stack)) {
    if (frame.file !== bundle.filename) continue;
    // Stack positions count from 1; source maps count columns from 0.
    const segment = traceSegment(index.map, frame.line - 1, frame.column - 1);
    // [generatedColumn, sourceIndex, sourceLine, sourceColumn, nameIndex?]; length 1 means unmapped.
    if (!segment || segment.length < 4) continue;
    const [, sourceIndex, line, column] = segment as readonly [number, number, number, number];
    const file = index.sources[sourceIndex];
    if (file === undefined || !index.userFiles.has(file)) continue;
    return { file, line: line + 1, column: column + 1 };
  }
  return undefined;
}

/** `file` relative to `root` with `/` separators, for messages; unchanged when outside `root`. */
export function relativeTo(root: string, file: string): string {
  if (!isAbsolute(file)) return file;
  const rel = relative(root, file);
  if (rel.startsWith('..') || isAbsolute(rel)) return file.split(sep).join('/');
  return rel.split(sep).join('/');
}

/** `src/workflows/order.ts:12:5`, relative to the bundle's project. */
export function formatCallSite(bundle: SourceMappedBundle, site: CallSite): string {
  return `${relativeTo(bundle.projectRoot, site.file)}:${site.line}:${site.column}`;
}

/**
 * The rules every payload (workflow and activity arguments and results, signal, update and query
 * arguments, memos, failure details) obeys, wherever it enters wf: the HTTP API, the client, workflow
 * code, activity code. Free of Node imports: the workflow sandbox uses it too.
 *
 * A payload is whatever `JSON.stringify` writes for it, and reads back as `JSON.parse` of that text:
 * `-0` is recorded as `0`, `undefined` array elements as `null`, lone surrogates as `\udxxx` escapes
 * (and read back as the same lone surrogates), `"__proto__"` keys as own data properties (never a
 * prototype). What must be refused is what cannot be written or read back safely: values that are
 * not JSON (cycles, BigInt) and nesting deeper than MAX_PAYLOAD_DEPTH, which would overflow the stack
 * of a serializer somewhere downstream.
 */

/** Deepest nesting of arrays and objects in one payload (a scalar has depth 0, `[]` depth 1). */
export const MAX_PAYLOAD_DEPTH = 256;

/**
 * Deepest nesting of one history line: a payload at its deepest, inside its event (a failure's
 * details sit under up to 64 causes), still fits.
 */
export const MAX_EVENT_DEPTH = 512;

/** How deeply the arrays and objects of a JSON text nest (iterative: any depth is measured safely). */
export function jsonTextDepth(text: string): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c /* \ */) i++;
      else if (c === 0x22 /* " */) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x5b /* [ */ || c === 0x7b /* { */) {
      depth++;
      if (depth > max) max = depth;
    } else if (c === 0x5d /* ] */ || c === 0x7d /* } */) {
      depth--;
    }
  }
  return max;
}

/** The JSON text of a payload, or why it has none. Never throws. */
export function payloadJson(value: unknown): { json: string } | { problem: string } {
  let json: string | undefined;
  try {
    json = JSON.stringify(value);
  } catch (error) {
    if (error instanceof RangeError || (error as Error)?.name === 'RangeError') {
      return { problem: `nests deeper than ${MAX_PAYLOAD_DEPTH} levels of arrays and objects` };
    }
    return { problem: `is not JSON-serializable: ${(error as Error)?.message ?? String(error)}` };
  }
  if (json === undefined) return { json: 'null' };
  // Each level takes two characters at least: a shorter text cannot nest too deeply.
  if (json.length <= 2 * MAX_PAYLOAD_DEPTH) return { json };
  const depth = jsonTextDepth(json);
  if (depth > MAX_PAYLOAD_DEPTH) {
    return {
      problem: `nests ${depth} levels of arrays and objects deep: the most is ${MAX_PAYLOAD_DEPTH}`,
    };
  }
  return { json };
}

/**
 * Why `value` cannot be recorded as a payload (to follow its name, e.g. `"memo" ${problem}`), or
 * undefined when it can.
 */
export function payloadProblem(value: unknown): string | undefined {
  const result = payloadJson(value);
  return 'problem' in result ? result.problem : undefined;
}

/** Lone surrogates make a string that is not well-formed Unicode (it has no UTF-8 encoding). */
export function isWellFormedUnicode(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const next = text.charCodeAt(i + 1);
      if (!(next >= 0xdc00 && next <= 0xdfff)) return false;
      i++;
    } else if (c >= 0xdc00 && c <= 0xdfff) {
      return false;
    }
  }
  return true;
}

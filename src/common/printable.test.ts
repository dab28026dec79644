import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { awkwardJson } from '../../test/support/json-arbitraries.js';
import { printable, printableLines, terminalJson } from './printable.js';

describe('printable', () => {
  it('escapes control characters', () => {
    expect(printable('a\u001b[2Jb\nc\rd\u0007\u009b')).toBe('a\\u001b[2Jb\\nc\\rd\\u0007\\u009b');
  });

  it('escapes bidirectional overrides, isolates and marks, and line separators ("Trojan Source")', () => {
    const hidden = ['\u202a', '\u202b', '\u202c', '\u202d', '\u202e', '\u2066', '\u2067', '\u2068', '\u2069'];
    const marks = ['\u200e', '\u200f', '\u061c', '\u2028', '\u2029'];
    for (const c of [...hidden, ...marks]) {
      expect(printable(`x${c}y`)).toBe(`x\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}y`);
    }
    expect(printable('invoice-\u202egnp.exe')).toBe('invoice-\\u202egnp.exe');
  });

  it('leaves ordinary text alone, right-to-left scripts and emoji included', () => {
    for (const text of ['order-1001', 'héllo ✓ 😀', 'שלום', 'مرحبا', 'tab\there']) {
      expect(printable(text)).toBe(text);
    }
  });
});

describe('printableLines', () => {
  it('keeps line breaks and escapes everything else', () => {
    expect(printableLines('Error: boom \u001b[2J\n  at \u202efile\r')).toBe(
      'Error: boom \\u001b[2J\n  at \\u202efile\\r',
    );
  });
});

describe('terminalJson', () => {
  it('escapes C1 controls and reordering characters, and parses back to the same value', () => {
    expect(terminalJson(JSON.stringify({ id: 'a\u202eb\u009b[2J\u2028' }))).toBe(
      '{"id":"a\\u202eb\\u009b[2J\\u2028"}',
    );
    fc.assert(
      fc.property(awkwardJson, (v) => {
        const json = terminalJson(JSON.stringify(v) ?? 'null');
        // Everything left in the text prints as itself: printable() finds nothing to escape.
        expect(printable(json)).toBe(json);
        expect(JSON.stringify(JSON.parse(json))).toBe(JSON.stringify(v) ?? 'null');
      }),
      { numRuns: 300 },
    );
  });
});

import { describe, expect, it } from 'vitest';
import { printable } from './printable.js';

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

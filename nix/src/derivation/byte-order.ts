/**
 * Bytewise (memcmp of UTF-8) ordering of JS strings without encoding them. UTF-8 byte order equals
 * Unicode code point order; UTF-16 code unit order differs from it only when a surrogate
 * (U+D800–U+DFFF, i.e. a code point ≥ U+10000) meets a code unit in U+E000–U+FFFF. We compare code
 * units and fix up exactly that case, so the comparison is O(common prefix) with no allocation.
 */
export function compareUtf8(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    if (x >= 0xd800 && y >= 0xd800) {
      x = fixupForCodePointOrder(x);
      y = fixupForCodePointOrder(y);
    }
    return x < y ? -1 : 1;
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}

/** Moves surrogates above U+E000–U+FFFF so code unit order matches code point order. */
function fixupForCodePointOrder(unit: number): number {
  return unit >= 0xe000 ? unit - 0x800 : unit + 0x2000;
}

export function sortUtf8(items: Iterable<string>): string[] {
  return [...items].sort(compareUtf8);
}

import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { subsetFont } from "../src/screenshot/font";

// Debian's DejaVu (the font the screenshot benchmark serves); skipped where it is missing.
const FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSansCondensed.ttf";
const have = existsSync(FONT);

function load(): ArrayBuffer {
  const b = readFileSync(FONT);
  return b.buffer.slice(b.byteOffset, b.byteOffset + b.length) as ArrayBuffer;
}

function tables(buf: ArrayBuffer): Map<string, { offset: number; length: number }> {
  const v = new DataView(buf);
  const out = new Map<string, { offset: number; length: number }>();
  for (let i = 0; i < v.getUint16(4); i++) {
    const at = 12 + 16 * i;
    const tag = String.fromCharCode(...new Uint8Array(buf, at, 4));
    out.set(tag, { offset: v.getUint32(at + 8), length: v.getUint32(at + 12) });
  }
  return out;
}

/** Glyph byte lengths from head + loca + maxp of a font. */
function glyphLengths(buf: ArrayBuffer): number[] {
  const v = new DataView(buf);
  const t = tables(buf);
  const long = v.getInt16(t.get("head")!.offset + 50) === 1;
  const n = v.getUint16(t.get("maxp")!.offset + 4);
  const at = (g: number) => (long ? v.getUint32(t.get("loca")!.offset + 4 * g) : 2 * v.getUint16(t.get("loca")!.offset + 2 * g));
  return Array.from({ length: n }, (_, g) => at(g + 1) - at(g));
}

test("not a TrueType font: returned unchanged", () => {
  const junk = new Uint8Array([0x77, 0x4f, 0x46, 0x32, 0, 0, 0, 0]).buffer; // "wOF2"
  assert.equal(subsetFont(junk, new Set([65])), junk);
  const truncated = new Uint8Array([0, 1, 0, 0, 0, 9]).buffer;
  assert.equal(subsetFont(truncated, new Set([65])), truncated);
});

const codes = (s: string) => new Set([...s].map((c) => c.codePointAt(0)!));

test("compact subset: only the glyphs of the text, renumbered, kerning kept", { skip: !have && "no DejaVu font" }, () => {
  const full = load();
  const small = subsetFont(full, codes("AVATAR Hello"), "AVATAR Hello");
  const lengths = glyphLengths(small);
  // .notdef + " AVTRHelo" (9 characters): DejaVu's A, V... are simple glyphs, no components.
  assert.equal(lengths.length, 10);
  assert.ok(small.byteLength < 40_000, `${small.byteLength} B`);
  const t = tables(small);
  for (const gone of ["GSUB", "GPOS", "GDEF", "MATH", "FFTM"]) assert.ok(!t.has(gone), gone);
  assert.ok(t.has("kern") && t.has("cmap") && t.has("hmtx"));
  const v = new DataView(small);
  const kern = t.get("kern")!.offset;
  assert.ok(v.getUint16(kern + 10) > 0, "kerning pairs of the kept glyphs (A-V, A-T ...)");
  assert.equal(v.getUint16(t.get("hhea")!.offset + 34), 10); // one metric per glyph
});

test("a ligature in the text keeps glyph ids and GSUB (the ligature glyph is not encoded)", { skip: !have && "no DejaVu font" }, () => {
  const full = load();
  const withLigature = subsetFont(full, codes("office"), "office");
  assert.equal(glyphLengths(withLigature).length, glyphLengths(full).length);
  assert.ok(tables(withLigature).has("GSUB"));
  // Without the text, a font with ligatures on by default cannot be compacted either.
  assert.equal(glyphLengths(subsetFont(full, codes("Hello"))).length, glyphLengths(full).length);
  // Text that needs shaping (Arabic) is never compacted.
  assert.equal(glyphLengths(subsetFont(full, codes("\u0644\u0627"), "\u0644\u0627")).length, glyphLengths(full).length);
});

test("subset keeps glyph ids, the used outlines and every other glyph count", { skip: !have && "no DejaVu font" }, () => {
  const full = load();
  const small = subsetFont(full, codes("Hello"));
  assert.ok(small.byteLength < full.byteLength / 3, `${small.byteLength} of ${full.byteLength}`);
  const before = glyphLengths(full), after = glyphLengths(small);
  assert.equal(after.length, before.length); // same numGlyphs: GSUB/GPOS/hmtx stay valid
  const t = tables(full);
  // The glyph of "H" via a plain lookup of the old font's format-4 cmap is kept, whole.
  const v = new DataView(full);
  const cmap = t.get("cmap")!.offset;
  let sub = -1;
  for (let i = 0; i < v.getUint16(cmap + 2); i++) {
    const off = cmap + v.getUint32(cmap + 8 + 8 * i);
    if (v.getUint16(cmap + 4 + 8 * i) === 3 && v.getUint16(cmap + 6 + 8 * i) === 1 && v.getUint16(off) === 4) sub = off;
  }
  assert.ok(sub > 0);
  const gidOf = (c: number) => {
    const segs = v.getUint16(sub + 6) / 2;
    for (let s = 0; s < segs; s++) {
      const end = v.getUint16(sub + 14 + 2 * s), start = v.getUint16(sub + 16 + 2 * segs + 2 * s);
      if (c < start || c > end) continue;
      const delta = v.getInt16(sub + 16 + 4 * segs + 2 * s), range = v.getUint16(sub + 16 + 6 * segs + 2 * s);
      if (range === 0) return (c + delta) & 0xffff;
      const g = v.getUint16(sub + 16 + 6 * segs + 2 * s + range + 2 * (c - start));
      return g ? (g + delta) & 0xffff : 0;
    }
    return 0;
  };
  for (const c of "Hello") assert.equal(after[gidOf(c.codePointAt(0)!)], before[gidOf(c.codePointAt(0)!)], c);
  // An encoded glyph nobody uses loses its outline.
  const omega = gidOf(0x3a9); // Greek capital omega: not in the text, not in ASCII/Latin-1
  assert.ok(before[omega]! > 0 && after[omega] === 0);
  // Directory: 4-byte aligned tables inside the file, sorted tags.
  const tags = [...tables(small).keys()];
  assert.deepEqual(tags, [...tags].sort());
  for (const [tag, { offset, length }] of tables(small)) {
    assert.equal(offset % 4, 0, tag);
    assert.ok(offset + length <= small.byteLength, tag);
  }
  assert.ok(!tables(small).has("DSIG"));
});

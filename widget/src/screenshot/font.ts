// TrueType subsetting for the SVG screenshot: only the glyphs of the characters on the page.
//
// Why: an SVG image cannot use the page's loaded fonts, so every web font is embedded as a
// data: URL, and the browser decodes and sanitises the whole file again for each capture, on
// the main thread: ~130-200 ms per face for a 680 KB TrueType font, the capture's longest task.
// Dropping the outlines of the characters nobody shows cuts that to a few ms.
//
// Glyph ids are kept (the unused glyphs become empty), so every other table (metrics,
// kerning, GSUB/GPOS, hinting) stays valid unchanged. Only glyphs reachable from the
// character map are candidates for dropping: ligatures and alternates that GSUB may
// substitute in are never encoded, so they are always kept. Anything that is not a plain
// TrueType font (WOFF, WOFF2, CFF, collections) or does not parse is returned unchanged.

interface Table {
  tag: string;
  offset: number;
  length: number;
}

// Character maps of the font files seen, parsed once per file (thousands of entries).
const maps = new WeakMap<ArrayBuffer, Map<number, number> | null>();

export function subsetFont(buf: ArrayBuffer, chars: ReadonlySet<number>): ArrayBuffer {
  try {
    return subset(buf, chars) ?? buf;
  } catch {
    return buf;
  }
}

function subset(buf: ArrayBuffer, chars: ReadonlySet<number>): ArrayBuffer | null {
  const v = new DataView(buf);
  const version = v.getUint32(0);
  if (version !== 0x00010000 && version !== 0x74727565 /* 'true' */) return null;
  const count = v.getUint16(4);
  const tables = new Map<string, Table>();
  for (let i = 0; i < count; i++) {
    const at = 12 + 16 * i;
    const tag = String.fromCharCode(v.getUint8(at), v.getUint8(at + 1), v.getUint8(at + 2), v.getUint8(at + 3));
    tables.set(tag, { tag, offset: v.getUint32(at + 8), length: v.getUint32(at + 12) });
  }
  const head = tables.get("head"), loca = tables.get("loca"), glyf = tables.get("glyf");
  const maxp = tables.get("maxp"), cmap = tables.get("cmap");
  if (!head || !loca || !glyf || !maxp || !cmap) return null;
  const numGlyphs = v.getUint16(maxp.offset + 4);
  const longLoca = v.getInt16(head.offset + 50) === 1;
  const glyphAt = (g: number): [number, number] => {
    const a = longLoca ? v.getUint32(loca.offset + 4 * g) : v.getUint16(loca.offset + 2 * g) * 2;
    const b = longLoca ? v.getUint32(loca.offset + 4 * g + 4) : v.getUint16(loca.offset + 2 * g + 2) * 2;
    return [glyf.offset + a, Math.max(0, b - a)];
  };

  let encoded = maps.get(buf);
  if (encoded === undefined) maps.set(buf, (encoded = charMap(v, cmap.offset)));
  if (!encoded) return null;
  const keep = new Uint8Array(numGlyphs).fill(1);
  for (const g of encoded.values()) if (g < numGlyphs) keep[g] = 0;
  keep[0] = 1; // .notdef
  for (const c of chars) {
    const g = encoded.get(c);
    if (g !== undefined && g < numGlyphs) keep[g] = 1;
  }
  // Composite glyphs draw other glyphs: keep their components (and theirs).
  const stack: number[] = [];
  for (let g = 0; g < numGlyphs; g++) if (keep[g]) stack.push(g);
  while (stack.length) {
    const [at, len] = glyphAt(stack.pop()!);
    if (len < 10 || v.getInt16(at) >= 0) continue;
    let p = at + 10;
    for (;;) {
      const flags = v.getUint16(p);
      const comp = v.getUint16(p + 2);
      if (comp < numGlyphs && !keep[comp]) {
        keep[comp] = 1;
        stack.push(comp);
      }
      p += 4 + (flags & 1 ? 4 : 2) + (flags & 8 ? 2 : flags & 0x40 ? 4 : flags & 0x80 ? 8 : 0);
      if (!(flags & 0x20)) break;
    }
  }

  // The new glyf (kept glyphs, 4-byte aligned) and a long-format loca.
  let glyfSize = 0;
  for (let g = 0; g < numGlyphs; g++) if (keep[g]) glyfSize += (glyphAt(g)[1] + 3) & ~3;
  const newGlyf = new Uint8Array(glyfSize);
  const newLoca = new DataView(new ArrayBuffer(4 * (numGlyphs + 1)));
  const src = new Uint8Array(buf);
  let pos = 0;
  for (let g = 0; g < numGlyphs; g++) {
    newLoca.setUint32(4 * g, pos);
    if (!keep[g]) continue;
    const [at, len] = glyphAt(g);
    newGlyf.set(src.subarray(at, at + len), pos);
    pos += (len + 3) & ~3;
  }
  newLoca.setUint32(4 * numGlyphs, pos);

  const out = new Map<string, Uint8Array>();
  for (const t of tables.values()) {
    if (DROP.has(t.tag)) continue;
    out.set(t.tag, src.slice(t.offset, t.offset + t.length));
  }
  // 'kern' is ignored by the shaper when GPOS has kerning (the usual case): not worth decoding.
  const gpos = tables.get("GPOS");
  if (gpos && hasFeature(v, gpos.offset, "kern")) out.delete("kern");
  out.set("glyf", newGlyf);
  // Short offsets (half the size) when the new glyf is small enough for them.
  const short = pos < 0x20000;
  const locaBytes = new DataView(new ArrayBuffer((short ? 2 : 4) * (numGlyphs + 1)));
  for (let g = 0; g <= numGlyphs; g++) {
    const off = newLoca.getUint32(4 * g);
    if (short) locaBytes.setUint16(2 * g, off / 2);
    else locaBytes.setUint32(4 * g, off);
  }
  out.set("loca", new Uint8Array(locaBytes.buffer));
  new DataView(out.get("head")!.buffer).setInt16(50, short ? 0 : 1); // indexToLocFormat
  new DataView(out.get("head")!.buffer).setUint32(8, 0); // checkSumAdjustment: not recomputed
  const post = out.get("post");
  if (post && post.length >= 32) {
    // Version 3: no glyph names (tens of KB in many fonts, never needed to draw).
    const p = post.slice(0, 32);
    new DataView(p.buffer).setUint32(0, 0x00030000);
    out.set("post", p);
  }
  return assemble(version, out);
}

// Tables no text drawing needs: a signature of the old file (invalid now), FontForge's
// timestamp, math layout (formulas), and bitmap/device metrics caches.
const DROP = new Set(["DSIG", "FFTM", "MATH", "hdmx", "LTSH", "VDMX"]);

/** Whether a GSUB/GPOS table lists `tag` among its features. */
function hasFeature(v: DataView, at: number, tag: string): boolean {
  const list = at + v.getUint16(at + 6);
  const n = v.getUint16(list);
  for (let i = 0; i < n; i++) {
    const r = list + 2 + 6 * i;
    if (String.fromCharCode(v.getUint8(r), v.getUint8(r + 1), v.getUint8(r + 2), v.getUint8(r + 3)) === tag) return true;
  }
  return false;
}

function assemble(version: number, tables: Map<string, Uint8Array>): ArrayBuffer {
  const tags = Array.from(tables.keys()).sort();
  const n = tags.length;
  let size = 12 + 16 * n;
  for (const t of tags) size += (tables.get(t)!.length + 3) & ~3;
  const buf = new ArrayBuffer(size);
  const v = new DataView(buf);
  const bytes = new Uint8Array(buf);
  let pow = 1, log = 0;
  while (pow * 2 <= n) (pow *= 2), log++;
  v.setUint32(0, version);
  v.setUint16(4, n);
  v.setUint16(6, pow * 16);
  v.setUint16(8, log);
  v.setUint16(10, n * 16 - pow * 16);
  let at = 12 + 16 * n;
  tags.forEach((tag, i) => {
    const data = tables.get(tag)!;
    const rec = 12 + 16 * i;
    for (let k = 0; k < 4; k++) v.setUint8(rec + k, tag.charCodeAt(k));
    bytes.set(data, at);
    v.setUint32(rec + 4, checksum(v, at, data.length));
    v.setUint32(rec + 8, at);
    v.setUint32(rec + 12, data.length);
    at += (data.length + 3) & ~3;
  });
  return buf;
}

function checksum(v: DataView, at: number, length: number): number {
  let sum = 0;
  const end = at + ((length + 3) & ~3);
  for (let p = at; p < end; p += 4) sum = (sum + v.getUint32(p)) >>> 0;
  return sum;
}

/** Code point -> glyph id from the best Unicode subtable (format 12, else format 4). */
function charMap(v: DataView, at: number): Map<number, number> | null {
  const n = v.getUint16(at + 2);
  let best = -1, bestScore = 0;
  for (let i = 0; i < n; i++) {
    const platform = v.getUint16(at + 4 + 8 * i);
    const encoding = v.getUint16(at + 6 + 8 * i);
    const off = at + v.getUint32(at + 8 + 8 * i);
    const format = v.getUint16(off);
    const unicode = platform === 0 || (platform === 3 && (encoding === 1 || encoding === 10));
    const score = !unicode ? 0 : format === 12 ? 2 : format === 4 ? 1 : 0;
    if (score > bestScore) (best = off), (bestScore = score);
  }
  if (best < 0) return null;
  const map = new Map<number, number>();
  if (bestScore === 2) {
    const groups = v.getUint32(best + 12);
    for (let i = 0; i < groups; i++) {
      const g = best + 16 + 12 * i;
      const start = v.getUint32(g), end = v.getUint32(g + 4), gid = v.getUint32(g + 8);
      if (end - start > 0x10ffff) return null;
      for (let c = start; c <= end; c++) map.set(c, gid + c - start);
    }
    return map;
  }
  const segs = v.getUint16(best + 6) / 2;
  const ends = best + 14, starts = ends + 2 * segs + 2, deltas = starts + 2 * segs, ranges = deltas + 2 * segs;
  for (let s = 0; s < segs; s++) {
    const end = v.getUint16(ends + 2 * s), start = v.getUint16(starts + 2 * s);
    const delta = v.getInt16(deltas + 2 * s), range = v.getUint16(ranges + 2 * s);
    for (let c = start; c <= end && c !== 0xffff; c++) {
      let g: number;
      if (range === 0) g = (c + delta) & 0xffff;
      else {
        const p = ranges + 2 * s + range + 2 * (c - start);
        g = v.getUint16(p);
        if (g !== 0) g = (g + delta) & 0xffff;
      }
      if (g !== 0) map.set(c, g);
    }
  }
  return map;
}

/** Characters any text in `root` may be drawn with: its text and field values, the CSS
 *  (generated `content:`), both cases of each (text-transform), and what the browser draws
 *  on its own (list numbers and bullets, ellipsis, hyphens, quotes). */
export function charsOf(root: Element, css: string): Set<number> {
  const out = new Set<number>();
  const add = (s: string | null | undefined) => {
    if (!s) return;
    for (const ch of s) {
      out.add(ch.codePointAt(0)!);
      const up = ch.toUpperCase(), low = ch.toLowerCase();
      for (const c of up) out.add(c.codePointAt(0)!);
      for (const c of low) out.add(c.codePointAt(0)!);
    }
  };
  for (let c = 0x20; c < 0x7f; c++) out.add(c);
  for (let c = 0xa0; c <= 0xff; c++) out.add(c);
  add("\u2022\u25e6\u25aa\u2026\u2010\u2013\u2014\u2018\u2019\u201c\u201d\u00ab\u00bb\u2039\u203a");
  add(root.textContent);
  root.querySelectorAll("input[value]").forEach((el) => add(el.getAttribute("value")));
  root.querySelectorAll("[placeholder]").forEach((el) => add(el.getAttribute("placeholder")));
  add(css);
  return out;
}

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

/** `text`: the text drawn (for the ligature check of the compact path; without it, a font
 *  with ligatures on by default keeps its glyph ids). */
export function subsetFont(buf: ArrayBuffer, chars: ReadonlySet<number>, text?: string): ArrayBuffer {
  try {
    return compact(buf, chars, text) ?? subset(buf, chars) ?? buf;
  } catch {
    try {
      return subset(buf, chars) ?? buf;
    } catch {
      return buf;
    }
  }
}

/** Characters drawn glyph by glyph, without shaping: Latin, Greek, Cyrillic and common
 *  punctuation and symbols, without combining marks. Text of only these needs no GSUB/GPOS
 *  other than kerning. */
function simple(c: number): boolean {
  return (
    c < 0x300 ||
    (c >= 0x370 && c < 0x483) ||
    (c >= 0x48a && c < 0x590) ||
    (c >= 0x1e00 && c < 0x20d0) ||
    (c >= 0x2100 && c < 0x2de0)
  );
}

// Tables the compact path knows how to carry over (or may leave out); a font with any other
// (colour glyphs, vertical metrics, variations ...) keeps its glyph ids instead.
const KEEP = new Set(["head", "hhea", "maxp", "hmtx", "cmap", "loca", "glyf", "post", "name", "OS/2", "cvt ", "fpgm", "prep", "gasp"]);
const LEAVE = new Set(["kern", "GPOS", "GSUB", "GDEF", "BASE", "JSTF", "meta", "DSIG", "FFTM", "MATH", "hdmx", "LTSH", "VDMX"]);

/** The small subset: only the glyphs used, renumbered, with a new cmap, hmtx and kern.
 *  Drops GSUB/GPOS, so only for text that needs no shaping (simple()), fonts without
 *  ligatures or contextual forms on by default, and kerning that a legacy 'kern' table also
 *  carries (HarfBuzz applies it when there is no GPOS). ~20 KB instead of ~150 KB for
 *  DejaVu: its decode in the SVG image is the capture's longest task. */
function compact(buf: ArrayBuffer, chars: ReadonlySet<number>, text?: string): ArrayBuffer | null {
  for (const c of chars) if (!simple(c)) return null;
  const v = new DataView(buf);
  const version = v.getUint32(0);
  if (version !== 0x00010000 && version !== 0x74727565) return null;
  const tables = new Map<string, Table>();
  for (let i = 0; i < v.getUint16(4); i++) {
    const at = 12 + 16 * i;
    const tag = String.fromCharCode(v.getUint8(at), v.getUint8(at + 1), v.getUint8(at + 2), v.getUint8(at + 3));
    if (!KEEP.has(tag) && !LEAVE.has(tag)) return null;
    tables.set(tag, { tag, offset: v.getUint32(at + 8), length: v.getUint32(at + 12) });
  }
  const t = (tag: string) => tables.get(tag);
  const head = t("head"), hhea = t("hhea"), maxp = t("maxp"), hmtx = t("hmtx"), cmap = t("cmap");
  const loca = t("loca"), glyf = t("glyf"), gsub = t("GSUB"), gpos = t("GPOS"), kern = t("kern");
  if (!head || !hhea || !maxp || !hmtx || !cmap || !loca || !glyf) return null;
  if (gpos && hasFeature(v, gpos.offset, "kern") && !kern) return null;
  const numGlyphs = v.getUint16(maxp.offset + 4);
  let encoded = maps.get(buf);
  if (encoded === undefined) maps.set(buf, (encoded = charMap(v, cmap.offset)));
  if (!encoded) return null;
  if (gsub) {
    // Ligatures on by default are fine as long as none of them can form in this text.
    const lookups = scriptLookups(v, gsub.offset, ["DFLT", "latn", "grek", "cyrl"], ["liga", "clig", "calt", "rlig"]);
    if (lookups.size && (text === undefined || ligatureMayForm(v, gsub.offset, lookups, text, encoded))) return null;
  }
  const longLoca = v.getInt16(head.offset + 50) === 1;
  const glyphAt = (g: number): [number, number] => {
    const a = longLoca ? v.getUint32(loca.offset + 4 * g) : v.getUint16(loca.offset + 2 * g) * 2;
    const b = longLoca ? v.getUint32(loca.offset + 4 * g + 4) : v.getUint16(loca.offset + 2 * g + 2) * 2;
    return [glyf.offset + a, Math.max(0, b - a)];
  };

  // Glyphs: .notdef, those of the characters, and the components of composite glyphs.
  const keep = new Set<number>([0]);
  const codes: number[] = [];
  for (const c of chars) {
    const g = encoded.get(c);
    if (g === undefined || g >= numGlyphs || c > 0xfffe) continue;
    keep.add(g);
    codes.push(c);
  }
  const stack = Array.from(keep);
  while (stack.length) {
    const [at, len] = glyphAt(stack.pop()!);
    if (len < 10 || v.getInt16(at) >= 0) continue;
    for (let p = at + 10; ; ) {
      const flags = v.getUint16(p), comp = v.getUint16(p + 2);
      if (comp < numGlyphs && !keep.has(comp)) keep.add(comp), stack.push(comp);
      p += 4 + (flags & 1 ? 4 : 2) + (flags & 8 ? 2 : flags & 0x40 ? 4 : flags & 0x80 ? 8 : 0);
      if (!(flags & 0x20)) break;
    }
  }
  const olds = Array.from(keep).sort((a, b) => a - b);
  const newId = new Map<number, number>();
  olds.forEach((g, i) => newId.set(g, i));
  const n = olds.length;
  const src = new Uint8Array(buf);

  // glyf + loca, component references renumbered.
  let size = 0;
  for (const g of olds) size += (glyphAt(g)[1] + 3) & ~3;
  const glyfOut = new Uint8Array(size);
  const gv = new DataView(glyfOut.buffer);
  const offsets: number[] = [];
  let pos = 0;
  for (const g of olds) {
    offsets.push(pos);
    const [at, len] = glyphAt(g);
    glyfOut.set(src.subarray(at, at + len), pos);
    if (len >= 10 && gv.getInt16(pos) < 0) {
      for (let p = pos + 10; ; ) {
        const flags = gv.getUint16(p);
        gv.setUint16(p + 2, newId.get(gv.getUint16(p + 2)) ?? 0);
        p += 4 + (flags & 1 ? 4 : 2) + (flags & 8 ? 2 : flags & 0x40 ? 4 : flags & 0x80 ? 8 : 0);
        if (!(flags & 0x20)) break;
      }
    }
    pos += (len + 3) & ~3;
  }
  offsets.push(pos);
  const short = pos < 0x20000;
  const locaOut = new DataView(new ArrayBuffer((short ? 2 : 4) * (n + 1)));
  offsets.forEach((o, i) => (short ? locaOut.setUint16(2 * i, o / 2) : locaOut.setUint32(4 * i, o)));

  // hmtx: a full metric per glyph.
  const nhm = v.getUint16(hhea.offset + 34);
  const hmtxOut = new DataView(new ArrayBuffer(4 * n));
  olds.forEach((g, i) => {
    const m = Math.min(g, nhm - 1);
    hmtxOut.setUint16(4 * i, v.getUint16(hmtx.offset + 4 * m));
    hmtxOut.setInt16(4 * i + 2, g < nhm ? v.getInt16(hmtx.offset + 4 * g + 2) : v.getInt16(hmtx.offset + 4 * nhm + 2 * (g - nhm)));
  });

  const out = new Map<string, Uint8Array>();
  for (const tag of KEEP) {
    const tb = tables.get(tag);
    if (tb) out.set(tag, src.slice(tb.offset, tb.offset + tb.length));
  }
  out.set("glyf", glyfOut);
  out.set("loca", new Uint8Array(locaOut.buffer));
  out.set("hmtx", new Uint8Array(hmtxOut.buffer));
  out.set("cmap", cmap4(codes.map((c) => [c, newId.get(encoded!.get(c)!)!] as [number, number])));
  const headOut = new DataView(out.get("head")!.buffer);
  headOut.setInt16(50, short ? 0 : 1);
  headOut.setUint32(8, 0);
  new DataView(out.get("hhea")!.buffer).setUint16(34, n);
  new DataView(out.get("maxp")!.buffer).setUint16(4, n);
  const post = out.get("post");
  if (post && post.length >= 32) {
    const p = post.slice(0, 32);
    new DataView(p.buffer).setUint32(0, 0x00030000);
    out.set("post", p);
  }
  if (kern) {
    const k = kern0(v, kern.offset, newId);
    if (!k) return null;
    out.set("kern", k);
  }
  return assemble(version, out);
}

/** A Windows Unicode BMP cmap (format 4) for [code, glyph] pairs. */
function cmap4(pairs: Array<[number, number]>): Uint8Array {
  pairs.sort((a, b) => a[0] - b[0]);
  const segs: Array<[number, number, number]> = []; // start, end, delta
  for (const [c, g] of pairs) {
    const last = segs[segs.length - 1];
    if (last && c === last[1] + 1 && ((g - c) & 0xffff) === last[2]) last[1] = c;
    else segs.push([c, c, (g - c) & 0xffff]);
  }
  segs.push([0xffff, 0xffff, 1]);
  const segCount = segs.length;
  const subLen = 16 + 8 * segCount;
  const b = new DataView(new ArrayBuffer(12 + subLen));
  b.setUint16(2, 1); // one encoding record
  b.setUint16(4, 3);
  b.setUint16(6, 1);
  b.setUint32(8, 12);
  const s = 12;
  let pow = 1, log = 0;
  while (pow * 2 <= segCount) (pow *= 2), log++;
  b.setUint16(s, 4);
  b.setUint16(s + 2, subLen);
  b.setUint16(s + 6, segCount * 2);
  b.setUint16(s + 8, pow * 2);
  b.setUint16(s + 10, log);
  b.setUint16(s + 12, segCount * 2 - pow * 2);
  segs.forEach(([start, end, delta], i) => {
    b.setUint16(s + 14 + 2 * i, end);
    b.setUint16(s + 16 + 2 * segCount + 2 * i, start);
    b.setUint16(s + 16 + 4 * segCount + 2 * i, delta);
    // idRangeOffset stays 0: glyph = code + delta
  });
  return new Uint8Array(b.buffer);
}

/** The legacy kern table (version 0, one horizontal format-0 subtable) for the kept glyphs;
 *  null for any other layout. */
function kern0(v: DataView, at: number, newId: Map<number, number>): Uint8Array | null {
  if (v.getUint16(at) !== 0 || v.getUint16(at + 2) !== 1) return null;
  const sub = at + 4;
  const coverage = v.getUint16(sub + 4);
  if (coverage >> 8 !== 0 || (coverage & 0x0f) !== 1) return null; // format 0, horizontal, no cross-stream/override
  const count = v.getUint16(sub + 6);
  const pairs: Array<[number, number, number]> = [];
  for (let i = 0; i < count; i++) {
    const p = sub + 14 + 6 * i;
    const l = newId.get(v.getUint16(p)), r = newId.get(v.getUint16(p + 2));
    if (l !== undefined && r !== undefined) pairs.push([l, r, v.getInt16(p + 4)]);
  }
  pairs.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const len = 14 + 6 * pairs.length;
  const b = new DataView(new ArrayBuffer(4 + len));
  b.setUint16(2, 1);
  b.setUint16(6, len);
  b.setUint16(8, coverage);
  b.setUint16(10, pairs.length);
  let pow = 1, log = 0;
  while (pow * 2 <= pairs.length) (pow *= 2), log++;
  b.setUint16(12, pow * 6);
  b.setUint16(14, log);
  b.setUint16(16, pairs.length * 6 - pow * 6);
  pairs.forEach(([l, r, val], i) => {
    b.setUint16(18 + 6 * i, l);
    b.setUint16(20 + 6 * i, r);
    b.setInt16(22 + 6 * i, val);
  });
  return new Uint8Array(b.buffer);
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

/** Indices of the lookups that features `features` of a GSUB/GPOS table run for these
 *  scripts (any language system). */
function scriptLookups(v: DataView, at: number, scripts: string[], features: string[]): Set<number> {
  const tag = (p: number) => String.fromCharCode(v.getUint8(p), v.getUint8(p + 1), v.getUint8(p + 2), v.getUint8(p + 3));
  const scriptList = at + v.getUint16(at + 4);
  const featureList = at + v.getUint16(at + 6);
  const out = new Set<number>();
  const langSys = (p: number) => {
    const idx = [v.getUint16(p + 2)];
    for (let i = 0; i < v.getUint16(p + 4); i++) idx.push(v.getUint16(p + 6 + 2 * i));
    for (const f of idx) {
      if (f === 0xffff || !features.includes(tag(featureList + 2 + 6 * f))) continue;
      const feature = featureList + v.getUint16(featureList + 6 + 6 * f);
      for (let k = 0; k < v.getUint16(feature + 2); k++) out.add(v.getUint16(feature + 4 + 2 * k));
    }
  };
  for (let i = 0; i < v.getUint16(scriptList); i++) {
    const r = scriptList + 2 + 6 * i;
    if (!scripts.includes(tag(r))) continue;
    const script = scriptList + v.getUint16(r + 4);
    if (v.getUint16(script)) langSys(script + v.getUint16(script));
    for (let k = 0; k < v.getUint16(script + 2); k++) langSys(script + v.getUint16(script + 8 + 6 * k));
  }
  return out;
}

/** Whether one of these GSUB lookups could replace glyphs of `text` (in any case). Only
 *  ligature lookups (type 4, also behind extensions) are understood; any other type counts
 *  as "may". Text is scanned as one run: a sequence split across elements may be reported,
 *  never missed. */
function ligatureMayForm(v: DataView, at: number, lookups: Set<number>, text: string, cmap: Map<number, number>): boolean {
  const lookupList = at + v.getUint16(at + 8);
  const starts = new Map<number, number[][]>(); // first glyph -> the rest of each ligature
  for (const li of lookups) {
    const lookup = lookupList + v.getUint16(lookupList + 2 + 2 * li);
    let type = v.getUint16(lookup);
    for (let k = 0; k < v.getUint16(lookup + 4); k++) {
      let sub = lookup + v.getUint16(lookup + 6 + 2 * k);
      if (type === 7) {
        type = v.getUint16(sub + 2);
        sub += v.getUint32(sub + 4);
      }
      if (type !== 4 || v.getUint16(sub) !== 1) return true;
      const firsts = coverage(v, sub + v.getUint16(sub + 2));
      firsts.forEach((first, i) => {
        const set = sub + v.getUint16(sub + 6 + 2 * i);
        for (let j = 0; j < v.getUint16(set); j++) {
          const lig = set + v.getUint16(set + 2 + 2 * j);
          const rest: number[] = [];
          for (let c = 1; c < v.getUint16(lig + 2); c++) rest.push(v.getUint16(lig + 4 + 2 * (c - 1)));
          const list = starts.get(first) ?? [];
          list.push(rest);
          starts.set(first, list);
        }
      });
    }
  }
  for (const variant of [text, text.toUpperCase(), text.toLowerCase()]) {
    const gids = Array.from(variant, (ch) => cmap.get(ch.codePointAt(0)!) ?? 0);
    for (let i = 0; i < gids.length; i++) {
      const ligs = starts.get(gids[i]!);
      if (ligs?.some((rest) => rest.every((g, k) => gids[i + 1 + k] === g))) return true;
    }
  }
  return false;
}

/** The glyph ids of an OpenType coverage table, in coverage-index order. */
function coverage(v: DataView, at: number): number[] {
  const out: number[] = [];
  const format = v.getUint16(at);
  const n = v.getUint16(at + 2);
  for (let i = 0; i < n; i++) {
    if (format === 1) out.push(v.getUint16(at + 4 + 2 * i));
    else for (let g = v.getUint16(at + 4 + 6 * i); g <= v.getUint16(at + 6 + 6 * i); g++) out.push(g);
  }
  return out;
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
 *  on its own (list numbers and bullets, ellipsis, hyphens, quotes); and the text itself,
 *  less the elements in `unseen` (wholly off screen), for the ligature check. A wrong
 *  guess there costs little: the letters of a ligature are drawn one by one instead. */
export function charsOf(root: Element, css: string, unseen: ReadonlySet<Element> = new Set()): { chars: Set<number>; text: string } {
  const out = new Set<number>();
  const texts: string[] = [];
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
  const text = (s: string | null | undefined) => {
    add(s);
    if (s) texts.push(s);
  };
  add(root.textContent);
  // The text drawn, for the ligature check: without elements known to be off screen.
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_ELEMENT | NodeFilter.SHOW_TEXT, {
    acceptNode: (n) => (unseen.has(n as Element) ? NodeFilter.FILTER_REJECT : NodeFilter.FILTER_ACCEPT),
  });
  // Joined without separators: a ligature may form across inline elements of the same font.
  for (let n = walker.nextNode(); n; n = walker.nextNode()) if (n.nodeType === Node.TEXT_NODE) texts.push(n.nodeValue || "");
  root.querySelectorAll("input[value]").forEach((el) => text(el.getAttribute("value")));
  root.querySelectorAll("[placeholder]").forEach((el) => text(el.getAttribute("placeholder")));
  // Generated content (content: "...") is in the CSS: its strings count as text too.
  for (const m of css.matchAll(/content:\s*("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')/g)) text(m[1]!.slice(1, -1));
  add(css);
  return { chars: out, text: texts.join("") };
}

// DOM-based viewport capture (no permission prompt).
//
// Two renderers, both drawing the real DOM through an SVG foreignObject so the browser's own
// layout and text engine paint the picture:
// - engine.ts (default): a native clone of the document plus the page's own stylesheets,
//   culled below the viewport, fonts subset to the characters shown. On the benchmark's
//   dashboard: ~0.23 s cold, ~0.14 s once prepare() ran, no task of 50 ms or more (the SVG
//   decode, ~35 ms, is the longest), 0.05 % pixels off (BENCHMARKS.md, "Screenshot capture").
// - snap.ts: snapdom, with every computed style inlined; slower (~0.7-0.8 s there, tasks of
//   ~0.5 s), used when the page has what the stylesheet engine cannot reproduce
//   (engine.unsupported(): unreadable cross-origin CSS, shadow DOM, quirks mode).
import { DEFAULT_MASK, findMasked, makeExcluder, validSelectors, visibleBox } from "./mask";
import { build, loadSvg, unsupported, warm } from "./engine";
import { encode, yieldToPage } from "./raster";

export interface CaptureOptions {
  mask: string[];
  exclude: Element[];
}

/** Test hook: receives the serialized SVG the page is rasterised from, so a test can
 *  prove no private value was read into it. Not used by the widget. */
export type SvgProbe = (svg: string) => void;

/** Test hook: which renderer drew the last capture ("engine" or "snapdom: <why>"). */
export let lastRenderer = "";

/** Solid paint over private areas (also the Hide tool's colour in the editor). */
export const MASK_COLOR = "#000000";

let warming: Promise<void> | null = null;

/** Work done ahead of a capture, while the dialog opens: fonts and visible images fetched.
 *  Safe to call any number of times; never rejects. */
export function prepareCapture(): Promise<void> {
  if (!warming) {
    // Whatever the renderer will be: fetching from the HTTP cache is cheap, and the engine
    // is the usual one (the widget's own shadow root is excluded from its checks at capture).
    warming = warm().catch(() => undefined);
    // A later prepare (the page may have changed) fetches again only what is new.
    void warming.then(() => (warming = null));
  }
  return warming;
}

export async function captureViewport(opts: CaptureOptions, probe?: SvgProbe): Promise<Blob> {
  const selectors = validSelectors([...DEFAULT_MASK, ...(opts.mask ?? [])]);
  // Capped at 2: a 3x phone screenshot is 9x the pixels of 1x for no extra legibility.
  const dpr = Math.min(Math.max(window.devicePixelRatio || 1, 1), 2);
  const vw = window.innerWidth;
  const vh = window.innerHeight;
  const out = document.createElement("canvas");
  out.width = Math.round(vw * dpr);
  out.height = Math.round(vh * dpr);
  const g = out.getContext("2d");
  if (!g) throw new Error("2d canvas unavailable");

  const skip = new Set(opts.exclude ?? []);
  const joined = selectors.join(",");
  const masked = new Set<Element>();
  const why = unsupported(skip);
  let drawn = false;
  if (!why) {
    try {
      const built = await build({ skip, isMasked: (el) => !!joined && el.matches(joined), masked });
      probe?.(built.svg);
      const img = await loadSvg(built.svg);
      await yieldToPage();
      g.fillStyle = built.background; // what the page shows where the document ends
      g.fillRect(0, 0, out.width, out.height);
      g.drawImage(img, 0, 0, out.width, out.height);
      drawn = true;
      lastRenderer = "engine";
    } catch (e) {
      lastRenderer = `snapdom: ${e instanceof Error ? e.message : String(e)}`;
    }
  } else lastRenderer = `snapdom: ${why}`;

  if (!drawn) {
    // Our own canvas of exactly viewport x dpr: snapdom's size can differ by a scrollbar
    // or a rounding pixel, and the report's "viewport" field must match the picture.
    const { test, masked: snapMasked } = makeExcluder(selectors, opts.exclude ?? [], { width: vw, height: vh });
    const { snapCanvas } = await import("./snap");
    await yieldToPage();
    const shot = await snapCanvas(dpr, test, probe);
    await yieldToPage();
    g.fillStyle = "#ffffff"; // a transparent page background reads as black in many viewers
    g.fillRect(0, 0, out.width, out.height);
    g.drawImage(shot, 0, 0);
    shot.width = shot.height = 0; // free the intermediate bitmap now, not at GC
    snapMasked.forEach((el) => masked.add(el));
  }

  findMasked(selectors, masked);
  g.fillStyle = MASK_COLOR;
  for (const el of masked) {
    const b = visibleBox(el, vw, vh);
    if (!b) continue;
    // Rounded outwards so no anti-aliased edge of the field's own pixels survives.
    const x = Math.floor(b.x * dpr), y = Math.floor(b.y * dpr);
    g.fillRect(x, y, Math.ceil((b.x + b.w) * dpr) - x, Math.ceil((b.y + b.h) * dpr) - y);
  }
  await yieldToPage();
  const blob = await encode(out);
  out.width = out.height = 0;
  return blob;
}

// DOM-based viewport capture (no permission prompt), built on snapdom.
//
// Why snapdom and not html2canvas or getDisplayMedia: it renders the real DOM through SVG
// foreignObject, so the browser's own layout and text engine paint the picture (fidelity
// close to a real screenshot), it keeps scroll positions of scrolled containers, inlines
// images/fonts/canvases, and can clip to the viewport, which prunes off-screen subtrees
// before any style work.
import { snapdom } from "@zumer/snapdom";
import { DEFAULT_MASK, findMasked, makeExcluder, validSelectors, visibleBox } from "./mask";
import { encode, yieldToPage } from "./raster";

export interface CaptureOptions {
  mask: string[];
  exclude: Element[];
}

/** Test hook: receives the serialized SVG the page is rasterised from, so a test can
 *  prove no private value was read into it. Not used by the widget. */
export type SvgProbe = (svg: string) => void;

/** Solid paint over private areas (also the Hide tool's colour in the editor). */
export const MASK_COLOR = "#000000";

export async function captureViewport(opts: CaptureOptions, probe?: SvgProbe): Promise<Blob> {
  const selectors = validSelectors([...DEFAULT_MASK, ...(opts.mask ?? [])]);
  // Capped at 2: a 3x phone screenshot is 9x the pixels of 1x for no extra legibility.
  const dpr = Math.min(Math.max(window.devicePixelRatio || 1, 1), 2);
  const vw = window.innerWidth;
  const vh = window.innerHeight;
  const { test, masked } = makeExcluder(selectors, opts.exclude ?? [], { width: vw, height: vh });
  await yieldToPage();

  const restoreConsole = muteSnapdomWarnings();
  let shot: HTMLCanvasElement;
  try {
    const result = await snapdom(document.documentElement, {
      clip: "viewport",
      dpr,
      scale: 1,
      exclude: test,
      excludeMode: "hide", // keep the layout: removing a field would shift the page around it
      fast: false, // yields about once a frame while cloning so the page stays responsive
      placeholders: true,
      plugins: probe
        ? [{ name: "bugline-probe", afterRender: (ctx) => { if (ctx.svgString) probe(ctx.svgString); } }]
        : [],
    });
    await yieldToPage();
    shot = await result.toCanvas({ dpr, scale: 1 });
  } finally {
    restoreConsole();
  }
  await yieldToPage();

  // Our own canvas of exactly viewport x dpr: snapdom's size can differ by a scrollbar
  // or a rounding pixel, and the report's "viewport" field must match the picture.
  const out = document.createElement("canvas");
  out.width = Math.round(vw * dpr);
  out.height = Math.round(vh * dpr);
  const g = out.getContext("2d");
  if (!g) throw new Error("2d canvas unavailable");
  g.fillStyle = "#ffffff"; // a transparent page background reads as black in many viewers
  g.fillRect(0, 0, out.width, out.height);
  g.drawImage(shot, 0, 0);
  shot.width = shot.height = 0; // free the intermediate bitmap now, not at GC

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

/** snapdom logs advice ("[snapdom] Text in inline/table-cell ...") with console.warn even
 *  without `debug`. The loader records the page's console into the report, so those lines
 *  would show up as if the host app had warned. Only "[snapdom]" lines are dropped; every
 *  other warning passes through to whatever console.warn was (the loader's recorder). */
function muteSnapdomWarnings(): () => void {
  const original = console.warn;
  const filtered = function (this: Console, ...args: unknown[]) {
    if (typeof args[0] === "string" && args[0].startsWith("[snapdom]")) return;
    original.apply(this, args);
  };
  console.warn = filtered;
  return () => {
    if (console.warn === filtered) console.warn = original; // someone re-patched: leave theirs
  };
}

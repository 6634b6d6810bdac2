// The snapdom path: used only for pages the stylesheet engine (engine.ts) cannot reproduce
// (unreadable cross-origin stylesheets, shadow DOM, quirks mode). A separate chunk, loaded
// on demand: snapdom is ~250 KB of the ~260 KB this capture would otherwise always download.
//
// snapdom renders the DOM through SVG foreignObject with every computed style inlined, keeps
// scroll positions, inlines images/fonts/canvases and clips to the viewport.
import { snapdom } from "@zumer/snapdom";

export async function snapCanvas(
  dpr: number,
  test: (el: Element) => boolean,
  probe?: (svg: string) => void,
): Promise<HTMLCanvasElement> {
  const restoreConsole = muteSnapdomWarnings();
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
    return await result.toCanvas({ dpr, scale: 1 });
  } finally {
    restoreConsole();
  }
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

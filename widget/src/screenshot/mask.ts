// Which elements are private, and where they are on screen.
//
// Masked elements are never cloned (snapdom's `exclude` keeps an empty spacer in their
// place, so their text and input values are not read into the SVG), and their boxes are
// painted over with a solid colour on the final bitmap, so the picture shows *that*
// something was hidden and not a blank hole that looks like a rendering bug.

/** Always masked, whatever the host page configures. */
export const DEFAULT_MASK = [
  "input[type=password]",
  "[data-bugline-mask]",
  // Payment and one-time-code fields: as sensitive as passwords, and marked up in a
  // standard way by well-behaved checkout forms.
  'input[autocomplete^="cc-"]',
  'input[autocomplete="one-time-code"]',
];

/** Drops selectors the browser cannot parse: one bad entry in data-bugline-mask must not
 *  make every capture throw (or, worse, silently mask nothing). */
export function validSelectors(selectors: readonly string[]): string[] {
  const out: string[] = [];
  for (const raw of selectors) {
    const s = raw.trim();
    if (!s) continue;
    try {
      document.createDocumentFragment().querySelector(s);
      out.push(s);
    } catch {
      // ignored on purpose (see above)
    }
  }
  return out;
}

export interface Box {
  x: number;
  y: number;
  w: number;
  h: number;
}

function overflowClips(el: Element): boolean {
  const cs = getComputedStyle(el);
  return cs.overflowX !== "visible" || cs.overflowY !== "visible";
}

function parentAcrossShadow(el: Element): Element | null {
  if (el.parentElement) return el.parentElement;
  const root = el.getRootNode();
  return root instanceof ShadowRoot ? root.host : null;
}

/** The element's box in viewport CSS pixels, cut to what its scrolling ancestors and the
 *  viewport let through; null when nothing of it is visible. Cutting keeps a field that
 *  is scrolled out of a panel from blacking out whatever is drawn over that spot. */
export function visibleBox(el: Element, vw: number, vh: number): Box | null {
  const r = el.getBoundingClientRect();
  let x0 = r.left, y0 = r.top, x1 = r.right, y1 = r.bottom;
  for (let p = parentAcrossShadow(el); p && p !== document.documentElement; p = parentAcrossShadow(p)) {
    if (p === document.body || !overflowClips(p)) continue;
    const c = p.getBoundingClientRect();
    x0 = Math.max(x0, c.left); y0 = Math.max(y0, c.top);
    x1 = Math.min(x1, c.right); y1 = Math.min(y1, c.bottom);
  }
  x0 = Math.max(x0, 0); y0 = Math.max(y0, 0);
  x1 = Math.min(x1, vw); y1 = Math.min(y1, vh);
  if (x1 <= x0 || y1 <= y0) return null;
  return { x: x0, y: y0, w: x1 - x0, h: y1 - y0 };
}

/** Elements that may paint inside the viewport whatever their own box says: fixed and
 *  sticky elements, and every ancestor of one (a fixed toast inside a footer that is
 *  scrolled away still shows). Computed once per capture. */
export function pinned(): Set<Element> {
  const keep = new Set<Element>();
  for (const el of Array.from(document.body ? document.body.getElementsByTagName("*") : [])) {
    const position = getComputedStyle(el).position;
    if (position !== "fixed" && position !== "sticky") continue;
    for (let p: Element | null = el; p && !keep.has(p); p = p.parentElement) keep.add(p);
  }
  return keep;
}

// Shadows, outlines and overflowing glyphs paint outside an element's box: only boxes at
// least this far outside the viewport are taken as invisible.
const BLEED = 96;

/** True when an element's box lies wholly outside the viewport, so nothing of it can show. */
export function offscreen(el: Element, vw: number, vh: number): boolean {
  const r = el.getBoundingClientRect();
  if (r.width === 0 && r.height === 0) return false; // display: contents and the like: ask the children
  return r.bottom <= -BLEED || r.top >= vh + BLEED || r.right <= -BLEED || r.left >= vw + BLEED;
}

/** A predicate for snapdom's `exclude`: true for the widget itself and for private
 *  elements, remembering the private ones so their boxes can be painted afterwards.
 *  With a viewport, also true for elements that cannot show in it: snapdom then neither
 *  clones nor styles them (the table rows below the fold are most of a page's nodes), and
 *  excludeMode "hide" keeps their space so the layout of what does show is unchanged. */
export function makeExcluder(
  selectors: readonly string[],
  exclude: readonly Element[],
  viewport?: { width: number; height: number },
) {
  const joined = selectors.join(",");
  const skip = new Set(exclude);
  const masked = new Set<Element>();
  const keep = viewport ? pinned() : new Set<Element>();
  const test = (el: Element): boolean => {
    if (skip.has(el)) return true;
    if (joined && el.matches(joined)) {
      masked.add(el);
      return true;
    }
    if (viewport && el !== document.documentElement && el !== document.body && !keep.has(el)) {
      return offscreen(el, viewport.width, viewport.height);
    }
    return false;
  };
  return { test, masked };
}

/** Every private element in the document, including open shadow roots (which
 *  querySelectorAll does not enter): a second net under the clone-time predicate, in
 *  case snapdom skipped calling it for some subtree (e.g. pruned as off-screen). */
export function findMasked(selectors: readonly string[], into: Set<Element>): void {
  const joined = selectors.join(",");
  if (!joined) return;
  const walk = (root: Document | ShadowRoot): void => {
    root.querySelectorAll(joined).forEach((el) => into.add(el));
    root.querySelectorAll("*").forEach((el) => {
      if (el.shadowRoot) walk(el.shadowRoot);
    });
  };
  walk(document);
}

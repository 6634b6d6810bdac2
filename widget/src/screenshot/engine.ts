// Bugline's own DOM screenshot engine: the page's stylesheets instead of computed styles.
//
// Why not snapdom for every capture: snapdom reads every computed property of every cloned
// element and compares it with a default style it measures per tag in a sandbox; on a
// realistic dashboard that is ~300-500 ms of main-thread work before anything is drawn.
// Here the document is cloned natively (cloneNode, a few ms), the page's own CSS rules go
// into the SVG next to the clone, and the browser's style engine applies them again when it
// renders the SVG image. What a stylesheet cannot know is patched on the clone: form values,
// canvas pixels, scroll offsets, sticky and fixed positions, images (an SVG image may not load
// anything, so every resource becomes a data: URL).
//
// When the page has something this cannot reproduce faithfully (a stylesheet whose rules
// cannot be read, shadow DOM content), `unsupported()` says so and the caller uses snapdom.
import { offscreen } from "./mask";
import { yieldToPage } from "./raster";

// Shadows, outlines and overflowing glyphs paint outside a box, upwards too: only elements at
// least this far below the viewport are culled. Small on purpose: the text of a row that is
// not culled decides which glyphs (and ligatures) the embedded fonts need.
const BLEED = 32;
import { charsOf, subsetFont } from "./font";

export interface EngineInput {
  /** Elements not to draw at all (the widget's own host). */
  skip: ReadonlySet<Element>;
  /** Elements whose content must never be read: kept as empty, invisible boxes of the same size. */
  isMasked: (el: Element) => boolean;
  /** Receives each element that was masked, for the black boxes painted afterwards. */
  masked: Set<Element>;
}

const XHTML = "http://www.w3.org/1999/xhtml";
// Attributes a masked element keeps: enough for selectors and layout, nothing that may carry
// what the user typed or the page shows (value, placeholder, title, data-*, aria-label ...).
const MASK_KEEP = new Set(["class", "id", "style", "type", "width", "height", "size", "rows", "cols", "hidden", "dir", "lang"]);

// --- resources: data: URLs, cached for the page's lifetime --------------------------------

const dataUrls = new Map<string, Promise<string | null>>();

function readAsDataUrl(blob: Blob): Promise<string> {
  return new Promise((resolve, reject) => {
    const fr = new FileReader();
    fr.onload = () => resolve(String(fr.result));
    fr.onerror = () => reject(fr.error);
    fr.readAsDataURL(blob);
  });
}

/** A data: URL of `url` (null when it cannot be fetched). Cached: a prepare() while the
 *  dialog opens fills this so the capture itself does not wait on the network. */
export function inline(url: string): Promise<string | null> {
  if (!url || url.startsWith("data:")) return Promise.resolve(url || null);
  let hit = dataUrls.get(url);
  if (!hit) {
    hit = fetch(url, fetchInit(url))
      .then((r) => (r.ok ? r.blob() : null))
      .then((b) => (b ? readAsDataUrl(b) : null))
      .catch(() => null);
    dataUrls.set(url, hit);
  }
  return hit;
}

/** From the HTTP cache when possible; a resource that does not come within 5 s is left out
 *  (drawn as missing) rather than holding the screenshot up. */
function fetchInit(url: string): RequestInit {
  const timeout = (AbortSignal as { timeout?: (ms: number) => AbortSignal }).timeout;
  return {
    cache: "force-cache",
    credentials: sameOrigin(url) ? "include" : "omit",
    ...(typeof timeout === "function" ? { signal: timeout.call(AbortSignal, 5000) } : {}),
  };
}

function sameOrigin(url: string): boolean {
  try {
    return new URL(url, location.href).origin === location.origin;
  } catch {
    return false;
  }
}

function absolute(url: string, base: string): string {
  try {
    return new URL(url, base).href;
  } catch {
    return url;
  }
}

// --- stylesheets ---------------------------------------------------------------------------

const URL_RE = /url\(\s*(['"]?)([^'")]+)\1\s*\)/g;

interface SheetText {
  css: string;
  urls: Set<string>; // absolute, not yet inlined
  fonts: Set<string>; // the same, for @font-face sources (subset before inlining)
}

/** The sheet's rules as text with absolute url()s; null when the rules cannot be read
 *  (a cross-origin sheet without CORS). @font-face rules are kept only for faces the page
 *  has actually loaded: a face nothing uses costs a full font decode in the SVG for nothing. */
function sheetText(sheet: CSSStyleSheet, loadedFaces: Set<string>): SheetText | null {
  let rules: CSSRuleList;
  try {
    rules = sheet.cssRules;
  } catch {
    return null;
  }
  const base = sheet.href || document.baseURI;
  const urls = new Set<string>();
  const fonts = new Set<string>();
  const parts: string[] = [];
  const unused = unusedUrls(rules);
  const add = (list: CSSRuleList) => {
    for (const rule of Array.from(list)) {
      if (rule instanceof CSSImportRule) {
        if (rule.styleSheet) {
          const inner = sheetText(rule.styleSheet, loadedFaces);
          if (!inner) throw new Error("unreadable import");
          inner.urls.forEach((u) => urls.add(u));
          inner.fonts.forEach((u) => fonts.add(u));
          const media = rule.media.mediaText;
          parts.push(media ? `@media ${media}{${inner.css}}` : inner.css);
        }
        continue;
      }
      const isFace = rule instanceof CSSFontFaceRule;
      if (isFace && !loadedFaces.has(faceKey(rule.style))) continue;
      const ruleBase = rule.parentStyleSheet?.href || base;
      const text = isFace ? firstSource(rule) : rule.cssText;
      parts.push(
        text.replace(URL_RE, (m, _q: string, raw: string) => {
          if (raw.startsWith("data:") || raw.startsWith("#")) return m;
          if (!isFace && unused.has(raw)) return "none";
          const abs = absolute(raw, ruleBase);
          (isFace ? fonts : urls).add(abs);
          return `url("${abs}")`;
        }),
      );
    }
  };
  try {
    add(rules);
  } catch {
    return null;
  }
  return { css: parts.join("\n"), urls, fonts };
}

/** URLs only style rules that match no element use: a site's CSS often names images of
 *  every page (heroes, sprites, states); fetching and embedding them all would make the SVG
 *  slow to decode for nothing. Hover/focus states and pseudo-elements count as matching when
 *  their element exists; a selector the browser cannot test counts as matching. */
function unusedUrls(rules: CSSRuleList): Set<string> {
  const used = new Map<string, boolean>();
  const note = (text: string, hit: boolean) => {
    for (const m of text.matchAll(URL_RE)) used.set(m[2]!, (used.get(m[2]!) ?? false) || hit);
  };
  const scan = (list: CSSRuleList) => {
    for (const rule of Array.from(list)) {
      if (rule instanceof CSSImportRule || rule instanceof CSSFontFaceRule) continue;
      if (rule instanceof CSSStyleRule) {
        if (rule.style.cssText.includes("url(")) note(rule.style.cssText, matchesSomething(rule.selectorText));
        if (rule.cssRules?.length) scan(rule.cssRules); // nested CSS
      } else if ("cssRules" in rule) scan((rule as CSSGroupingRule).cssRules);
      else if (rule.cssText.includes("url(")) note(rule.cssText, true);
    }
  };
  scan(rules);
  return new Set(Array.from(used).filter(([, hit]) => !hit).map(([u]) => u));
}

const STATE = /::?(?:before|after|marker|placeholder|selection|first-line|first-letter|backdrop|file-selector-button|-webkit-[\w-]+|-moz-[\w-]+)(?:\([^)]*\))?|:(?:hover|focus|focus-within|focus-visible|active|visited|target)\b/g;

function matchesSomething(selector: string): boolean {
  if (selector.includes(":not(") || selector.includes(":has(")) return true; // a stripped state inside would invert
  try {
    return document.querySelector(selector.replace(STATE, "").replace(/(^|[\s>+~,(])(?=[,)]|$)/g, "$1*") || "*") !== null;
  } catch {
    return true;
  }
}

/** An @font-face rule with its `src` cut after the first url(): the browser picks the first
 *  source it supports, and that is the one the page loaded (every browser that runs this
 *  reads WOFF2, WOFF and TrueType), so the others would only be fetched and embedded for nothing. */
function firstSource(rule: CSSFontFaceRule): string {
  const src = rule.style.getPropertyValue("src");
  const m = /^(.*?url\([^)]*\)(?:\s*(?:format|tech)\([^)]*\))*)/.exec(src);
  if (!m || m[1] === src) return rule.cssText;
  const text = rule.cssText;
  const at = text.indexOf(src);
  return at < 0 ? text : text.slice(0, at) + m[1] + text.slice(at + src.length);
}

// Font files as fetched (subset per capture: the characters on screen change).
const fontFiles = new Map<string, Promise<ArrayBuffer | null>>();

function fontFile(url: string): Promise<ArrayBuffer | null> {
  let hit = fontFiles.get(url);
  if (!hit) {
    hit = fetch(url, fetchInit(url))
      .then((r) => (r.ok ? r.arrayBuffer() : null))
      .catch(() => null);
    fontFiles.set(url, hit);
  }
  return hit;
}

async function fontDataUrl(url: string, chars: ReadonlySet<number>, text: string): Promise<string | null> {
  if (url.startsWith("data:")) return url;
  const file = await fontFile(url);
  if (!file) return null;
  await yieldToPage(); // each font's subsetting in a task of its own
  const small = subsetFont(file, chars, text);
  const type = small === file ? "application/octet-stream" : "font/ttf";
  return readAsDataUrl(new Blob([small], { type }));
}

function faceKey(s: { getPropertyValue(p: string): string } | FontFace): string {
  const get = (p: string, f: keyof FontFace) =>
    s instanceof FontFace ? String(s[f]) : s.getPropertyValue(p);
  const family = get("font-family", "family").replace(/^["']|["']$/g, "").toLowerCase();
  const weight = normWeight(get("font-weight", "weight"));
  const style = (get("font-style", "style") || "normal").toLowerCase();
  return `${family}|${weight}|${style}`;
}

function normWeight(w: string): string {
  const v = (w || "normal").trim().toLowerCase();
  return v === "normal" ? "400" : v === "bold" ? "700" : v;
}

function loadedFaceKeys(): Set<string> {
  const out = new Set<string>();
  document.fonts.forEach((f) => {
    if (f.status === "loaded") out.add(faceKey(f));
  });
  return out;
}

// --- support check -------------------------------------------------------------------------

/** Why this engine cannot capture the page faithfully, or "" when it can. */
export function unsupported(skip: ReadonlySet<Element>): string {
  for (const sheet of Array.from(document.styleSheets)) {
    try {
      void sheet.cssRules;
    } catch {
      return "unreadable stylesheet";
    }
  }
  for (const sheet of adopted()) {
    try {
      void sheet.cssRules;
    } catch {
      return "unreadable stylesheet";
    }
  }
  if (document.compatMode !== "CSS1Compat") return "quirks mode";
  const all = document.getElementsByTagName("*");
  for (let i = 0; i < all.length; i++) {
    const el = all[i]!;
    if (el.shadowRoot && !insideSkipped(el, skip)) return "shadow DOM";
  }
  return "";
}

function adopted(): CSSStyleSheet[] {
  return Array.from((document as Document & { adoptedStyleSheets?: CSSStyleSheet[] }).adoptedStyleSheets ?? []);
}

function insideSkipped(el: Element, skip: ReadonlySet<Element>): boolean {
  for (let p: Element | null = el; p; p = p.parentElement) if (skip.has(p)) return true;
  return false;
}

// --- the clone -----------------------------------------------------------------------------

interface Pending {
  urls: Set<string>;
  // url() and src values patched once the data: URLs are known.
  fixes: Array<(map: Map<string, string | null>) => void>;
}

/** The network work a capture can do before it is asked, without touching the page: font
 *  files and visible images fetched (and images turned into data: URLs), so the capture only
 *  clones and rasterises. What prepare() runs while the dialog opens. */
export async function warm(): Promise<void> {
  const faces = loadedFaceKeys();
  const work: Array<Promise<unknown>> = [];
  for (const sheet of [...Array.from(document.styleSheets), ...adopted()]) {
    if (sheet.disabled) continue;
    const t = sheetText(sheet as CSSStyleSheet, faces);
    t?.urls.forEach((u) => work.push(inline(u)));
    // Fetched and parsed once (the character map), so the capture only copies outlines.
    t?.fonts.forEach((u) => work.push(fontFile(u).then((f) => f && subsetFont(f, new Set()))));
  }
  const vw = window.innerWidth, vh = window.innerHeight;
  for (const img of Array.from(document.images)) {
    if (img.currentSrc && !offscreen(img, vw, vh)) work.push(inline(img.currentSrc));
  }
  await Promise.all(work);
}

function swapUrls(css: string, map: Map<string, string | null>): string {
  return css.replace(URL_RE, (m, _q: string, raw: string) => {
    if (!map.has(raw)) return m;
    const d = map.get(raw);
    return d ? `url("${d}")` : "none";
  });
}

/** An <img> of the SVG, decoded. A data: URL, not a blob: one: Chromium taints the canvas
 *  for a blob: SVG with foreignObject, and a tainted canvas cannot be encoded. */
export async function loadSvg(svg: string): Promise<HTMLImageElement> {
  const img = new Image();
  img.src = "data:image/svg+xml;charset=utf-8," + encodeURIComponent(svg);
  await img.decode();
  return img;
}

export interface Built {
  svg: string;
  width: number;
  height: number;
  background: string;
}

/** Clones the document and returns the SVG to rasterise (viewport-sized, in CSS pixels). */
export async function build(input: EngineInput): Promise<Built> {
  const vw = window.innerWidth, vh = window.innerHeight;
  const sx = window.scrollX, sy = window.scrollY;
  const root = document.documentElement;
  const pending: Pending = { urls: new Set(), fixes: [] };
  const faces = loadedFaceKeys();

  // Reads from the live page first (no writes in between, so one layout serves them all).
  const pinned = new Set<Element>();
  const scrollers = new Set<Element>();
  const pause = slicer();
  const sticky = await stickyOffsets(pinned, scrollers, pause);
  const clone = root.cloneNode(true) as HTMLElement;
  const styleCopies = new Map<Element, Element>();
  const unseen = new Set<Element>();
  await walk(root, clone, input, pending, { sticky, pinned, scrollers }, styleCopies, unseen, vw, vh, pause);

  // Stylesheets, in document order, replacing the <style>/<link> elements of the clone.
  const sheets = new Map<Node, string>();
  const fonts = new Set<string>();
  for (const sheet of Array.from(document.styleSheets)) {
    await pause();
    const owner = sheet.ownerNode;
    if (!owner) continue;
    if (sheet.disabled) {
      sheets.set(owner, "");
      continue;
    }
    const t = sheetText(sheet as CSSStyleSheet, faces);
    if (!t) throw new Error("unreadable stylesheet");
    t.urls.forEach((u) => pending.urls.add(u));
    t.fonts.forEach((u) => fonts.add(u));
    sheets.set(owner, t.css);
  }
  const styleEls: Array<{ el: HTMLStyleElement; css: string }> = [];
  for (const [live, copy] of styleCopies) {
    const css = sheets.get(live);
    if (css === undefined) {
      copy.parentNode?.removeChild(copy);
      continue;
    }
    const st = document.createElementNS(XHTML, "style") as HTMLStyleElement;
    const media = live.getAttribute("media");
    if (media) st.setAttribute("media", media);
    copy.parentNode?.replaceChild(st, copy);
    styleEls.push({ el: st, css });
  }
  // Constructed sheets adopted by the document apply after all of its own: appended last.
  for (const sheet of adopted()) {
    if (sheet.disabled) continue;
    const t = sheetText(sheet, faces);
    if (!t) throw new Error("unreadable stylesheet");
    t.urls.forEach((u) => pending.urls.add(u));
    t.fonts.forEach((u) => fonts.add(u));
    const st = document.createElementNS(XHTML, "style") as HTMLStyleElement;
    clone.appendChild(st);
    styleEls.push({ el: st, css: t.css });
    sheets.set(st, t.css); // for charsOf (generated content)
  }

  const map = new Map<string, string | null>();
  // Characters of the clone: masked content is already gone, so a private value cannot even
  // show up as "which glyphs were embedded".
  const used = fonts.size ? charsOf(clone, Array.from(sheets.values()).join(""), unseen) : { chars: new Set<number>(), text: "" };
  await Promise.all([
    ...Array.from(pending.urls, async (u) => map.set(u, await inline(u))),
    ...Array.from(fonts, async (u) => map.set(u, await fontDataUrl(u, used.chars, used.text))),
  ]);
  for (const { el, css } of styleEls) el.textContent = swapUrls(css, map);
  for (const fix of pending.fixes) fix(map);

  const cs = getComputedStyle(root);
  const bodyBg = document.body ? getComputedStyle(document.body).backgroundColor : "";
  const background = opaque(cs.backgroundColor) ? cs.backgroundColor : opaque(bodyBg) ? bodyBg : "#ffffff";
  // The root box as it is now: its size (percentages of it would otherwise resolve against
  // the foreignObject, which is as large as the whole document) and its font size, also on
  // the <svg>, which is the root element there (rem units, `html { font-size: 62.5% }`).
  const fontSize = cs.fontSize;
  clone.style.setProperty("margin", "0", "important");
  clone.style.setProperty("box-sizing", "border-box", "important");
  clone.style.setProperty("width", `${root.offsetWidth || vw}px`, "important");
  clone.style.setProperty("height", `${root.offsetHeight || vh}px`, "important");
  clone.style.setProperty("font-size", fontSize, "important");
  // The foreignObject covers the whole document so what overflows the root still paints.
  const w = Math.max(root.scrollWidth, root.offsetWidth, vw + sx);
  const h = Math.max(root.scrollHeight, root.offsetHeight, vh + sy);
  const svg =
    `<svg xmlns="http://www.w3.org/2000/svg" width="${vw}" height="${vh}" viewBox="0 0 ${vw} ${vh}" style="font-size:${fontSize}">` +
    `<foreignObject x="${-sx}" y="${-sy}" width="${w}" height="${h}">` +
    new XMLSerializer().serializeToString(clone) +
    `</foreignObject></svg>`;
  return { svg, width: vw, height: vh, background };
}

/** A pause point for long loops: hands the page a turn once ~25 ms have passed since the
 *  last one, so no task of the capture runs long (input and paint keep flowing). */
function slicer(budgetMs = 25): () => Promise<void> {
  let since = performance.now();
  return async () => {
    if (performance.now() - since < budgetMs) return;
    await yieldToPage();
    since = performance.now();
  };
}

function opaque(color: string): boolean {
  return !!color && color !== "transparent" && !/rgba\([^)]*,\s*0\)$/.test(color);
}

/** Calls fn on each (live, clone) element pair, both trees walked in step. */
function pairs(live: Element, copy: Element, fn: (live: Element, copy: Element) => void): void {
  const a = document.createTreeWalker(live, NodeFilter.SHOW_ELEMENT);
  const b = document.createTreeWalker(copy, NodeFilter.SHOW_ELEMENT);
  const list: Array<[Element, Element]> = [];
  for (let x: Node | null = a.currentNode, y: Node | null = b.currentNode; x && y; x = a.nextNode(), y = b.nextNode()) {
    list.push([x as Element, y as Element]);
  }
  for (const [x, y] of list) fn(x, y);
}

/** Sticky elements' current shift from where they would sit in the flow, measured by
 *  switching them to static for one synchronous layout (no frame is painted in between). */
async function stickyOffsets(
  pinned: Set<Element>,
  scrollers: Set<Element>,
  pause: () => Promise<void>,
): Promise<Map<Element, [number, number]>> {
  const out = new Map<Element, [number, number]>();
  const stuck: HTMLElement[] = [];
  const all = document.body ? document.body.getElementsByTagName("*") : [];
  for (let i = 0; i < all.length; i++) {
    if ((i & 63) === 63) await pause();
    const el = all[i] as HTMLElement;
    const cs = getComputedStyle(el);
    if (SCROLLS.test(cs.overflowX) || SCROLLS.test(cs.overflowY)) scrollers.add(el);
    const position = cs.position;
    if (position === "absolute") {
      // Out of the flow, it may show far from its ancestors (a menu at the end of <body>):
      // when it is in view, nothing it is inside may be culled.
      const r = el.getBoundingClientRect();
      if (r.top < window.innerHeight + BLEED && r.bottom > -BLEED) {
        for (let p: Element | null = el; p && !pinned.has(p); p = p.parentElement) pinned.add(p);
      }
      continue;
    }
    if (position !== "sticky" && position !== "fixed") continue;
    if (position === "sticky" && el.style) stuck.push(el);
    // It and its ancestors may paint in the viewport wherever their boxes are: never culled.
    // (The pinned set is shared with the absolute case above.)
    for (let p: Element | null = el; p && !pinned.has(p); p = p.parentElement) pinned.add(p);
  }
  if (!stuck.length) return out;
  const before = stuck.map((el) => el.getBoundingClientRect());
  const saved = stuck.map((el) => [el.style.getPropertyValue("position"), el.style.getPropertyPriority("position")] as const);
  stuck.forEach((el) => el.style.setProperty("position", "static", "important"));
  const after = stuck.map((el) => el.getBoundingClientRect());
  stuck.forEach((el, i) => el.style.setProperty("position", saved[i]![0], saved[i]![1]));
  stuck.forEach((el, i) => out.set(el, [before[i]!.left - after[i]!.left, before[i]!.top - after[i]!.top]));
  return out;
}

async function walk(
  liveRoot: Element,
  cloneRoot: Element,
  input: EngineInput,
  pending: Pending,
  layout: {
    sticky: Map<Element, [number, number]>;
    pinned: Set<Element>; // fixed and sticky elements and their ancestors
    scrollers: Set<Element>; // elements that scroll their overflow (auto, scroll)
  },
  styleCopies: Map<Element, Element>,
  unseen: Set<Element>,
  vw: number,
  vh: number,
  pause: () => Promise<void>,
): Promise<void> {
  const sx = window.scrollX, sy = window.scrollY;
  const list: Array<[Element, Element]> = [];
  pairs(liveRoot, cloneRoot, (x, y) => list.push([x, y]));
  const copyOf = new Map<Element, Element>(list);
  const fixedTables = new Set<Element>();
  const drop = new Set<Element>();
  let n = 0;
  for (const [live, copy] of list) {
    if ((++n & 31) === 0) await pause();
    if (drop.has(copy)) continue;
    const style = (copy as HTMLElement).style as CSSStyleDeclaration | undefined;
    if (input.skip.has(live)) {
      style?.setProperty("visibility", "hidden", "important");
      clear(copy, drop);
      continue;
    }
    if (input.isMasked(live)) {
      input.masked.add(live);
      maskClone(live, copy, drop);
      continue;
    }
    const tag = live.localName;
    if (
      live !== liveRoot &&
      live !== document.body &&
      !layout.pinned.has(live) &&
      cull(live, copy, vh, drop, copyOf, fixedTables, layout.scrollers)
    ) {
      continue;
    }
    if (!live.firstElementChild && live.firstChild) {
      // A text-only element wholly outside the viewport: its text is not drawn (see charsOf).
      const r = live.getBoundingClientRect();
      if (r.width > 0 && r.height > 0 && (r.bottom <= 0 || r.top >= vh || r.right <= 0 || r.left >= vw)) unseen.add(copy);
    }
    if (tag === "script" || tag === "noscript" || tag === "template") {
      copy.parentNode?.removeChild(copy);
      clear(copy, drop);
      continue;
    }
    if (live instanceof HTMLInputElement) {
      if (live.type === "checkbox" || live.type === "radio") {
        if (live.checked) copy.setAttribute("checked", "");
        else copy.removeAttribute("checked");
      } else if (live.type !== "file") copy.setAttribute("value", live.value);
    } else if (live instanceof HTMLTextAreaElement) {
      copy.textContent = live.value;
    } else if (live instanceof HTMLSelectElement) {
      const opts = copy.querySelectorAll("option");
      Array.from(live.options).forEach((o, i) => {
        if (o.selected) opts[i]?.setAttribute("selected", "");
        else opts[i]?.removeAttribute("selected");
      });
    } else if (live instanceof HTMLCanvasElement || live instanceof HTMLVideoElement) {
      paintedInto(live, copy as HTMLElement, vw, vh);
    } else if (live instanceof HTMLImageElement) {
      image(live, copy as HTMLImageElement, pending, vw, vh);
    } else if (live instanceof HTMLIFrameElement || live instanceof HTMLEmbedElement || live instanceof HTMLObjectElement) {
      copy.removeAttribute("src");
      copy.removeAttribute("data");
      copy.removeAttribute("srcdoc");
    } else if (tag === "source" && live.parentElement instanceof HTMLPictureElement) {
      copy.parentNode?.removeChild(copy); // the <img> carries the chosen source as a data: URL
      continue;
    } else if (live instanceof HTMLStyleElement || (live instanceof HTMLLinkElement && live.sheet)) {
      styleCopies.set(live, copy); // replaced by the sheet's rules, with resources inlined
      continue;
    } else if (tag === "link") {
      copy.parentNode?.removeChild(copy);
      continue;
    }
    const inlineStyle = live.getAttribute("style");
    if (inlineStyle && inlineStyle.includes("url(") && style) {
      urlsIn(copy as HTMLElement, inlineStyle, pending);
    }
    // Position fixes read the live layout: only elements that can matter are asked.
    if (live === liveRoot || live === document.body || !(live instanceof HTMLElement) || !style) continue;
    if (layout.scrollers.has(live) && !classicScrollbars(live)) {
      // Overlay scrollbars are not painted on a still page; the SVG would draw classic ones.
      style.setProperty("scrollbar-width", "none", "important");
    }
    const sticks = layout.sticky.get(live);
    if (sticks && (sticks[0] || sticks[1])) {
      style.setProperty("position", "relative", "important");
      style.setProperty("left", `${sticks[0]}px`, "important");
      style.setProperty("top", `${sticks[1]}px`, "important");
      style.setProperty("right", "auto", "important");
      style.setProperty("bottom", "auto", "important");
    }
    if (live.scrollTop || live.scrollLeft) scrolled(live, copy as HTMLElement);
    if (live.offsetParent === null && live.isConnected && getComputedStyle(live).position === "fixed") {
      // In the SVG the page is not scrolled: pin the box where the viewport shows it now.
      style.setProperty("position", "absolute", "important");
      style.setProperty("left", `${live.offsetLeft + sx}px`, "important");
      style.setProperty("top", `${live.offsetTop + sy}px`, "important");
      style.setProperty("right", "auto", "important");
      style.setProperty("bottom", "auto", "important");
      style.setProperty("margin", "0", "important");
      style.setProperty("box-sizing", "border-box", "important");
      style.setProperty("width", `${live.offsetWidth}px`, "important");
      style.setProperty("height", `${live.offsetHeight}px`, "important");
    }
  }
}

const SCROLLS = /^(auto|scroll)$/;

// Display types whose box keeps its size when emptied and given a width and height.
const SIZED = new Set(["block", "flow-root", "list-item", "flex", "grid", "table", "table-row", "inline-block", "inline-flex", "inline-grid"]);

/** Elements wholly below the viewport are kept as empty boxes of their size: the SVG then
 *  styles and lays out only what can show (the rows of a long table are most of a page's
 *  elements, and the SVG image's layout is most of a capture's time). Only *below*: nothing
 *  there moves what is above it in the flow, while a change above the viewport would. */
function cull(
  live: Element,
  copy: Element,
  vh: number,
  drop: Set<Element>,
  copyOf: Map<Element, Element>,
  fixedTables: Set<Element>,
  scrollers: Set<Element>,
): boolean {
  if (!(live instanceof HTMLElement) || (!live.firstElementChild && !live.firstChild)) return false;
  const r = live.getBoundingClientRect();
  // The bottom of what can show: the viewport's, or that of a scrolling panel it is in (the
  // rest of a long list in a panel; kept sizes keep the panel's scroll range as it is).
  let limit = vh;
  for (let p = live.parentElement; p && p !== document.body; p = p.parentElement) {
    if (scrollers.has(p)) limit = Math.min(limit, p.getBoundingClientRect().bottom);
  }
  if (r.top < limit + BLEED) return false;
  const display = getComputedStyle(live).display;
  if (!SIZED.has(display)) return false;
  if (live.querySelector("style,link")) return false; // its rules style the rest of the page
  if (display === "table-row") {
    const table = live.closest("table");
    if (!table || table.rows[0] === live || !fixTable(table, copyOf, fixedTables)) return false;
  }
  const s = (copy as HTMLElement).style;
  clear(copy, drop);
  while (copy.firstChild) copy.removeChild(copy.firstChild);
  s.setProperty("box-sizing", "border-box", "important");
  s.setProperty("height", `${live.offsetHeight}px`, "important");
  s.setProperty("min-height", "0", "important");
  s.setProperty("max-height", "none", "important");
  if (display !== "table-row") {
    s.setProperty("width", `${live.offsetWidth}px`, "important");
    s.setProperty("min-width", "0", "important");
    s.setProperty("max-width", "none", "important");
  }
  return true;
}

/** Column widths of an automatic-layout table depend on every row's content: before rows
 *  are emptied, the table switches to fixed layout with the widths its first row has now. */
function fixTable(table: HTMLTableElement, copyOf: Map<Element, Element>, done: Set<Element>): boolean {
  if (done.has(table)) return true;
  const first = table.rows[0];
  const tableCopy = copyOf.get(table) as HTMLElement | undefined;
  if (!first || !tableCopy) return false;
  for (const cell of Array.from(first.cells)) {
    const c = copyOf.get(cell) as HTMLElement | undefined;
    if (!c) return false;
    c.style.setProperty("box-sizing", "border-box", "important");
    c.style.setProperty("width", `${cell.getBoundingClientRect().width}px`, "important");
  }
  tableCopy.style.setProperty("table-layout", "fixed", "important");
  tableCopy.style.setProperty("width", `${table.getBoundingClientRect().width}px`, "important");
  done.add(table);
  return true;
}

function classicScrollbars(el: HTMLElement): boolean {
  const cs = getComputedStyle(el);
  const bx = parseFloat(cs.borderLeftWidth) + parseFloat(cs.borderRightWidth);
  const by = parseFloat(cs.borderTopWidth) + parseFloat(cs.borderBottomWidth);
  return el.offsetWidth - el.clientWidth - bx > 0.5 || el.offsetHeight - el.clientHeight - by > 0.5;
}

function clear(copy: Element, drop: Set<Element>): void {
  copy.querySelectorAll("*").forEach((d) => drop.add(d));
}

/** A private element keeps its box (so nothing around it moves) and loses everything that
 *  could carry its content: children, value and every attribute not needed for layout. */
function maskClone(live: Element, copy: Element, drop: Set<Element>): void {
  clear(copy, drop);
  while (copy.firstChild) copy.removeChild(copy.firstChild);
  for (const a of Array.from(copy.attributes)) if (!MASK_KEEP.has(a.name)) copy.removeAttribute(a.name);
  const style = (copy as HTMLElement).style as CSSStyleDeclaration | undefined;
  if (!style) return;
  const r = live.getBoundingClientRect();
  style.setProperty("visibility", "hidden", "important");
  style.setProperty("box-sizing", "border-box", "important");
  style.setProperty("width", `${(live as HTMLElement).offsetWidth ?? r.width}px`, "important");
  style.setProperty("height", `${(live as HTMLElement).offsetHeight ?? r.height}px`, "important");
  if (getComputedStyle(live).display === "inline") style.setProperty("display", "inline-block", "important");
}

/** Canvas and video pixels become the clone's background: the element (and so every
 *  selector and layout rule that targets it) stays what it was. */
function paintedInto(live: HTMLCanvasElement | HTMLVideoElement, copy: HTMLElement, vw: number, vh: number): void {
  if (offscreen(live, vw, vh)) return;
  let url = "";
  try {
    if (live instanceof HTMLCanvasElement) url = live.toDataURL();
    else if (live.videoWidth) {
      const c = document.createElement("canvas");
      c.width = live.videoWidth;
      c.height = live.videoHeight;
      c.getContext("2d")?.drawImage(live, 0, 0);
      url = c.toDataURL();
    }
  } catch {
    return; // tainted by a cross-origin source: left blank
  }
  if (copy instanceof HTMLVideoElement) {
    copy.removeAttribute("src");
    copy.removeAttribute("poster");
    copy.querySelectorAll("source").forEach((s) => s.remove());
  }
  if (!url) return;
  const s = copy.style;
  s.setProperty("background-image", `url("${url}")`, "important");
  s.setProperty("background-size", "100% 100%", "important");
  s.setProperty("background-repeat", "no-repeat", "important");
  s.setProperty("background-origin", "content-box", "important");
  s.setProperty("background-clip", "content-box", "important");
}

function image(live: HTMLImageElement, copy: HTMLImageElement, pending: Pending, vw: number, vh: number): void {
  copy.removeAttribute("srcset");
  copy.removeAttribute("sizes");
  copy.removeAttribute("loading");
  const src = live.currentSrc || live.src;
  if (!src || src.startsWith("data:")) return;
  // Not fetched (off screen) or not fetchable (cross-origin without CORS): its rendered size
  // is pinned so the missing picture moves nothing.
  const w = live.width, h = live.height;
  const missing = () => {
    copy.removeAttribute("src");
    copy.style.setProperty("box-sizing", "content-box", "important");
    copy.style.setProperty("width", `${w}px`, "important");
    copy.style.setProperty("height", `${h}px`, "important");
  };
  if (offscreen(live, vw, vh)) return missing();
  pending.urls.add(src);
  pending.fixes.push((map) => {
    const d = map.get(src);
    if (d) copy.setAttribute("src", d);
    else missing();
  });
}

function urlsIn(copy: HTMLElement, css: string, pending: Pending): void {
  const found: string[] = [];
  css.replace(URL_RE, (m, _q: string, raw: string) => {
    if (!raw.startsWith("data:")) found.push(absolute(raw, document.baseURI));
    return m;
  });
  if (!found.length) return;
  found.forEach((u) => pending.urls.add(u));
  pending.fixes.push((map) => {
    copy.setAttribute(
      "style",
      css.replace(URL_RE, (m, _q: string, raw: string) => {
        if (raw.startsWith("data:")) return m;
        const d = map.get(absolute(raw, document.baseURI));
        return d ? `url("${d}")` : "none";
      }) + ";" + (copy.getAttribute("style") || "").slice(css.length),
    );
  });
}

/** A scrolled container shows its content from the top in the SVG (it cannot be scrolled):
 *  its children are moved by the scroll offset instead. `translate` composes with any
 *  `transform` they have; text directly inside is wrapped in a span so it moves too. */
function scrolled(live: HTMLElement, copy: HTMLElement): void {
  const dx = -live.scrollLeft, dy = -live.scrollTop;
  for (const child of Array.from(copy.childNodes)) {
    let el: HTMLElement;
    if (child.nodeType === Node.TEXT_NODE) {
      if (!child.textContent?.trim()) continue;
      el = document.createElementNS(XHTML, "span") as HTMLElement;
      copy.replaceChild(el, child);
      el.appendChild(child);
    } else if (child instanceof HTMLElement || child instanceof SVGElement) {
      el = child as HTMLElement;
    } else continue;
    el.style.setProperty("translate", `${dx}px ${dy}px`);
    if (el.localName === "span" && !el.getAttribute("class")) el.style.setProperty("display", "inline-block");
  }
}

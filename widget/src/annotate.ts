// Annotation editor: the screenshot on a canvas with Draw / Highlight / Hide, Undo,
// Cancel and Done. Lives inside the widget's shadow root so host-page CSS cannot reach it,
// and styles itself through adoptedStyleSheets (not subject to a strict style-src CSP),
// falling back to a <style> carrying the nonce the widget already uses.
import { canvasToBlob } from "./screenshot/raster";

type Tool = "draw" | "highlight" | "hide";
type Op =
  | { kind: "draw"; pts: number[]; width: number }
  | { kind: "highlight" | "hide"; x: number; y: number; w: number; h: number };

const EN: Record<string, string> = {
  "annotate.title": "Mark up the screenshot",
  "annotate.draw": "Draw",
  "annotate.highlight": "Highlight",
  "annotate.hide": "Hide",
  "annotate.undo": "Undo",
  "annotate.cancel": "Cancel",
  "annotate.done": "Done",
};

const PEN = "#e5484d";
const HIGHLIGHT_FILL = "rgba(255, 214, 0, 0.35)";
const HIGHLIGHT_EDGE = "rgba(230, 180, 0, 0.9)";
const HIDE = "#000000";

const CSS = `
.bl-ann{position:fixed;inset:0;z-index:2147483647;display:flex;flex-direction:column;
  background:rgba(15,17,21,.92);color:#f4f4f5;font:14px/1.4 system-ui,-apple-system,"Segoe UI",sans-serif}
.bl-ann-bar{display:flex;flex-wrap:wrap;align-items:center;gap:8px;padding:8px 12px}
.bl-ann-title{margin:0 auto 0 0;font-size:15px;font-weight:600}
.bl-ann-tools,.bl-ann-actions{display:flex;gap:6px}
.bl-ann button{font:inherit;padding:6px 12px;border-radius:6px;border:1px solid #52525b;
  background:#27272a;color:inherit;cursor:pointer;min-height:32px}
.bl-ann button:hover{background:#3f3f46}
.bl-ann button:focus-visible{outline:2px solid #60a5fa;outline-offset:2px}
.bl-ann button[aria-pressed="true"]{background:#2563eb;border-color:#2563eb}
.bl-ann button.bl-ann-done{background:#16a34a;border-color:#16a34a}
.bl-ann button:disabled{opacity:.5;cursor:default}
.bl-ann-stage{flex:1;min-height:0;display:flex;align-items:center;justify-content:center;padding:0 12px 12px}
.bl-ann canvas{max-width:100%;max-height:100%;touch-action:none;cursor:crosshair;
  box-shadow:0 4px 24px rgba(0,0,0,.5);background:#fff}
`;

function t(strings: Record<string, string>, key: string): string {
  const v = strings[key];
  return typeof v === "string" && v ? v : (EN[key] ?? key);
}

function el<K extends keyof HTMLElementTagNameMap>(tag: K, cls?: string, text?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text) e.textContent = text;
  return e;
}

/** Installs the editor's styles in `root`; returns a function that removes them. */
function installStyles(root: ShadowRoot): () => void {
  if ("adoptedStyleSheets" in root && typeof CSSStyleSheet === "function" && "replaceSync" in CSSStyleSheet.prototype) {
    const sheet = new CSSStyleSheet();
    sheet.replaceSync(CSS);
    root.adoptedStyleSheets = [...root.adoptedStyleSheets, sheet];
    return () => { root.adoptedStyleSheets = root.adoptedStyleSheets.filter((s) => s !== sheet); };
  }
  const style = el("style");
  // Reuse the nonce of the widget's own <style>, if it has one, for CSP-strict hosts.
  const nonce = root.querySelector<HTMLStyleElement>("style[nonce]")?.nonce;
  if (nonce) style.nonce = nonce;
  style.textContent = CSS;
  root.appendChild(style);
  return () => style.remove();
}

function paint(g: CanvasRenderingContext2D, op: Op): void {
  if (op.kind === "draw") {
    const p = op.pts;
    if (p.length < 2) return;
    g.save();
    g.strokeStyle = PEN;
    g.lineWidth = op.width;
    g.lineCap = g.lineJoin = "round";
    g.beginPath();
    g.moveTo(p[0]!, p[1]!);
    // A single tap still leaves a dot.
    if (p.length === 2) g.lineTo(p[0]! + 0.01, p[1]!);
    for (let i = 2; i < p.length; i += 2) g.lineTo(p[i]!, p[i + 1]!);
    g.stroke();
    g.restore();
    return;
  }
  const x = Math.min(op.x, op.x + op.w), y = Math.min(op.y, op.y + op.h);
  const w = Math.abs(op.w), h = Math.abs(op.h);
  if (op.kind === "hide") {
    g.fillStyle = HIDE;
    g.fillRect(x, y, w, h);
  } else {
    g.fillStyle = HIGHLIGHT_FILL;
    g.fillRect(x, y, w, h);
    g.strokeStyle = HIGHLIGHT_EDGE;
    g.lineWidth = Math.max(2, g.canvas.width / 600);
    g.strokeRect(x, y, w, h);
  }
}

async function decode(image: Blob): Promise<CanvasImageSource & { width: number; height: number }> {
  if (typeof createImageBitmap === "function") return createImageBitmap(image);
  const url = URL.createObjectURL(image);
  try {
    const img = new Image();
    img.src = url;
    await img.decode();
    return img;
  } finally {
    URL.revokeObjectURL(url);
  }
}

/**
 * Opens the editor over `image` inside `root`. Resolves with the flattened PNG, or null
 * when the user cancels (Cancel button or Escape). Keyboard: Tab between buttons, Enter /
 * Space to press, Ctrl/Cmd+Z to undo, Escape to cancel.
 */
export async function annotate(image: Blob, root: ShadowRoot, strings: Record<string, string>): Promise<Blob | null> {
  const base = await decode(image);
  const removeStyles = installStyles(root);
  const before = root.activeElement as HTMLElement | null;

  const wrap = el("div", "bl-ann");
  wrap.setAttribute("role", "dialog");
  wrap.setAttribute("aria-modal", "true");
  const title = el("h2", "bl-ann-title", t(strings, "annotate.title"));
  title.id = "bl-ann-title";
  wrap.setAttribute("aria-labelledby", title.id);
  const bar = el("div", "bl-ann-bar");
  const tools = el("div", "bl-ann-tools");
  tools.setAttribute("role", "toolbar");
  tools.setAttribute("aria-label", t(strings, "annotate.title"));
  const actions = el("div", "bl-ann-actions");
  const btn = (key: string, cls?: string) => {
    const b = el("button", cls, t(strings, key));
    b.type = "button";
    b.dataset.action = key.slice("annotate.".length);
    return b;
  };
  const toolButtons: Record<Tool, HTMLButtonElement> = {
    draw: btn("annotate.draw"),
    highlight: btn("annotate.highlight"),
    hide: btn("annotate.hide"),
  };
  const undoB = btn("annotate.undo"), cancelB = btn("annotate.cancel"), doneB = btn("annotate.done", "bl-ann-done");
  tools.append(toolButtons.draw, toolButtons.highlight, toolButtons.hide, undoB);
  actions.append(cancelB, doneB);
  bar.append(title, tools, actions);
  const stage = el("div", "bl-ann-stage");
  const canvas = el("canvas");
  canvas.width = base.width;
  canvas.height = base.height;
  canvas.setAttribute("role", "img");
  canvas.setAttribute("aria-label", t(strings, "annotate.title"));
  stage.append(canvas);
  wrap.append(bar, stage);
  root.appendChild(wrap);

  const g = canvas.getContext("2d");
  if (!g) throw new Error("2d canvas unavailable");
  const ops: Op[] = [];
  let live: Op | null = null;
  let tool: Tool = "draw";

  const redraw = () => {
    g.clearRect(0, 0, canvas.width, canvas.height);
    g.drawImage(base, 0, 0);
    for (const op of ops) paint(g, op);
    if (live) paint(g, live);
    undoB.disabled = ops.length === 0;
  };
  const select = (next: Tool) => {
    tool = next;
    for (const k of Object.keys(toolButtons) as Tool[]) toolButtons[k].setAttribute("aria-pressed", String(k === next));
  };
  select("draw");
  redraw();

  // Pointer events cover mouse, pen and touch; coordinates are mapped from the scaled
  // CSS box to the image's own pixels so marks land where they were drawn.
  const toImage = (e: PointerEvent): [number, number] => {
    const r = canvas.getBoundingClientRect();
    return [((e.clientX - r.left) * canvas.width) / r.width, ((e.clientY - r.top) * canvas.height) / r.height];
  };
  let pointer: number | null = null;
  canvas.addEventListener("pointerdown", (e) => {
    if (pointer !== null || (e.pointerType === "mouse" && e.button !== 0)) return;
    pointer = e.pointerId;
    try { canvas.setPointerCapture(e.pointerId); } catch { /* synthetic events have no capture */ }
    const [x, y] = toImage(e);
    const scale = canvas.width / Math.max(1, canvas.getBoundingClientRect().width);
    live = tool === "draw" ? { kind: "draw", pts: [x, y], width: Math.max(3, 4 * scale) } : { kind: tool, x, y, w: 0, h: 0 };
    redraw();
    e.preventDefault();
  });
  canvas.addEventListener("pointermove", (e) => {
    if (e.pointerId !== pointer || !live) return;
    const [x, y] = toImage(e);
    if (live.kind === "draw") live.pts.push(x, y);
    else { live.w = x - live.x; live.h = y - live.y; }
    redraw();
  });
  const end = (e: PointerEvent, keep: boolean) => {
    if (e.pointerId !== pointer) return;
    pointer = null;
    if (live && keep && (live.kind === "draw" || (Math.abs(live.w) >= 2 && Math.abs(live.h) >= 2))) ops.push(live);
    live = null;
    redraw();
  };
  canvas.addEventListener("pointerup", (e) => end(e, true));
  canvas.addEventListener("pointercancel", (e) => end(e, false));

  for (const k of Object.keys(toolButtons) as Tool[]) toolButtons[k].addEventListener("click", () => select(k));
  undoB.addEventListener("click", () => { ops.pop(); redraw(); });

  toolButtons.draw.focus();

  return new Promise<Blob | null>((resolve, reject) => {
    let closed = false;
    const close = () => {
      closed = true;
      wrap.remove();
      removeStyles();
      if ("close" in base && typeof base.close === "function") base.close();
      before?.focus?.();
    };
    cancelB.addEventListener("click", () => { if (!closed) { close(); resolve(null); } });
    doneB.addEventListener("click", async () => {
      if (closed) return;
      doneB.disabled = true;
      live = null;
      redraw();
      try {
        const out = await canvasToBlob(canvas, "image/png");
        close();
        resolve(out);
      } catch (err) {
        close();
        reject(err);
      }
    });
    wrap.addEventListener("keydown", (e) => {
      if (e.key === "Escape") { e.preventDefault(); e.stopPropagation(); cancelB.click(); }
      else if ((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === "z") { e.preventDefault(); undoB.click(); }
      else if (e.key === "Tab") {
        // Keep focus inside the modal editor.
        const f = [...wrap.querySelectorAll<HTMLButtonElement>("button:not(:disabled)")];
        const i = f.indexOf(root.activeElement as HTMLButtonElement);
        const next = e.shiftKey ? (i <= 0 ? f.length - 1 : i - 1) : (i === f.length - 1 ? 0 : i + 1);
        e.preventDefault();
        f[next]?.focus();
      }
    });
  });
}

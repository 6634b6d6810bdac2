// The widget's host element and open shadow root, and CSP-safe styles: a constructed stylesheet
// (adoptedStyleSheets, not subject to style-src) or else a <style> with the configured nonce.
import type { Config } from "./types";

export const HOST_TAG = "bugline-widget";

/** Theme variables on :host; a host page overrides them with `bugline-widget { --bugline-accent: ... }`. */
export const BASE_CSS =
  ":host{all:initial;position:fixed;z-index:2147483000;bottom:16px;right:16px;--bugline-accent:#4f46e5;--bugline-bg:#fff;--bugline-fg:#1b1b1f;--bugline-radius:10px;--bugline-font:system-ui,sans-serif;font-family:var(--bugline-font);color:var(--bugline-fg);color-scheme:light}:host([data-position=bottom-left]){right:auto;left:16px}:host([data-theme=dark]){--bugline-bg:#1e1f24;--bugline-fg:#ececf1;--bugline-accent:#8b85ff;color-scheme:dark}@media (prefers-color-scheme:dark){:host([data-theme=auto]){--bugline-bg:#1e1f24;--bugline-fg:#ececf1;--bugline-accent:#8b85ff;color-scheme:dark}}.launcher{font:600 14px/1 var(--bugline-font);background:var(--bugline-accent);color:var(--bugline-bg);border:0;border-radius:99px;padding:15px;cursor:pointer;box-shadow:0 4px 14px #0004}.launcher:focus-visible{outline:3px solid var(--bugline-fg);outline-offset:2px}";

export function addStyles(root: ShadowRoot, css: string, nonce?: string): void {
  try {
    if ("adoptedStyleSheets" in root && typeof CSSStyleSheet === "function" && "replaceSync" in CSSStyleSheet.prototype) {
      const sheet = new CSSStyleSheet();
      sheet.replaceSync(css);
      root.adoptedStyleSheets = root.adoptedStyleSheets.concat(sheet);
      return;
    }
  } catch {
    /* fall back to a <style> element */
  }
  const style = document.createElement("style");
  if (nonce) style.setAttribute("nonce", nonce);
  style.textContent = css;
  root.appendChild(style);
}

export interface Mounted {
  host: HTMLElement;
  root: ShadowRoot;
}

export function mountHost(config: Config, dir: string, lang: string): Mounted {
  const host = document.createElement(HOST_TAG);
  const attrs = { "data-theme": config.theme, "data-position": config.position, dir, lang };
  for (const k in attrs) host.setAttribute(k, attrs[k as keyof typeof attrs]);
  const root = host.attachShadow({ mode: "open" });
  addStyles(root, BASE_CSS, config.nonce);
  (document.body || document.documentElement).appendChild(host);
  return { host, root };
}

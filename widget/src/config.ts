// The widget's settings, from the <script> tag's data-* attributes (loader) or from init() (ES module).
import type { Config } from "./types";

export type ConfigInput = Partial<Omit<Config, "capture">> & { key: string; capture?: Partial<Config["capture"]> };

/** Complete a partial config with defaults. `fallbackApi` is used when `api` is missing. */
export function normalizeConfig(input: ConfigInput, fallbackApi: string, navLocale?: string): Config {
  return {
    key: input.key || "",
    api: (input.api || fallbackApi).replace(/\/+$/, ""),
    locale: input.locale || navLocale || "en",
    theme: input.theme || "auto", // unknown values fall back to the light styles
    position: input.position || "bottom-right",
    launcher: input.launcher !== false,
    nonce: input.nonce || undefined,
    mask: (input.mask || []).filter(Boolean),
    capture: { console: true, network: true, screenshot: true, recording: true, ...input.capture },
  };
}

/**
 * Read the config from the loader's own <script> tag:
 *   data-bugline-key="pk_..."        required
 *   data-bugline-api="https://..."   default: where loader.js came from (the part before /widget/)
 *   data-bugline-locale="fr"         default: the browser's language
 *   data-bugline-theme="auto|light|dark"   data-bugline-position="bottom-right|bottom-left"
 *   data-bugline-launcher="false"    no button; open with Bugline.open()
 *   data-bugline-nonce="..."         CSP nonce for a <style> fallback (default: the script's own nonce)
 *   data-bugline-mask=".secret, #iban"     more selectors masked in screenshots
 *   data-bugline-capture="console,network,screenshot,recording"   what may be captured (default: all)
 */
export function readScriptConfig(script: HTMLScriptElement | null, navLocale?: string): Config {
  const d = (script && script.dataset) || ({} as DOMStringMap);
  const src = (script && script.src) || location.href;
  const at = src.lastIndexOf("/widget/");
  const list = d.buglineCapture;
  const on = (name: string) => list == null || list.split(/\s*,\s*/).indexOf(name) >= 0;
  return {
    key: d.buglineKey || "",
    api: (d.buglineApi || (at > 0 ? src.slice(0, at) : new URL(src).origin)).replace(/\/+$/, ""),
    locale: d.buglineLocale || navLocale || "en",
    theme: (d.buglineTheme || "auto") as Config["theme"],
    position: (d.buglinePosition || "bottom-right") as Config["position"],
    launcher: d.buglineLauncher !== "false",
    nonce: d.buglineNonce || (script && script.nonce) || undefined,
    mask: (d.buglineMask || "").split(/\s*,\s*/).filter(Boolean),
    capture: { console: on("console"), network: on("network"), screenshot: on("screenshot"), recording: on("recording") },
  };
}

/** localStorage key set while a submission may wait in the offline queue (set and cleared by transport.ts). */
export const PENDING_KEY = "bugline:pending";

// "Sent with your report": what was captured automatically, each part behind a switch.
import { fmt, type Strings } from "../strings";
import { h } from "./dom";

export type Part = "env" | "page" | "console" | "network" | "metadata";

/** "Chrome 126 on Windows": a short human summary; the server parses the full user agent. */
export function describeBrowser(ua: string): string {
  const pick = (re: RegExp) => (ua.match(re) || [])[1];
  const browser =
    (pick(/Edg\/(\d+)/) && "Edge " + pick(/Edg\/(\d+)/)) ||
    (pick(/OPR\/(\d+)/) && "Opera " + pick(/OPR\/(\d+)/)) ||
    (pick(/Firefox\/(\d+)/) && "Firefox " + pick(/Firefox\/(\d+)/)) ||
    (pick(/Chrom(?:e|ium)\/(\d+)/) && "Chrome " + pick(/Chrom(?:e|ium)\/(\d+)/)) ||
    (pick(/Version\/(\d+)[.\d]* .*Safari/) && "Safari " + pick(/Version\/(\d+)[.\d]* .*Safari/)) ||
    "Browser";
  const os = /Android/.test(ua)
    ? "Android"
    : /iPhone|iPad|iPod/.test(ua)
      ? "iOS"
      : /Windows/.test(ua)
        ? "Windows"
        : /Mac OS X|Macintosh/.test(ua)
          ? "macOS"
          : /CrOS/.test(ua)
            ? "ChromeOS"
            : /Linux/.test(ua)
              ? "Linux"
              : "";
  return os ? browser + " · " + os : browser;
}

export interface Captured {
  el: HTMLFieldSetElement;
  update(values: { browser: string; url: string; consoleErrors: number; failedRequests: number; metadata: number }): void;
  included(): Record<Part, boolean>;
}

export function capturedPanel(s: Strings): Captured {
  const rows: Record<Part, { input: HTMLInputElement; text: HTMLSpanElement; row: HTMLLabelElement }> = {} as never;
  const parts: Part[] = ["env", "page", "console", "network", "metadata"];
  for (const part of parts) {
    const input = h("input", { type: "checkbox", role: "switch", checked: true, name: "include-" + part });
    const text = h("span", { class: "cap-text" });
    rows[part] = { input, text, row: h("label", { class: "switch" }, input, text) };
  }
  const el = h(
    "fieldset",
    { class: "captured" },
    h("legend", null, s.captured),
    h("p", { class: "hint" }, s.capturedHint),
    ...parts.map((p) => rows[p].row),
  );
  return {
    el,
    update(v) {
      rows.env.text.textContent = fmt(s.capBrowser, { value: v.browser });
      rows.page.text.textContent = fmt(s.capPage, { value: v.url });
      rows.console.text.textContent = fmt(s.capConsole, { count: v.consoleErrors });
      rows.network.text.textContent = fmt(s.capNetwork, { count: v.failedRequests });
      rows.metadata.text.textContent = fmt(s.capMetadata, { count: v.metadata });
      rows.metadata.row.hidden = v.metadata === 0;
    },
    included: () => ({
      env: rows.env.input.checked,
      page: rows.page.input.checked,
      console: rows.console.input.checked,
      network: rows.network.input.checked,
      metadata: rows.metadata.input.checked,
    }),
  };
}

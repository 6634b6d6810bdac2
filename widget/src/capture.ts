// capture.js: what the page and browser looked like when the report was written, redacted.
import type { PageContext } from "./types";
import { redact, redactUrl } from "./capture/redact";
import { route } from "./capture/route";

export { redact, redactUrl };

interface UAData {
  brands?: unknown;
  mobile?: boolean;
  platform?: string;
  getHighEntropyValues?(hints: string[]): Promise<Record<string, unknown>>;
}

const HINTS = ["fullVersionList", "platformVersion", "model", "architecture", "bitness", "formFactors", "wow64"];

/** Run `f`, or return `fallback` if it throws (each part of the context is optional). */
function safe<T>(f: () => T, fallback: T): T {
  try {
    return f();
  } catch {
    return fallback;
  }
}

async function clientHints(): Promise<Record<string, unknown> | undefined> {
  const ua = safe(() => (navigator as Navigator & { userAgentData?: UAData }).userAgentData, undefined);
  if (!ua) return undefined;
  const low = { brands: ua.brands, mobile: ua.mobile, platform: ua.platform };
  try {
    // Some browsers never settle this promise (or prompt): don't let it hold the dialog up.
    const high = await Promise.race([
      ua.getHighEntropyValues ? ua.getHighEntropyValues(HINTS) : undefined,
      new Promise<undefined>((r) => setTimeout(r, 500)),
    ]);
    return high ? { ...low, ...high } : low;
  } catch {
    return low;
  }
}

const cut = (s: string, n: number): string => s.slice(0, n);

export async function pageContext(): Promise<PageContext> {
  const loc = safe(() => location, undefined);
  const nav = safe(() => navigator, undefined);
  const scr = safe(() => screen, undefined);
  const ctx: PageContext = {
    url: loc ? cut(redactUrl(loc.href), 4000) : "",
    user_agent: cut(nav?.userAgent ?? "", 2000),
    viewport: safe(() => ({ width: innerWidth, height: innerHeight }), { width: 0, height: 0 }),
    screen: {
      width: scr?.width ?? 0,
      height: scr?.height ?? 0,
      pixel_ratio: safe(() => devicePixelRatio, 1) || 1,
    },
    locale: cut(nav?.language ?? "", 35),
    languages: safe(() => (nav?.languages ?? []).slice(0, 20).map((l) => cut(l, 35)), []),
    timezone: safe(() => Intl.DateTimeFormat().resolvedOptions().timeZone ?? "", ""),
  };
  const r = safe(() => loc && route(loc.pathname, loc.hash), undefined);
  if (r) ctx.route = cut(r, 4000);
  const ref = safe(() => document.referrer, "");
  if (ref) ctx.referrer = cut(redactUrl(ref), 4000);
  const hints = await clientHints();
  if (hints) ctx.client_hints = hints;
  const conn = safe(
    () => (nav as (Navigator & { connection?: { effectiveType?: string } }) | undefined)?.connection?.effectiveType,
    undefined,
  );
  if (conn) ctx.connection = cut(conn, 20);
  return ctx;
}

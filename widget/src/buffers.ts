// Ring buffers of recent console messages, uncaught errors and failed requests, installed as
// soon as the loader runs. Everything here is cheap, never throws into the host, and never
// changes what the host sees: wrapped functions call the originals with the same arguments
// and return what they return (fetch returns a promise settling the same way).
import type { Buffers, ConsoleEntry, NetworkEntry } from "./types";

export interface BufferOptions {
  console: boolean;
  network: boolean;
  ignore(url: string): boolean; // the widget's own requests
}

const clip = (s: string, n: number) => (s.length > n ? s.slice(0, n) + "…" : s);
const now = () => performance.now();

/** A short, bounded description of a logged value: never walks big objects. */
export function brief(value: unknown, deep?: boolean): string {
  try {
    if (value instanceof Error) return value.name + ": " + value.message;
    if (!value || typeof value !== "object") return String(value);
    if (deep) return Array.isArray(value) ? "[…]" : "{…}";
    const keys = Object.keys(value);
    const inner = keys.slice(0, 10).map((k) => (Array.isArray(value) ? "" : k + ": ") + brief((value as Record<string, unknown>)[k], true));
    const more = keys.length > 10 ? ", …" : "";
    return Array.isArray(value) ? "[" + inner + more + "]" : "{" + inner.join(", ") + more + "}";
  } catch {
    return "?";
  }
}

const KEY = "__buglineBuffers";

/** Install the hooks once per window (a second loader gets the same buffers). Newest entries last. */
export function installBuffers(opts: BufferOptions): Buffers {
  const w = window as unknown as Record<string, Buffers>;
  if (w[KEY]) return w[KEY];
  const logs: ConsoleEntry[] = [];
  const requests: NetworkEntry[] = [];
  const buffers: Buffers = { console: () => logs.slice(), network: () => requests.slice() };
  w[KEY] = buffers;

  const log = (level: ConsoleEntry["level"], message: string, stack?: string, source?: string) => {
    message = clip(message, 2000);
    const last = logs[logs.length - 1];
    if (last && last.level === level && last.message === message && last.stack === stack) {
      last.count++; // fold repeats
      last.at = Date.now();
    } else {
      logs.push({ level, message, stack: stack && clip(stack, 5000), source, at: Date.now(), count: 1 });
      if (logs.length > 100) logs.shift();
    }
  };
  const record = (method: string, url: string, status: number, start: number, error?: string) => {
    try {
      url = clip(url, 2000); // relative URLs are resolved by the dialog
      if (opts.ignore(url)) return;
      requests.push({ method: method.toUpperCase(), url, status, duration_ms: Math.round(now() - start), error, at: Date.now() });
      if (requests.length > 50) requests.shift();
    } catch {
      /* ignore */
    }
  };

  if (opts.console) {
    const c = console as unknown as Record<string, (...args: unknown[]) => void>;
    for (const level of ["debug", "log", "info", "warn", "error"] as const) {
      const original = c[level];
      if (typeof original === "function") {
        c[level] = function (this: unknown, ...args: unknown[]) {
          try {
            const error = args.find((a) => a instanceof Error) as Error | undefined;
            log(level, args.map((a) => brief(a)).join(" "), error && error.stack);
          } catch {
            /* never break logging */
          }
          return original.apply(this, args);
        };
      }
    }
    addEventListener("error", (e) => {
      // Resource errors (an <img> 404) are plain Events: only script errors are ErrorEvents.
      if (e instanceof ErrorEvent) log("error", e.message, e.error && e.error.stack, e.filename && e.filename + ":" + e.lineno + ":" + e.colno);
    });
    addEventListener("unhandledrejection", (e) => {
      log("error", "Unhandled rejection: " + brief(e.reason), e.reason && e.reason.stack);
    });
  }

  if (opts.network) {
    const originalFetch = window.fetch;
    if (originalFetch) {
      window.fetch = function (this: unknown, input: RequestInfo | URL, init?: RequestInit) {
        const req = input instanceof Request ? input : null;
        const method = (init && init.method) || (req ? req.method : "GET");
        const url = req ? req.url : String(input);
        const start = now();
        // eslint-disable-next-line prefer-rest-params
        return originalFetch.apply(this || window, arguments as unknown as [RequestInfo]).then(
          (res) => {
            if (res.status >= 400) record(method, url, res.status, start);
            return res;
          },
          (err: unknown) => {
            record(method, url, 0, start, brief(err));
            throw err;
          },
        );
      } as typeof fetch;
    }
    const proto = XMLHttpRequest.prototype;
    const open = proto.open;
    const send = proto.send;
    const info = new WeakMap<XMLHttpRequest, string[]>();
    proto.open = function (this: XMLHttpRequest, method: string, url: string | URL) {
      info.set(this, [method, String(url)]);
      // eslint-disable-next-line prefer-rest-params
      return open.apply(this, arguments as unknown as Parameters<typeof open>);
    } as typeof proto.open;
    proto.send = function (this: XMLHttpRequest) {
      const req = info.get(this);
      const start = now();
      if (req) {
        this.addEventListener("loadend", () => {
          const status = this.status;
          if (!status || status >= 400) record(req[0], req[1], status, start, status ? undefined : "failed");
        });
      }
      // eslint-disable-next-line prefer-rest-params
      return send.apply(this, arguments as unknown as Parameters<typeof send>);
    };
  }
  return buffers;
}

// The widget's public API and lifecycle, shared by the script-tag loader and the ES-module entry.
// Nothing here renders until the launcher is mounted (at idle) or open() is called.
import type { Buffers, Config, DialogHandle, DialogModule, Identity, Listener, WidgetContext } from "./types";
import { PENDING_KEY } from "./config";
import { mountHost, type Mounted } from "./shadow";
import { launcherLabel, localeInfo } from "./strings";

export type ChunkName = "dialog" | "capture" | "screenshot" | "recorder";
export type ChunkLoader = (name: ChunkName) => Promise<unknown>;
export type WidgetEvent = "submitted" | "open" | "close";

export interface BuglineApi {
  open(): void;
  close(): void;
  identify(who: Identity): void;
  setContext(context: Record<string, unknown>): void;
  /** Subscribe; returns a function that unsubscribes. */
  on(event: WidgetEvent, fn: Listener): () => void;
}

export interface Widget extends BuglineApi {
  mount(): void;
  resume(): void;
}

export function createWidget(config: Config, buffers: Buffers, load: ChunkLoader): Widget {
  let mounted: Mounted | null = null;
  let launcher: HTMLButtonElement | null = null;
  let handle: DialogHandle | null = null;
  let opening = false;
  let identity: Identity | undefined;
  let context: Record<string, unknown> = {};
  const listeners: Record<string, Listener[]> = {};
  const { dir, lang } = localeInfo(config.locale);

  const emit = (event: WidgetEvent, payload?: unknown) => {
    if (event === "close") handle = null;
    for (const fn of (listeners[event] || []).slice()) {
      try {
        fn(payload);
      } catch {
        /* a host listener's error must not break the widget */
      }
    }
  };

  const mount = () => {
    if (mounted) return;
    mounted = mountHost(config, dir, lang);
    if (config.launcher) {
      launcher = document.createElement("button");
      launcher.type = "button";
      launcher.className = "launcher";
      launcher.setAttribute("aria-haspopup", "dialog");
      launcher.textContent = launcherLabel(config.locale);
      launcher.onclick = api.open;
      // Start fetching the dialog as soon as the pointer or focus reaches the button.
      launcher.onpointerenter = launcher.onfocus = () => void load("dialog").catch(() => 0);
      mounted.root.appendChild(launcher);
    }
  };

  const ctx = (): WidgetContext => ({
    config,
    buffers,
    identity: () => identity,
    context: () => ({ ...context }),
    emit,
    load: <T>(name: "capture" | "screenshot" | "recorder") => load(name) as Promise<T>,
    root: mounted!.root,
    host: mounted!.host,
    launcher,
  });

  const api: Widget = {
    mount,
    open() {
      if (handle || opening) return;
      mount();
      opening = true;
      if (launcher) launcher.setAttribute("aria-busy", "true");
      (load("dialog") as Promise<DialogModule>)
        .then((mod) => {
          handle = mod.open(ctx());
          emit("open");
        })
        .catch(() => undefined)
        .then(() => {
          opening = false;
          if (launcher) launcher.removeAttribute("aria-busy");
        });
    },
    close() {
      if (handle) handle.close();
    },
    identify(who) {
      identity = who ? { ...who } : undefined;
    },
    setContext(extra) {
      context = { ...context, ...extra };
    },
    on(event, fn) {
      (listeners[event] = listeners[event] || []).push(fn);
      return () => {
        listeners[event] = (listeners[event] || []).filter((f) => f !== fn);
      };
    },
    resume() {
      let pending = false;
      try {
        pending = !!localStorage.getItem(PENDING_KEY);
      } catch {
        /* storage blocked */
      }
      if (!pending) return;
      (load("dialog") as Promise<DialogModule>)
        .then((mod) => mod.resume && mod.resume(config))
        .catch(() => undefined);
    },
  };
  return api;
}

/** Run `fn` when the browser is idle (or soon, where requestIdleCallback is missing), after <body> exists. */
export function whenIdle(fn: () => void): void {
  const run = () => {
    const w = window as Window & { requestIdleCallback?: (cb: () => void, o?: { timeout: number }) => number };
    if (w.requestIdleCallback) w.requestIdleCallback(fn, { timeout: 3000 });
    else setTimeout(fn, 1);
  };
  if (document.body) run();
  else document.addEventListener("DOMContentLoaded", run, { once: true });
}

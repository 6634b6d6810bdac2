// ES-module entry for bundlers:
//   import { init } from "@bugline/widget";
//   const bugline = init({ key: "pk_...", api: "https://bugline.example.com" });
//   bugline.identify({ id: "42", email: "ada@example.com" }); bugline.open();
// The dialog, capture, screenshot and recorder modules are dynamic imports, so a bundler
// splits them into chunks loaded on first use, exactly like the script-tag loader does.
import { createWidget, whenIdle, type BuglineApi, type ChunkLoader, type ChunkName } from "./api";
import { installBuffers } from "./buffers";
import { normalizeConfig, type ConfigInput } from "./config";

export type { BuglineApi, WidgetEvent } from "./api";
export type { ConfigInput } from "./config";
export type { Config, Identity } from "./types";

let instance: BuglineApi | null = null;

const importers: Record<ChunkName, () => Promise<unknown>> = {
  dialog: () => import("./dialog"),
  capture: () => import("./capture"),
  screenshot: () => import("./screenshot"),
  recorder: () => import("./recorder"),
};

/** Start the widget once; later calls return the same API. */
export function init(input: ConfigInput): BuglineApi {
  if (instance) return instance;
  const config = normalizeConfig(input, location.origin, navigator.language);
  const buffers = installBuffers({
    console: config.capture.console,
    network: config.capture.network,
    ignore: (url) => url.indexOf(config.api + "/api/") === 0,
  });
  const cache: Partial<Record<ChunkName, Promise<unknown>>> = {};
  const load: ChunkLoader = (name) => cache[name] || (cache[name] = importers[name]());
  const widget = createWidget(config, buffers, load);
  whenIdle(() => {
    widget.mount();
    widget.resume();
  });
  const { open, close, identify, setContext, on } = widget;
  instance = { open, close, identify, setContext, on };
  return instance;
}

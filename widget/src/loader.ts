// loader.js: the only eager script (IIFE, < 3 KB gzip). It reads its <script> tag's data-*
// settings, starts the console/error/network ring buffers, replaces the queue stub with the
// real API and replays queued calls, and at idle time mounts the launcher. The dialog and
// everything else are imported from `${api}/widget/<name>.js` on first use.
//
// The snippet (the stub keeps calls made before loader.js arrives; add nonce="..." to both
// tags under a nonce-based CSP, or put the stub line in your own bundle):
//
//   <script>(function(w){var b=w.Bugline=w.Bugline||function(){(b.q=b.q||[]).push(arguments)};
//   "open close identify setContext on".split(" ").forEach(function(m){b[m]=b[m]||function(){
//   b.apply(null,[m].concat([].slice.call(arguments)))}})})(window);</script>
//   <script async src="https://bugline.example.com/widget/loader.js" data-bugline-key="pk_..."></script>
import { createWidget, whenIdle, type BuglineApi, type ChunkLoader, type ChunkName } from "./api";
import { installBuffers } from "./buffers";
import { readScriptConfig } from "./config";

type Global = ((method: string, ...args: unknown[]) => unknown) & Partial<BuglineApi> & { q?: ArrayLike<unknown>[]; loaded?: boolean };

(function () {
  const w = window as unknown as { Bugline?: Global };
  const stub = w.Bugline;
  if (stub && stub.loaded) return; // a second copy of the snippet
  const config = readScriptConfig(document.currentScript as HTMLScriptElement | null, navigator.language);
  const own = (url: string) => url.indexOf(config.api + "/api/") === 0;
  const buffers = installBuffers({ console: config.capture.console, network: config.capture.network, ignore: own });

  const cache: Partial<Record<ChunkName, Promise<unknown>>> = {};
  const load: ChunkLoader = (name) =>
    cache[name] ||
    (cache[name] = import(config.api + "/widget/" + name + ".js").catch((err) => {
      delete cache[name]; // let a later attempt retry (flaky network)
      throw err;
    }));

  const widget = createWidget(config, buffers, load);
  const methods = ["open", "close", "identify", "setContext", "on"] as const;
  const Bugline = function (method: string, ...args: unknown[]) {
    if ((methods as readonly string[]).indexOf(method) >= 0) {
      return (widget[method as (typeof methods)[number]] as (...a: unknown[]) => unknown)(...args);
    }
  } as Global;
  for (const m of methods) (Bugline as unknown as Record<string, unknown>)[m] = widget[m];
  Bugline.loaded = true;
  w.Bugline = Bugline;

  const queued = (stub && stub.q) || [];
  for (let i = 0; i < queued.length; i++) {
    try {
      const call = Array.prototype.slice.call(queued[i]) as [string, ...unknown[]];
      Bugline(...call);
    } catch {
      /* one bad queued call must not stop the others */
    }
  }

  whenIdle(() => {
    widget.mount();
    widget.resume();
  });
})();

// screenshot.js chunk: loaded only when the user asks for a screenshot (it carries
// snapdom, the largest dependency of the widget). Implements ScreenshotModule.
import type { ScreenshotModule } from "./types";
import { captureViewport, type SvgProbe } from "./screenshot/capture";
import { annotate } from "./annotate";

export const capture: ScreenshotModule["capture"] = (opts) => captureViewport(opts);

export { annotate };
export { captureTab, tabCaptureSupported } from "./screenshot/tab";

/** For the e2e tests only: the same capture, also handing over the serialized SVG that is
 *  rasterised, so the tests can assert no private value was ever read into it. */
export function captureWithProbe(opts: { mask: string[]; exclude: Element[] }, probe: SvgProbe): Promise<Blob> {
  return captureViewport(opts, probe);
}

// Compile-time check that this chunk satisfies the contract.
const _contract: ScreenshotModule = { capture, annotate };
void _contract;

// screenshot.js chunk: loaded only when the user asks for a screenshot, or at idle once the
// dialog is open (prepare). Implements ScreenshotModule. snapdom, the fallback renderer, is
// a further chunk loaded only for pages the default engine cannot capture.
import type { ScreenshotModule } from "./types";
import { captureViewport, lastRenderer, prepareCapture, type SvgProbe } from "./screenshot/capture";
import { annotate } from "./annotate";

export const capture: ScreenshotModule["capture"] = (opts) => captureViewport(opts);

/** Fetches what a capture needs (fonts, visible images) ahead of it: the dialog calls this
 *  when it opens, so capture() itself only clones and rasterises. */
export const prepare = (): Promise<void> => prepareCapture();

export { annotate };
export { captureTab, tabCaptureSupported } from "./screenshot/tab";

/** For the e2e tests only: the same capture, also handing over the serialized SVG that is
 *  rasterised, so the tests can assert no private value was ever read into it. */
export function captureWithProbe(opts: { mask: string[]; exclude: Element[] }, probe: SvgProbe): Promise<Blob> {
  return captureViewport(opts, probe);
}

/** For the tests and the benchmark: which renderer drew the last capture. */
export function renderer(): string {
  return lastRenderer;
}

// Compile-time check that this chunk satisfies the contract.
const _contract: ScreenshotModule = { capture, annotate };
void _contract;

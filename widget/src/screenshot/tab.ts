// Pixel-exact screenshot: one frame of this tab through the browser's own tab capture
// (getDisplayMedia; the browser asks the user first). Nothing is read from the DOM, so the
// private fields are painted over from their boxes before the frame is encoded, and the
// widget's host is hidden while the frame is taken. The raw frame never leaves the browser.
import { DEFAULT_MASK, findMasked, validSelectors, visibleBox } from "./mask";
import { encode } from "./raster";

export function tabCaptureSupported(): boolean {
  return typeof navigator !== "undefined" && !!navigator.mediaDevices?.getDisplayMedia;
}

/** Waits for a frame taken after the widget was hidden. Tab capture sends frames only when
 *  the page changes, so a still page may send no second one: a short timeout ends the wait. */
function freshFrame(video: HTMLVideoElement): Promise<void> {
  const v = video as HTMLVideoElement & { requestVideoFrameCallback?: (cb: () => void) => number };
  const timeout = new Promise<void>((r) => setTimeout(r, 250));
  if (typeof v.requestVideoFrameCallback !== "function") return timeout;
  const twoFrames = new Promise<void>((r) => v.requestVideoFrameCallback!(() => v.requestVideoFrameCallback!(() => r())));
  return Promise.race([twoFrames, timeout]);
}

/** Starts the video. Tab capture sends frames only when the page repaints, so a still page
 *  may send none: a near-invisible pixel is flashed until the first frame arrives. The
 *  waits are generous: on a busy machine the first frame was seen to take over 6 s. */
async function firstFrame(video: HTMLVideoElement): Promise<void> {
  const playing = video.play();
  let done = false;
  void playing.then(() => (done = true), () => (done = true));
  const deadline = Date.now() + 12_000;
  while (!done && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 150));
    if (done) break;
    const poke = document.createElement("div");
    poke.style.cssText = "position:fixed;left:0;top:0;width:1px;height:1px;opacity:.01;pointer-events:none";
    document.body.appendChild(poke);
    await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
    poke.remove();
  }
  await Promise.race([playing, new Promise((_, no) => setTimeout(() => no(new Error("no frame from tab capture")), 3000))]);
}

export async function captureTab(opts: { mask: string[]; exclude: Element[] }): Promise<Blob> {
  const restore = opts.exclude.map((el) => {
    const style = (el as HTMLElement).style;
    const before = style.visibility;
    style.visibility = "hidden";
    return () => {
      style.visibility = before;
    };
  });
  let stream: MediaStream | undefined;
  try {
    stream = await navigator.mediaDevices.getDisplayMedia({
      video: { displaySurface: "browser" },
      audio: false,
      preferCurrentTab: true,
      selfBrowserSurface: "include",
    } as DisplayMediaStreamOptions);
    const video = document.createElement("video");
    video.muted = true;
    video.playsInline = true;
    video.srcObject = stream;
    await firstFrame(video);
    await freshFrame(video);
    const canvas = document.createElement("canvas");
    canvas.width = video.videoWidth;
    canvas.height = video.videoHeight;
    const g = canvas.getContext("2d");
    if (!g) throw new Error("no 2d canvas");
    g.drawImage(video, 0, 0);
    const scale = canvas.width / window.innerWidth;
    const masked = new Set<Element>();
    findMasked(validSelectors([...DEFAULT_MASK, ...opts.mask]), masked);
    g.fillStyle = "#000";
    for (const el of masked) {
      const b = visibleBox(el, window.innerWidth, window.innerHeight);
      if (b) g.fillRect(Math.floor(b.x * scale), Math.floor(b.y * scale), Math.ceil(b.w * scale) + 1, Math.ceil(b.h * scale) + 1);
    }
    return await encode(canvas);
  } finally {
    stream?.getTracks().forEach((t) => t.stop());
    restore.forEach((undo) => undo());
  }
}

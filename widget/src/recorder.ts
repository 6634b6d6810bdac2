// recorder.js chunk: records the current tab with getDisplayMedia + MediaRecorder.
// Loaded only when the user presses "record". Implements RecorderModule.
import type { PartSink, RecorderModule, RecordingHandle } from "./types";

/** S3 multipart needs every part but the last to be >= 5 MiB. */
const PART_SIZE = 5 * 1024 * 1024;
const TIMESLICE_MS = 1000;

function pickMime(): string {
  if (typeof MediaRecorder === "undefined") return "";
  for (const m of ["video/webm;codecs=vp9", "video/webm;codecs=vp8", "video/webm"]) {
    if (MediaRecorder.isTypeSupported(m)) return m;
  }
  return "";
}

export function supported(): boolean {
  return typeof navigator !== "undefined" && !!navigator.mediaDevices?.getDisplayMedia && pickMime() !== "";
}

type StartOpts = Parameters<RecorderModule["start"]>[0] & {
  /** Tests only: a smaller part size so parts can be seen without 5 MiB of video. */
  partSize?: number;
  /** Called once when recording ends by itself: the user stopped sharing in the browser UI
   *  ("user"), or a limit was reached. The dialog then calls stop() to get the Blob. */
  onEnd?(reason: "user" | "maxSeconds" | "maxBytes"): void;
};

export async function start(opts: StartOpts): Promise<RecordingHandle & { readonly sinkError: unknown }> {
  const mimeType = pickMime();
  if (!mimeType || !navigator.mediaDevices?.getDisplayMedia) throw new Error("recording not supported");
  // preferCurrentTab / selfBrowserSurface are Chromium hints to offer (only) this tab;
  // the cast is because lib.dom does not know them yet.
  const stream = await navigator.mediaDevices.getDisplayMedia({
    video: { displaySurface: "browser" },
    audio: false,
    preferCurrentTab: true,
    selfBrowserSurface: "include",
  } as DisplayMediaStreamOptions);

  const rec = new MediaRecorder(stream, { mimeType, videoBitsPerSecond: 2_500_000 });
  const chunks: Blob[] = [];
  const partSize = Math.max(1, opts.partSize ?? PART_SIZE);
  const sink: PartSink | undefined = opts.sink;
  let bytes = 0;
  let lastChunk = 0;
  let pending: Blob[] = []; // chunks not yet handed to the sink
  let pendingBytes = 0;
  let partNo = 0;
  let sinkChain: Promise<void> = Promise.resolve();
  let sinkError: unknown = undefined;
  let cancelled = false;
  let ending: Promise<Blob> | null = null;
  const t0 = performance.now();

  const stopTracks = () => stream.getTracks().forEach((tr) => tr.stop());

  // Parts go to the sink one at a time, in order; after a failure no further parts are
  // sent (the upload is broken anyway) and the dialog can fall back to the whole Blob.
  const sendPart = (last: boolean) => {
    if (!sink) return;
    const part = new Blob(pending, { type: "video/webm" });
    const n = ++partNo;
    pending = [];
    pendingBytes = 0;
    sinkChain = sinkChain.then(() => (sinkError === undefined ? sink(part, n, last) : undefined)).catch((e) => {
      sinkError = e;
    });
  };

  rec.addEventListener("dataavailable", (e) => {
    if (cancelled || !e.data || e.data.size === 0) return;
    // A full part is flushed only when more data follows it, so the final (possibly
    // short) part is always the one sent with last=true.
    if (sink && pendingBytes >= partSize) sendPart(false);
    chunks.push(e.data);
    pending.push(e.data);
    pendingBytes += e.data.size;
    bytes += e.data.size;
    lastChunk = e.data.size;
    // Stop one slice early if the next slice would likely cross the limit: the upload
    // slot is sized by maxBytes and MediaRecorder cannot be cut mid-slice.
    if (bytes + lastChunk * 1.5 >= opts.maxBytes) finish("maxBytes");
  });

  const stopped = new Promise<void>((resolve) => rec.addEventListener("stop", () => resolve(), { once: true }));

  const finish = (reason?: "user" | "maxSeconds" | "maxBytes"): Promise<Blob> => {
    if (ending) return ending;
    clearInterval(tick);
    if (rec.state !== "inactive") rec.stop(); // flushes a last dataavailable, then "stop"
    ending = (async () => {
      await stopped;
      stopTracks();
      if (cancelled) throw new Error("recording cancelled");
      if (sink) {
        sendPart(true);
        await sinkChain;
      }
      return new Blob(chunks, { type: "video/webm" });
    })();
    if (reason) {
      // Let a caller that never calls stop() see no unhandled rejection.
      ending.catch(() => undefined);
      opts.onEnd?.(reason);
    }
    return ending;
  };

  // The user pressed "Stop sharing" in the browser UI: finish like a normal stop.
  stream.getVideoTracks().forEach((tr) => tr.addEventListener("ended", () => void finish("user")));

  const tick = setInterval(() => {
    const seconds = Math.floor((performance.now() - t0) / 1000);
    opts.onTick(seconds, bytes);
    if (seconds >= opts.maxSeconds) void finish("maxSeconds");
  }, 1000);

  rec.start(TIMESLICE_MS);

  return {
    stop: () => finish(),
    cancel: () => {
      cancelled = true;
      chunks.length = 0;
      pending = [];
      void finish().catch(() => undefined);
      stopTracks();
    },
    get sinkError() {
      return sinkError;
    },
  };
}

// Compile-time check that this chunk satisfies the contract.
const _contract: RecorderModule = { supported, start };
void _contract;

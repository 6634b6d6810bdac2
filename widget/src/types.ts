// Contracts between the widget's chunks. Each chunk is loaded only when needed:
//   loader.js      (eager, IIFE, < 3 KB gzip) config, queue stub, JS API, ring buffers, launcher
//   dialog.js      (ESM, on first open) the form, completeness hints, transport, retry queue
//   capture.js     (ESM, with the dialog) environment + client hints, redaction
//   screenshot.js  (ESM, only when the user asks for a screenshot) DOM capture + annotation
//   recorder.js    (ESM, only when the user records) getDisplayMedia + MediaRecorder + parts
// Chunks talk only through these types; the loader passes a WidgetContext to the dialog.

export interface Identity {
  id?: string;
  email?: string;
  name?: string;
  account?: string;
  plan?: string;
}

export interface Config {
  key: string; // project public key (data-bugline-key)
  api: string; // Bugline base URL, no trailing slash (data-bugline-api, default: script origin)
  locale: string; // data-bugline-locale, default navigator.language
  theme: "light" | "dark" | "auto"; // data-bugline-theme
  position: "bottom-right" | "bottom-left"; // data-bugline-position
  launcher: boolean; // data-bugline-launcher="false" hides the button (open via API)
  nonce?: string; // CSP nonce for <style> inside the shadow root (data-bugline-nonce)
  mask: string[]; // extra CSS selectors masked in screenshots (data-bugline-mask, comma-separated)
  capture: { console: boolean; network: boolean; screenshot: boolean; recording: boolean };
}

export interface ConsoleEntry {
  level: "debug" | "log" | "info" | "warn" | "error";
  message: string;
  stack?: string;
  source?: string;
  at: number; // epoch ms
  count: number; // repeats folded
}

export interface NetworkEntry {
  method: string;
  url: string;
  status: number; // 0 = no response
  duration_ms: number;
  error?: string;
  at: number;
}

export interface Buffers {
  console(): ConsoleEntry[]; // newest last, at most 100
  network(): NetworkEntry[]; // failed requests only (status 0 or >= 400), at most 50
}

export type Listener = (payload: unknown) => void;

export interface WidgetContext {
  config: Config;
  buffers: Buffers;
  identity(): Identity | undefined;
  context(): Record<string, unknown>; // host metadata from setContext()
  emit(event: "submitted" | "open" | "close", payload?: unknown): void;
  load<T>(chunk: "capture" | "screenshot" | "recorder"): Promise<T>; // dynamic import by name
  // Added (optional): where the dialog renders, and what gets focus back when it closes.
  root?: ShadowRoot; // the widget's open shadow root (styles already attached)
  host?: HTMLElement; // its host element (excluded from screenshots)
  launcher?: HTMLElement | null; // the launcher button, if shown
}

export interface DialogModule {
  open(ctx: WidgetContext): DialogHandle;
  // Added (optional): retry queued submissions (transport.resume); the loader calls it at idle
  // when localStorage["bugline:pending"] is set.
  resume?(config: Config): Promise<void>;
}

export interface DialogHandle {
  close(): void;
}

// capture.js
export interface PageContext {
  url: string;
  route?: string;
  referrer?: string;
  user_agent: string;
  client_hints?: Record<string, unknown>;
  viewport: { width: number; height: number };
  screen: { width: number; height: number; pixel_ratio: number };
  locale: string;
  languages: string[];
  timezone: string;
  connection?: string;
}

export interface CaptureModule {
  pageContext(): Promise<PageContext>; // high-entropy UA client hints when available
  redact(text: string): string; // emails, bearer tokens, JWTs, api keys, card numbers
  redactUrl(url: string): string; // + secret-looking query parameters
}

// screenshot.js
export interface ScreenshotModule {
  // Capture the visible viewport without a permission prompt (DOM-based). Password inputs,
  // [data-bugline-mask] and config.mask selectors are painted over, never read.
  capture(opts: { mask: string[]; exclude: Element[] }): Promise<Blob>; // image/png or image/jpeg
  // Open the annotation editor (draw, highlight, black-out) over an image inside `root`.
  annotate(image: Blob, root: ShadowRoot, strings: Record<string, string>): Promise<Blob | null>; // null = cancelled
  // Pixel-exact alternative: one frame of the tab through the browser's tab capture (asks the
  // user first); private fields painted over, the widget hidden for that frame.
  captureTab?(opts: { mask: string[]; exclude: Element[] }): Promise<Blob>;
}

// recorder.js
export interface PartSink {
  // Called with each ~5 MiB chunk as it is ready (part numbers from 1), and once with
  // last=true; resolves when the part is uploaded. The dialog wires this to the slot's parts.
  (part: Blob, partNumber: number, last: boolean): Promise<void>;
}

export interface RecorderModule {
  supported(): boolean;
  start(opts: { maxSeconds: number; maxBytes: number; onTick(seconds: number, bytes: number): void;
                sink?: PartSink }): Promise<RecordingHandle>;
}

export interface RecordingHandle {
  stop(): Promise<Blob>; // the whole recording (video/webm)
  cancel(): void;
}

// transport.ts (part of the dialog chunk)
export interface FileToSend {
  file: Blob;
  name: string;
  kind: "screenshot" | "recording" | "file" | "log";
}

export interface Submission {
  report: Record<string, unknown>; // the ReportIn body without `attachments` (see /openapi.json)
  files: FileToSend[];
  idempotencyKey: string; // crypto.randomUUID(), kept across retries and reloads
}

export type SendResult =
  | { ok: true; id: string; number: number; status: string; statusUrl: string; statusToken: string;
      warning?: string } // warning: set when a file failed verification and the report went without it
  | { ok: false; queued: boolean; message: string }; // queued: saved in IndexedDB, retried later

export interface TransportModule {
  // create -> upload each file to its presigned slot (progress over all bytes) -> finalize.
  send(config: Config, submission: Submission, onProgress: (sent: number, total: number) => void): Promise<SendResult>;
  // Retry saved submissions with backoff (same idempotency key); called by the loader at idle.
  resume(config: Config): Promise<void>;
}

// Sends a report: create (idempotent) -> upload each file to its signed slot -> finalize.
// Passing failures (offline, 5xx, 408/409/429, expired upload URLs) park the submission in the
// outbox (queue.ts); resume() sends it again later with the same Idempotency-Key.
import type { Config, FileToSend, SendResult, Submission } from "./types";
import * as q from "./queue";
import { remember, titleOf } from "./mine";

export type Headers_ = Record<string, string>;

export interface PartUrl {
  part_number: number;
  size: number;
  url: string;
  headers?: Headers_ | null;
}

export interface Upload {
  method: string; // "POST" (S3 form), "PUT", "MULTIPART"
  url?: string;
  fields?: Headers_ | null;
  headers?: Headers_ | null;
  part_size?: number;
  max_parts?: number;
  parts?: PartUrl[];
  parts_url?: string;
  complete_url?: string;
}

export interface Created {
  id: string;
  number: number;
  status: string;
  status_token: string;
  status_url: string;
  finalize_url: string;
  attachments?: { upload?: Upload | null }[];
}

export interface PartSpec {
  part_number: number;
  size: number;
}

/** Why a step failed: `retry` = worth trying again later; `after` = ms the server asked to wait. */
export class Fail extends Error {
  constructor(
    message: string,
    public retry: boolean,
    public after = 0,
    public status = 0,
    public code = "",
  ) {
    super(message);
  }
}

const PENDING = "bugline:pending";
const DAY = 864e5;
const SCHEDULE = [5e3, 3e4, 12e4, 6e5]; // then every 30 min

/** Delay before try number `attempts + 1`, with +-20% jitter so tabs and clients spread out. */
export function backoff(attempts: number, rand: () => number = Math.random): number {
  return Math.round((SCHEDULE[attempts - 1] ?? 18e5) * (0.8 + 0.4 * rand()));
}

/** Every part a file of `size` bytes needs when split in `partSize` pieces (last may be shorter). */
export function partPlan(size: number, partSize: number): PartSpec[] {
  const plan: PartSpec[] = [];
  for (let n = 1, at = 0; at < size; n++, at += partSize) plan.push({ part_number: n, size: Math.min(partSize, size - at) });
  return plan;
}

/** The parts of `plan` with no signed URL of exactly the right size among `given`: ask parts_url for these. */
export function missingParts(plan: PartSpec[], given: PartSpec[] = []): PartSpec[] {
  const have = new Map(given.map((p) => [p.part_number, p.size]));
  return plan.filter((p) => have.get(p.part_number) !== p.size);
}

/** 0 (no response), 408, 409, 429 and 5xx may pass; other 4xx will not. */
export const retryable = (status: number): boolean => !status || status == 408 || status == 409 || status == 429 || status >= 500;

/** Retry-After (seconds or an HTTP date) in ms. */
export function retryAfter(v: string | null, now = Date.now()): number {
  if (!v) return 0;
  const s = +v;
  return s >= 0 ? s * 1e3 : Math.max(0, (Date.parse(v) || now) - now);
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
export const withKey = (url: string, key: string): string => url + (url.includes("?") ? "&" : "?") + "key=" + encodeURIComponent(key);

export async function api<T>(url: string, body: unknown, headers: Headers_, method = "POST"): Promise<T> {
  let r: Response;
  try {
    r = await fetch(url, {
      method,
      headers: { "Content-Type": "application/json", ...headers },
      body: body === undefined ? "" : JSON.stringify(body),
      credentials: "omit",
    });
  } catch {
    throw new Fail("Bugline could not be reached", true);
  }
  const data = (await r.json().catch(() => ({}))) as { error?: { code?: string; message?: string } };
  if (r.ok) return data as T;
  const e = data.error ?? {};
  throw new Fail(e.message || "HTTP " + r.status, retryable(r.status), retryAfter(r.headers.get("Retry-After")), r.status, e.code);
}

export function xhr(method: string, url: string, body: Blob | FormData, headers: Headers_ | null | undefined, progress: (n: number) => void): Promise<XMLHttpRequest> {
  return new Promise((res, rej) => {
    const x = new XMLHttpRequest();
    x.open(method, url);
    for (const k in headers ?? {}) x.setRequestHeader(k, headers![k]);
    x.upload.onprogress = (e) => progress(e.loaded);
    x.onload = () => {
      const s = x.status;
      if (s >= 200 && s < 300) return res(x);
      // 403: the signed URL expired; a new create (same Idempotency-Key) signs fresh ones.
      rej(new Fail("upload refused (HTTP " + s + ")", s == 403 || retryable(s), retryAfter(x.getResponseHeader("Retry-After")), s));
    };
    x.onerror = x.ontimeout = () => rej(new Fail("upload interrupted", true));
    x.send(body);
  });
}

/** One upload request, tried up to 3 times with backoff while the failure may pass. */
export async function upload(send: () => Promise<XMLHttpRequest>): Promise<XMLHttpRequest> {
  for (let i = 1; ; i++) {
    try {
      return await send();
    } catch (e) {
      const f = e as Fail;
      if (!f.retry || f.status == 403 || i >= 3) throw f;
      await sleep(Math.max(f.after, 1e3 * 2 ** i));
    }
  }
}

type Attempt = SendResult | Fail;

/** Declared attachments (the `attachments` of a create or /attachments body). */
export const declare = (files: FileToSend[]) =>
  files.map((f) => ({ name: f.name.slice(0, 255) || "file", type: f.file.type || "application/octet-stream", size: f.file.size, kind: f.kind }));

/** Upload each file to its slot (`ups[i]` for `files[i]`), reporting progress over all bytes. */
export async function putFiles(key: string, token: Headers_, ups: (Upload | null | undefined)[], files: FileToSend[], onProgress: (sent: number, total: number) => void): Promise<void> {
  const total = files.reduce((n, f) => n + f.file.size, 0);
  let done = 0;
  const report = (n: number): void => onProgress(Math.min(done + n, total), total);
  report(0);
  for (let i = 0; i < files.length; i++) {
    const file = files[i].file;
    const up = ups[i];
    if (up?.method == "MULTIPART") {
      const size = up.part_size ?? 0;
      const plan = partPlan(file.size, size);
      if (!size || plan.length > (up.max_parts ?? 1e4)) throw new Fail(files[i].name + " is too large", false);
      const urls = new Map((up.parts ?? []).map((p) => [p.part_number, p]));
      const want = missingParts(plan, up.parts);
      for (let j = 0; j < want.length; j += 1000) {
        const got = await api<{ parts: PartUrl[] }>(withKey(up.parts_url!, key), { parts: want.slice(j, j + 1000) }, token);
        for (const p of got.parts) urls.set(p.part_number, p);
      }
      const etags: { part_number: number; etag: string }[] = [];
      for (const p of plan) {
        const u = urls.get(p.part_number)!;
        const at = (p.part_number - 1) * size;
        etags.push({ part_number: p.part_number, etag: etagOf(await upload(() => xhr("PUT", u.url, file.slice(at, at + p.size), u.headers, (n) => report(at + n)))) });
      }
      await complete(key, token, up, etags);
    } else if (up?.url) {
      let body: Blob | FormData = file;
      if (up.method == "POST") {
        body = new FormData();
        for (const k in up.fields ?? {}) body.append(k, up.fields![k]);
        body.append("file", file);
      }
      await upload(() => xhr(up.method, up.url!, body, up.method == "POST" ? null : up.headers, (n) => report(Math.min(n, file.size))));
    }
    // No upload: the slot was already uploaded by an earlier try (or closed); count it as sent.
    done += file.size;
    report(0);
  }
}

/** The ETag of an uploaded part. */
export function etagOf(x: XMLHttpRequest): string {
  const etag = x.getResponseHeader("ETag");
  // Unreadable when the bucket's CORS rules don't expose ETag: a setup error, not a passing one.
  if (!etag) throw new Fail("the upload's ETag is not readable (expose ETag in the bucket's CORS rules)", false);
  return etag;
}

export async function complete(key: string, token: Headers_, up: Upload, parts: { part_number: number; etag: string }[]): Promise<void> {
  try {
    await api(withKey(up.complete_url!, key), { parts }, token);
  } catch (e) {
    if ((e as Fail).status != 409) throw e; // 409: completed by an earlier try
  }
}

/** Finalize (waiting out 409 uploads_incomplete a few times; without a file that failed checks). */
export async function finalize(key: string, created: Created, token: Headers_): Promise<SendResult> {
  let body: unknown;
  let warning: string | undefined;
  for (let i = 0; ; i++) {
    try {
      const r = await api<Created>(withKey(created.finalize_url, key), body, token);
      return { ok: true, id: r.id, number: r.number, status: r.status, statusUrl: r.status_url, statusToken: r.status_token, ...(warning ? { warning } : {}) };
    } catch (e) {
      const f = e as Fail;
      if (f.code == "attachments_rejected" && !body) {
        // A file failed verification: send the report without it rather than lose the report.
        body = { skip_rejected: true };
        warning = f.message;
      } else if (f.status == 409 && i < 4) await sleep(Math.max(f.after, 2e3));
      else throw f;
    }
  }
}

async function attempt(config: Config, sub: Submission, onProgress: (sent: number, total: number) => void): Promise<Attempt> {
  const { api: base, key } = config;
  const files = sub.files.filter((f) => f.file.size > 0);
  try {
    const created = await api<Created>(withKey(base + "/api/v1/reports", key), { ...sub.report, attachments: declare(files) }, { "Idempotency-Key": sub.idempotencyKey });
    const token = { "X-Bugline-Report-Token": created.status_token };
    await putFiles(key, token, (created.attachments ?? []).map((a) => a.upload), files, onProgress);
    return await finalize(key, created, token);
  } catch (e) {
    return e instanceof Fail ? e : new Fail(String(e), true);
  }
}

function mark(on: boolean): void {
  try {
    if (on) localStorage.setItem(PENDING, "1");
    else localStorage.removeItem(PENDING);
  } catch {
    /* storage blocked: the loader just won't know to call resume */
  }
}

let timer: ReturnType<typeof setTimeout> | undefined;
let listening = false;

function arm(config: Config, ms: number): void {
  clearTimeout(timer);
  timer = setTimeout(() => void resume(config), Math.min(Math.max(ms, 1e3), 18e5));
  if (!listening && typeof addEventListener == "function") {
    listening = true;
    addEventListener("online", () => void resume(config));
  }
}

export async function send(config: Config, submission: Submission, onProgress: (sent: number, total: number) => void): Promise<SendResult> {
  const r = await attempt(config, submission, onProgress);
  const key = submission.idempotencyKey;
  if (!(r instanceof Fail)) {
    await q.remove(key).catch(() => undefined);
    return r;
  }
  if (!r.retry) return { ok: false, queued: false, message: r.message };
  try {
    const now = Date.now();
    const old = await q.get(key);
    const attempts = (old?.attempts ?? 0) + 1;
    const next = now + Math.max(backoff(attempts), r.after);
    await q.put({ key, report: submission.report, files: submission.files, api: config.api, pk: config.key, attempts, first: old?.first ?? now, next });
    mark(true);
    arm(config, next - now);
    return { ok: false, queued: true, message: r.message };
  } catch {
    return { ok: false, queued: false, message: r.message };
  }
}

async function drain(config: Config, lease: boolean): Promise<void> {
  for (const it of await q.all()) {
    const now = Date.now();
    if (now - it.first > DAY) await q.remove(it.key);
    else if (it.next <= now && (!lease || (await q.claim(it.key, now + 9e5)))) {
      const cfg = { ...config, api: it.api || config.api, key: it.pk || config.key };
      const r = await attempt(cfg, { report: it.report, files: it.files, idempotencyKey: it.key }, () => undefined);
      if (r instanceof Fail && r.retry) {
        it.attempts++;
        it.next = Date.now() + Math.max(backoff(it.attempts), r.after);
        it.lease = 0;
        await q.put(it);
      } else {
        // Sent later: it belongs in "My reports" like one sent at once.
        if (!(r instanceof Fail) && r.ok) remember(cfg.key, { id: r.id, number: r.number, title: titleOf(it.report), token: r.statusToken, created: Date.now() });
        await q.remove(it.key);
      }
    }
  }
  const left = await q.all();
  mark(left.length > 0);
  if (left.length) arm(config, Math.min(...left.map((i) => i.next)) - Date.now());
}

export async function resume(config: Config): Promise<void> {
  try {
    const locks = typeof navigator == "object" ? (navigator as Navigator & { locks?: LockManager }).locks : undefined;
    if (locks?.request) await locks.request("bugline:outbox", { ifAvailable: true }, (lock) =>
        // Another tab (or this one) is draining: look again in a minute in case it goes away.
        lock ? drain(config, false) : arm(config, 6e4),
      );
    else await drain(config, true);
  } catch {
    /* never throws: the next resume tries again */
  }
}

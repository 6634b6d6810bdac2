// Upload while recording (a lazily imported chunk, loaded when the user starts recording).
// When recording starts, a report is created without words (a draft, awaiting_media) with one
// recording slot declared at its maximum size; each part is uploaded as soon as it fills, so
// stopping means uploading one short part, not the whole video. At Send: PATCH the words, add
// the other files through /attachments, complete the recording's multipart upload, finalize.
// Any failure throws: the dialog then sends the whole report the usual way (new Idempotency-Key).
import type { Config, FileToSend, SendResult } from "./types";
import type { Created, Headers_, PartUrl, Upload } from "./transport";

// The transport's helpers come from the dialog (which has them anyway): importing them here
// would move transport.ts into a shared chunk, and its glue into the dialog's size budget.
type Transport = Pick<typeof import("./transport"), "api" | "complete" | "declare" | "etagOf" | "Fail" | "finalize" | "putFiles" | "upload" | "withKey" | "xhr">;

type Report = Record<string, unknown>;

/** The customer's words: what PATCH /api/v1/reports/{id} takes. */
export const WORDS = ["title", "trying_to_do", "expected", "actual", "error_text", "steps", "frequency", "people_affected"];

/** The PATCH body: the words of a full report body (null and undefined left out). */
export function wordsOf(report: Report): Report {
  const out: Report = {};
  for (const k of WORDS) if (report[k] != null) out[k] = report[k];
  return out;
}

/** The draft's create body: the report without its words. */
export function bareReport(report: Report): Report {
  const out = { ...report };
  for (const k of WORDS) delete out[k];
  return out;
}

const json = (v: unknown): string => JSON.stringify(v ?? null);
const keys = (o: unknown): string => Object.keys((o as object) || {}).sort().join();

/** True when what the user shares now is what the draft was created with: the same reporter and
 *  app metadata, and the same parts of the context (a switch turned off since means: don't use
 *  the draft, which already holds that part). Console and network entries may have grown. */
export function sameSharing(draft: Report, now: Report): boolean {
  return json(draft.reporter) == json(now.reporter) && json(draft.metadata) == json(now.metadata) && keys(draft.context) == keys(now.context);
}

/** Entries of `now` that are not in `before` (console lines and failed requests seen since). */
export function since(before: unknown, now: unknown): unknown[] {
  const seen = new Set(((before as unknown[]) || []).map(json));
  return ((now as unknown[]) || []).filter((e) => !seen.has(json(e)));
}

/** Cuts the recorder's pieces (any size) into parts of exactly `size` bytes, the last shorter. */
export function parter(size: number): (piece: Blob, last: boolean) => Blob[] {
  let rest = new Blob([]);
  return (piece, last) => {
    rest = new Blob([rest, piece]);
    const out: Blob[] = [];
    while (rest.size >= size) {
      out.push(rest.slice(0, size));
      rest = rest.slice(size);
    }
    if (last && rest.size) out.push(rest);
    return out;
  };
}

export interface Draft {
  /** The recorder's PartSink. */
  sink(piece: Blob, partNumber: number, last: boolean): Promise<void>;
  /** At Send: `report` is the full body (words + context), `files` the other files. */
  finish(report: Report, files: FileToSend[], onProgress: (sent: number, total: number) => void): Promise<SendResult>;
}

export function startDraft(t: Transport, config: Config, report: Report, idempotencyKey: string, maxBytes: number): Draft {
  const { key } = config;
  const { api, complete, declare, etagOf, Fail, finalize, putFiles, upload, withKey, xhr } = t;
  const body = bareReport(report);
  const made = api<Created>(
    withKey(config.api + "/api/v1/reports", key),
    { ...body, attachments: [{ name: "recording.webm", type: "video/webm", size: maxBytes, kind: "recording" }] },
    { "Idempotency-Key": idempotencyKey },
  );
  made.catch(() => undefined);
  const urls = new Map<number, PartUrl>();
  const etags: { part_number: number; etag: string }[] = [];
  let cut: ReturnType<typeof parter> | undefined;
  let next = 1;
  let ended = false;
  let failed: unknown;

  const slot = (c: Created): [Upload, Headers_] => {
    const up = c.attachments?.[0]?.upload;
    if (!up || up.method != "MULTIPART" || !up.part_size) throw new Fail("no multipart slot", false);
    return [up, { "X-Bugline-Report-Token": c.status_token }];
  };

  const put = async (up: Upload, token: Headers_, part: Blob): Promise<void> => {
    const n = next++;
    if (n > (up.max_parts ?? 1e4)) throw new Fail("recording too large", false);
    let u = urls.get(n);
    for (let i = 0; ; i++) {
      // A short last part (or a part beyond the first batch) is signed now, for its exact size;
      // a 403 means the URL expired: sign it again, once.
      if (!u || u.size != part.size || i) {
        u = (await api<{ parts: PartUrl[] }>(withKey(up.parts_url!, key), { parts: [{ part_number: n, size: part.size }] }, token)).parts[0];
      }
      const url = u;
      try {
        etags.push({ part_number: n, etag: etagOf(await upload(() => xhr("PUT", url.url, part, url.headers, () => 0))) });
        return;
      } catch (e) {
        if ((e as { status?: number }).status != 403 || i) throw e;
      }
    }
  };

  return {
    sink: (piece, _n, last) =>
      made
        .then(async (c) => {
          const [up, token] = slot(c);
          if (!cut) {
            cut = parter(up.part_size!);
            for (const p of up.parts ?? []) urls.set(p.part_number, p);
          }
          for (const part of cut(piece, last)) await put(up, token, part);
          if (last) ended = true;
        })
        .catch((e) => {
          failed = e;
          throw e;
        }),
    async finish(report, files, onProgress) {
      const c = await made;
      if (failed || !ended || !etags.length) throw failed || new Fail("the recording was not uploaded", true);
      if (!sameSharing(body, report)) throw new Fail("sharing changed since the recording started", true);
      const [up, token] = slot(c);
      const base = config.api + "/api/v1/reports/" + c.id;
      await api(withKey(base, key), wordsOf(report), token, "PATCH");
      const extra = files.filter((f) => f.file.size > 0);
      const then = body.context as Report | undefined;
      const now = report.context as Report | undefined;
      const logs = { console: since(then?.console, now?.console), network: since(then?.network, now?.network) };
      // What the console and network saw while the user reproduced the problem: the draft was
      // created before it, so it goes along as a log file.
      if (logs.console.length || logs.network.length) {
        extra.push({ file: new Blob([JSON.stringify(logs)], { type: "application/json" }), name: "during-recording.json", kind: "log" });
      }
      if (extra.length) {
        const added = await api<{ attachments: { upload?: Upload | null }[] }>(withKey(base + "/attachments", key), { attachments: declare(extra) }, token);
        await putFiles(key, token, added.attachments.map((a) => a.upload), extra, onProgress);
      }
      await complete(key, token, up, etags);
      return finalize(key, c, token);
    },
  };
}

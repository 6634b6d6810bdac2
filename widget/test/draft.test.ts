import { test } from "node:test";
import assert from "node:assert/strict";
import { bareReport, parter, sameSharing, since, startDraft, wordsOf } from "../src/draft";
import { declare, Fail } from "../src/transport";
import type { Config } from "../src/types";

const report = {
  trying_to_do: "Export",
  expected: "A CSV",
  actual: "Spinner",
  error_text: "",
  steps: "",
  frequency: "always",
  people_affected: null,
  reporter: { email: "a@example.com", locale: "en" },
  context: { url: "https://app/x", console: [{ level: "error", message: "boom", at: 1, count: 1 }] },
  metadata: { plan: "gold" },
};

test("wordsOf keeps only the words PATCH takes; bareReport drops them", () => {
  assert.deepEqual(wordsOf(report), {
    trying_to_do: "Export",
    expected: "A CSV",
    actual: "Spinner",
    error_text: "",
    steps: "",
    frequency: "always",
  });
  const bare = bareReport(report);
  assert.deepEqual(Object.keys(bare).sort(), ["context", "metadata", "reporter"]);
  assert.equal(report.actual, "Spinner", "the original is not changed");
});

test("sameSharing: new console lines are fine; a switch turned off or a new email is not", () => {
  const later = { ...report, actual: "changed", context: { ...report.context, console: [...report.context.console, { level: "log", message: "x", at: 2, count: 1 }] } };
  assert.ok(sameSharing(bareReport(report), later));
  const { console: _c, ...noConsole } = report.context;
  assert.ok(!sameSharing(bareReport(report), { ...report, context: noConsole }));
  assert.ok(!sameSharing(bareReport(report), { ...report, reporter: { email: "b@example.com", locale: "en" } }));
  assert.ok(!sameSharing(bareReport(report), { ...report, metadata: {} }));
});

test("since lists entries that were not there before", () => {
  const a = { level: "error", message: "boom", count: 1 };
  const b = { level: "log", message: "later", count: 1 };
  assert.deepEqual(since([a], [a, b]), [b]);
  assert.deepEqual(since(undefined, [a]), [a]);
  assert.deepEqual(since([a], undefined), []);
  assert.deepEqual(since([a], [{ ...a, count: 2 }]), [{ ...a, count: 2 }], "a repeat that grew is new");
});

test("parter cuts pieces of any size into exact parts, the last one shorter", async () => {
  const cut = parter(10);
  const sizes = (blobs: Blob[]) => blobs.map((b) => b.size);
  assert.deepEqual(sizes(cut(new Blob(["x".repeat(7)]), false)), []);
  assert.deepEqual(sizes(cut(new Blob(["y".repeat(25)]), false)), [10, 10, 10]);
  const last = cut(new Blob(["z".repeat(3)]), true);
  assert.deepEqual(sizes(last), [5]);
  assert.equal(await last[0].text(), "yyzzz");
  // Exactly full at the end: no empty last part.
  const c2 = parter(4);
  assert.deepEqual(sizes(c2(new Blob(["abcd"]), false)), [4]);
  assert.deepEqual(sizes(c2(new Blob([]), true)), []);
  // Content is kept in order across cuts.
  const c3 = parter(3);
  const parts = [...c3(new Blob(["abcd"]), false), ...c3(new Blob(["efg"]), true)];
  assert.deepEqual(await Promise.all(parts.map((p) => p.text())), ["abc", "def", "g"]);
});

/** A fake transport: records every call, answers like the server. */
function fakeTransport(partSize: number) {
  const calls: { what: string; url?: string; body?: unknown; method?: string; size?: number }[] = [];
  const created = {
    id: "r1",
    number: 7,
    status: "awaiting_media",
    status_token: "tok",
    status_url: "https://b/api/v1/status/tok",
    finalize_url: "https://b/api/v1/reports/r1/finalize",
    attachments: [
      {
        upload: {
          method: "MULTIPART",
          part_size: partSize,
          max_parts: 100,
          parts: [1, 2, 3].map((n) => ({ part_number: n, size: partSize, url: "https://s3/part" + n })),
          parts_url: "https://b/api/v1/reports/r1/attachments/a1/parts",
          complete_url: "https://b/api/v1/reports/r1/attachments/a1/complete",
        },
      },
    ],
  };
  const t = {
    declare,
    Fail,
    withKey: (url: string, key: string) => url + "?key=" + key,
    async api(url: string, body: unknown, _headers: Record<string, string>, method = "POST") {
      calls.push({ what: "api", url, body, method });
      if (url.startsWith("https://b/api/v1/reports?")) return created;
      if (url.includes("/parts?")) {
        const p = (body as { parts: { part_number: number; size: number }[] }).parts[0];
        return { parts: [{ ...p, url: "https://s3/signed" + p.part_number }] };
      }
      if (url.includes("/attachments?")) return { attachments: [{ upload: { method: "PUT", url: "https://s3/shot" } }] };
      if (url.includes("/finalize")) return { ...created, status: "received" };
      return {};
    },
    async upload(send: () => Promise<XMLHttpRequest>) {
      return send();
    },
    async xhr(method: string, url: string, body: Blob) {
      calls.push({ what: "put", method, url, size: body.size });
      return { getResponseHeader: () => '"etag-' + url.slice(-1) + '"' } as unknown as XMLHttpRequest;
    },
    etagOf: (x: XMLHttpRequest) => x.getResponseHeader("ETag")!,
    async complete(_key: string, _token: unknown, up: { complete_url?: string }, parts: unknown) {
      calls.push({ what: "complete", url: up.complete_url, body: parts });
    },
    async putFiles(_key: string, _token: unknown, ups: unknown[], files: { name: string }[]) {
      calls.push({ what: "putFiles", body: { ups: ups.length, names: files.map((f) => f.name) } });
    },
    async finalize(_key: string, c: typeof created) {
      calls.push({ what: "finalize", url: c.finalize_url });
      return { ok: true as const, id: c.id, number: c.number, status: "received", statusUrl: c.status_url, statusToken: c.status_token };
    },
  };
  return { t: t as unknown as Parameters<typeof startDraft>[0], calls };
}

const config = { api: "https://b", key: "pk" } as Config;

test("startDraft: a wordless draft, parts while recording, then words, files, complete, finalize", async () => {
  const { t, calls } = fakeTransport(10);
  const d = startDraft(t, config, report, "idem-1", 1000);
  await d.sink(new Blob(["a".repeat(12)]), 1, false); // part 1 (10 bytes) goes up now
  assert.deepEqual(calls.filter((c) => c.what == "put").map((c) => [c.url, c.size]), [["https://s3/part1", 10]]);
  await d.sink(new Blob(["b".repeat(15)]), 2, true); // 2 + 15 = 17: part 2 full, part 3 short (7)
  const create = calls[0];
  assert.equal(create.url, "https://b/api/v1/reports?key=pk");
  const body = create.body as Record<string, unknown>;
  assert.equal(body.actual, undefined, "no words in the draft");
  assert.deepEqual(body.attachments, [{ name: "recording.webm", type: "video/webm", size: 1000, kind: "recording" }]);
  const shot = { file: new Blob(["png"], { type: "image/png" }), name: "screenshot.png", kind: "screenshot" as const };
  const later = { ...report, context: { ...report.context, console: [...report.context.console, { level: "warn", message: "slow", at: 3, count: 1 }] } };
  const result = await d.finish(later, [shot], () => undefined);
  assert.deepEqual(result, { ok: true, id: "r1", number: 7, status: "received", statusUrl: "https://b/api/v1/status/tok", statusToken: "tok" });
  const steps = calls.map((c) => c.what + " " + (c.method ?? "") + " " + (c.url ?? "").replace(/\?.*/, ""));
  assert.deepEqual(steps, [
    "api POST https://b/api/v1/reports",
    "put PUT https://s3/part1",
    "put PUT https://s3/part2",
    "api POST https://b/api/v1/reports/r1/attachments/a1/parts", // the short last part, signed for its size
    "put PUT https://s3/signed3",
    "api PATCH https://b/api/v1/reports/r1",
    "api POST https://b/api/v1/reports/r1/attachments",
    "putFiles  ",
    "complete  https://b/api/v1/reports/r1/attachments/a1/complete",
    "finalize  https://b/api/v1/reports/r1/finalize",
  ]);
  assert.deepEqual(calls.find((c) => c.url?.includes("/parts?"))!.body, { parts: [{ part_number: 3, size: 7 }] });
  assert.deepEqual(calls.find((c) => c.method == "PATCH")!.body, wordsOf(report));
  const added = calls.find((c) => c.url?.startsWith("https://b/api/v1/reports/r1/attachments?"))!.body as { attachments: { name: string; kind: string }[] };
  assert.deepEqual(added.attachments.map((a) => [a.name, a.kind]), [["screenshot.png", "screenshot"], ["during-recording.json", "log"]]);
  assert.deepEqual(calls.find((c) => c.what == "complete")!.body, [
    { part_number: 1, etag: '"etag-1"' },
    { part_number: 2, etag: '"etag-2"' },
    { part_number: 3, etag: '"etag-3"' },
  ]);
});

test("startDraft: finish refuses (so the dialog sends it all) when the recording did not end or sharing changed", async () => {
  const { t } = fakeTransport(10);
  const d = startDraft(t, config, report, "idem-2", 1000);
  await d.sink(new Blob(["a".repeat(12)]), 1, false);
  await assert.rejects(d.finish(report, [], () => undefined), /not uploaded/);
  await d.sink(new Blob(["a"]), 2, true);
  await assert.rejects(d.finish({ ...report, reporter: { email: "new@example.com" } }, [], () => undefined), /sharing changed/);
  const ok = await d.finish(report, [], () => undefined);
  assert.equal(ok.ok, true);
});

test("startDraft: a failed create fails the sink and finish", async () => {
  const { t } = fakeTransport(10);
  const broken = { ...t, api: async () => Promise.reject(new Fail("down", true)) } as typeof t;
  const d = startDraft(broken, config, report, "idem-3", 1000);
  await assert.rejects(d.sink(new Blob(["a"]), 1, true), /down/);
  await assert.rejects(d.finish(report, [], () => undefined), /down/);
});

import { test } from "node:test";
import assert from "node:assert/strict";
import { eventLabel, fetchAnswers, showMine, statusLabel, type Answer, type MineOptions } from "../src/ui/myreports";
import type { Mine } from "../src/mine";
import en from "../src/strings/en";
import de from "../src/strings/de";
import fr from "../src/strings/fr";
import { fmt } from "../src/strings";
import { FakeElement, installDocument, type FakeDocument } from "./fakedom";

const token = (n: number) => `tok${n}_` + "y".repeat(38);
const sent = Date.UTC(2026, 2, 3, 9, 30);
const entry = (n: number, title = "Problem " + n): Mine => ({ id: "r" + n, number: n, title, token: token(n), created: sent });

function answer(n: number, over: Partial<Answer> = {}): Answer {
  return {
    token: token(n),
    number: n,
    title: "Server title " + n,
    status: "received",
    created_at: "2026-03-03T09:30:00+00:00",
    updated_at: "2026-03-03T09:30:01+00:00",
    page_url: `https://bugline.example/s/${token(n)}`,
    timeline: [
      { at: "2026-03-03T09:30:00+00:00", kind: "created", status: "received" },
      { at: "2026-03-03T09:30:00+00:00", kind: "status_changed", status: "received" },
    ],
    ...over,
  };
}

interface Shown {
  doc: FakeDocument;
  dlg: FakeElement;
  form: FakeElement;
  done: FakeElement;
  view: ReturnType<typeof showMine>;
  said: string[];
  asked: string[][];
  backs: number;
}

function show(entries: Mine[], load: (tokens: string[]) => Promise<Map<string, Answer>>, s = en, lang = "en"): Shown {
  const doc = installDocument();
  const dlg = doc.createElement("dialog");
  doc.body.append(dlg);
  const form = doc.createElement("form");
  const done = doc.createElement("div");
  done.hidden = true;
  dlg.append(form, done);
  const out = { doc, dlg, form, done, said: [] as string[], asked: [] as string[][], backs: 0 } as Shown;
  const opts: MineOptions = {
    dlg: dlg as unknown as HTMLElement,
    hide: [form, done] as unknown as HTMLElement[],
    entries,
    s,
    lang,
    fmt,
    load: (tokens) => (out.asked.push(tokens), load(tokens)),
    announce: (t) => out.said.push(t),
    back: () => out.backs++,
  };
  out.view = showMine(opts);
  return out;
}

const section = (x: Shown) => x.view.section as unknown as FakeElement;
const rows = (x: Shown) => section(x).find("li.mine-item");
// The formats the view uses, in this machine's time zone.
const moment = (lang: string) => new Intl.DateTimeFormat(lang, { dateStyle: "medium", timeStyle: "short" });
const day = (lang: string) => new Intl.DateTimeFormat(lang, { dateStyle: "medium" }).format(sent);
const answers = (...list: Answer[]) => async () => new Map(list.map((a) => [a.token, a]));

test("no reports yet: the empty state, no request, Back brings the form back", async () => {
  const x = show([], async () => {
    throw new Error("must not be called");
  });
  await x.view.ready;
  assert.equal(section(x).one("h3").textContent, "My reports");
  assert.equal(section(x).one(".mine-empty").textContent, "No reports from this browser yet");
  assert.equal(x.asked.length, 0);
  assert.ok(x.form.hidden && x.done.hidden, "the form is out of the way");
  assert.equal(x.doc.activeElement, section(x).one("h3"), "focus goes to the list's heading");
  assert.equal(section(x).one("h3").tabIndex, -1);
  assert.equal(section(x).getAttribute("aria-labelledby"), section(x).one("h3").id);
  const back = section(x).one("button");
  assert.equal(back.textContent, "Back");
  back.click();
  assert.equal(x.backs, 1);
  assert.ok(!section(x).isConnected, "the list is gone");
  assert.ok(!x.form.hidden && x.done.hidden, "what was shown before is shown again");
});

test("each report with its status, status page link and public timeline, in the stored order", async () => {
  const resolved = answer(7, {
    status: "resolved",
    timeline: [
      ...answer(7).timeline,
      { at: "2026-03-04T15:00:00+00:00", kind: "status_changed", status: "resolved", note: "Fixed in 2.4.\nThanks!" },
    ],
  });
  const x = show([entry(7), entry(5), entry(3)], answers(resolved, answer(5)));
  const [a, b, c] = rows(x);
  // Before the answer: what the browser knows, and that it is loading.
  assert.equal(a.one(".mine-num").textContent, "#7");
  assert.equal(a.one(".mine-title").textContent, "Problem 7");
  assert.equal(a.one(".mine-status").textContent, "Loading…");
  assert.equal(a.one(".mine-meta").textContent, "Sent " + day("en"));
  assert.equal(day("en"), "Mar 3, 2026");
  assert.deepEqual(x.said, ["Loading…"]);
  await x.view.ready;
  assert.deepEqual(x.asked, [[token(7), token(5), token(3)]], "one request for all of them");
  assert.deepEqual(x.said, ["Loading…", ""]);

  assert.equal(a.one(".mine-title").textContent, "Server title 7");
  assert.equal(a.one(".mine-status").textContent, "Resolved");
  assert.equal(a.one(".mine-status").dataset.status, "resolved");
  const link = a.one("a");
  assert.equal(link.textContent, "Status page");
  assert.equal(link.href, `https://bugline.example/s/${token(7)}`);
  assert.equal(link.getAttribute("aria-label"), "Status page of report #7");
  assert.equal(link.target, "_blank");
  assert.equal(link.rel, "noopener noreferrer");
  assert.equal(a.one("summary").textContent, "History (3)");
  const events = a.one("ol").children;
  assert.deepEqual(
    events.map((e) => e.childNodes.filter((n) => !(n instanceof FakeElement) || n.tagName != "time").map((n) => n.textContent).join("|")),
    ["Sent", "Received", "Resolved|Fixed in 2.4.\nThanks!"],
  );
  const time = events[2].one("time");
  assert.equal(time.dateTime, "2026-03-04T15:00:00+00:00");
  assert.equal(time.textContent, moment("en").format(Date.parse("2026-03-04T15:00:00+00:00")));

  assert.equal(b.one(".mine-status").textContent, "Received");
  assert.equal(c.one(".mine-status").textContent, "No longer available", "a token the server no longer knows");
  assert.equal(c.one(".mine-status").dataset.status, "gone");
  assert.equal(c.find("a").length + c.find("details").length, 0);
});

test("when the statuses cannot be fetched, each line says so and the live region too", async () => {
  const x = show([entry(1), entry(2)], async () => {
    throw new Error("HTTP 503");
  });
  await x.view.ready;
  assert.deepEqual(rows(x).map((r) => r.one(".mine-status").textContent), ["Couldn't load", "Couldn't load"]);
  assert.deepEqual(x.said, ["Loading…", "Couldn't load"]);
  assert.equal(rows(x)[0].one(".mine-title").textContent, "Problem 1", "what the browser knows stays");
});

test("hostile or odd answers are shown as text and never as links or markup", async () => {
  const x = show(
    [entry(1, ""), entry(2)],
    answers(
      answer(1, {
        title: '<img src=x onerror="alert(1)">',
        status: "waiting_on_vendor",
        page_url: "javascript:alert(1)",
        timeline: [
          null as unknown as Answer["timeline"][0],
          { at: "not a date", kind: "custom_kind" },
          { at: "2026-03-03T10:00:00+00:00", kind: "status_changed", status: "in_progress", note: "<b>soon</b>" },
        ],
      }),
      answer(2, { timeline: "nope" as unknown as Answer["timeline"] }),
    ),
  );
  const [a, b] = rows(x);
  assert.equal(a.one(".mine-title").textContent, "#1", "no stored title: the reference");
  await x.view.ready;
  assert.equal(a.one(".mine-title").textContent, '<img src=x onerror="alert(1)">');
  assert.equal(a.find("img").length, 0);
  assert.equal(a.one(".mine-status").textContent, "waiting on vendor");
  assert.equal(a.find("a").length, 0, "only http(s) links");
  const [odd, moved] = a.one("ol").children;
  assert.equal(odd.textContent, "custom kind", "an unknown kind, its words; no readable time, none shown");
  assert.equal(moved.one("time").textContent, moment("en").format(Date.parse("2026-03-03T10:00:00+00:00")));
  assert.equal(moved.one(".mine-note").textContent, "<b>soon</b>");
  assert.equal(a.find("b").length, 0);
  assert.equal(b.one(".mine-status").textContent, "Received");
  assert.equal(b.find("details").length, 0, "no timeline, no history");
});

test("in French, with French dates", async () => {
  const x = show([entry(4)], answers(answer(4, { status: "cannot_reproduce" })), fr, "fr");
  const [a] = rows(x);
  assert.equal(section(x).one("h3").textContent, "Mes signalements");
  assert.equal(a.one(".mine-meta").textContent, "Envoyé le " + day("fr"));
  assert.equal(day("fr"), "3 mars 2026");
  await x.view.ready;
  assert.equal(a.one(".mine-status").textContent, "Non reproductible");
  assert.equal(a.one("a").getAttribute("aria-label"), "Page de suivi du signalement n° 4");
  assert.equal(a.one("summary").textContent, "Historique (2)");
  const empty = show([], answers(), fr, "fr");
  assert.equal(section(empty).one(".mine-empty").textContent, "Aucun signalement envoyé depuis ce navigateur pour l'instant");
});

test("close() takes the list away without calling back (the dialog is closing)", () => {
  const x = show([entry(1)], () => new Promise(() => undefined));
  x.view.close();
  assert.ok(!section(x).isConnected && !x.form.hidden);
  assert.equal(x.backs, 0);
});

test("labels: every status has words in each language; unknown ones read as words", () => {
  for (const s of [en, de, fr]) {
    for (const st of ["awaiting_media", "received", "needs_info", "escalated", "in_progress", "resolved", "cannot_reproduce", "closed", "reopened"]) {
      assert.ok(!statusLabel(s, st).includes("_"), st);
    }
  }
  assert.equal(eventLabel(en, { at: "", kind: "created", status: "awaiting_media" }), "Sent");
  assert.equal(eventLabel(en, { at: "", kind: "status_changed", status: "needs_info" }), "Needs info");
  assert.equal(eventLabel(en, { at: "", kind: "answered" }), "You added details");
  assert.equal(eventLabel(fr, { at: "", kind: "answered" }), "Vous avez ajouté des précisions");
  assert.equal(eventLabel(en, { at: "", kind: "answers_received" }), "answers received");
});

test("fetchAnswers: one POST with the key in the URL and no cookies; failures throw; junk is dropped", async () => {
  const calls: { url: string; init: RequestInit }[] = [];
  const reply = (status: number, body: unknown) => async (url: string | URL | Request, init?: RequestInit) => {
    calls.push({ url: String(url), init: init! });
    return new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });
  };
  const got = await fetchAnswers("https://b.example", "pk_a&b=c", [token(1), token(2)], reply(200, { reports: [answer(1), { token: 5 }, null, answer(2, { status: 3 as unknown as string })] }) as typeof fetch);
  assert.deepEqual([...got.keys()], [token(1)]);
  assert.equal(calls[0].url, "https://b.example/api/v1/status/batch?key=pk_a%26b%3Dc");
  assert.equal(calls[0].init.method, "POST");
  assert.equal(calls[0].init.credentials, "omit");
  assert.deepEqual(JSON.parse(String(calls[0].init.body)), { tokens: [token(1), token(2)] });
  await assert.rejects(fetchAnswers("https://b.example", "pk", [token(1)], reply(429, { error: {} }) as typeof fetch), /HTTP 429/);
  assert.equal((await fetchAnswers("https://b.example", "pk", [token(1)], reply(200, { reports: "x" }) as typeof fetch)).size, 0);
  const before = calls.length;
  assert.equal((await fetchAnswers("https://b.example", "pk", [], reply(200, {}) as typeof fetch)).size, 0);
  assert.equal(calls.length, before, "no tokens, no request");
});

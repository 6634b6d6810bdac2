// "My reports" (a lazily imported chunk, with its own styles): the reports sent from this browser
// (kept by ../mine.ts), each with its current status and public timeline, fetched for all of them
// in one request (POST /api/v1/status/batch, by their status tokens), and a link to its status
// page. Nothing is imported from the dialog's modules at run time: sharing one would split it
// into a chunk the dialog then loads up front.
import type { Mine } from "../mine";
import type { Strings } from "../strings";

/** One public timeline entry (the batch endpoint never sends actors, sources or internal notes). */
export interface Entry {
  at: string;
  kind: string;
  status?: string;
  note?: string;
}

/** One report as POST /api/v1/status/batch answers it. */
export interface Answer {
  token: string;
  number: number;
  title: string;
  status: string;
  created_at: string;
  updated_at: string;
  page_url: string;
  timeline: Entry[];
}

export interface MineOptions {
  dlg: HTMLElement; // the list goes in here, in place of `hide` (the form or the done view)
  hide: HTMLElement[];
  entries: Mine[];
  s: Strings;
  lang: string;
  fmt(template: string, values: Record<string, string | number>): string;
  load(tokens: string[]): Promise<Map<string, Answer>>; // fetchAnswers, or a test's
  announce(text: string): void; // the dialog's live region
  back(): void; // after Back: the dialog puts focus back on its "My reports" button
}

export interface MineView {
  section: HTMLElement;
  /** Take the list away and show what it hid (no focus change: the dialog is closing). */
  close(): void;
  /** Settles once the statuses are shown (or the failure is). */
  ready: Promise<void>;
}

export const MINE_CSS = `
.mine{padding:8px 20px 20px}
.mine h3{font-size:17px;margin:4px 0 8px}
.mine-empty{color:var(--bl-muted)}
.mine-list{list-style:none;padding:0;margin:0}
.mine-item{padding:10px 0;border-bottom:1px solid var(--bl-border)}
.mine-head{display:flex;flex-wrap:wrap;align-items:baseline;gap:4px 8px}
.mine-num{color:var(--bl-muted);font-variant-numeric:tabular-nums}
.mine-title{flex:1;min-width:8em;font-weight:600;overflow-wrap:anywhere}
.mine-status{font-size:13px;white-space:nowrap;border-radius:999px;padding:2px 10px;background:color-mix(in srgb,var(--bugline-accent) 15%,transparent)}
.mine-status[data-status=resolved],.mine-status[data-status=closed]{background:color-mix(in srgb,var(--bugline-fg) 10%,transparent)}
.mine-status[data-status=error],.mine-status[data-status=gone]{background:none;border:1px solid var(--bl-border);color:var(--bl-muted)}
.mine-meta{margin:4px 0 0;font-size:13px;color:var(--bl-muted)}
.mine-meta a{color:var(--bugline-accent);margin-inline-start:10px}
.mine details{margin-top:6px;font-size:14px}
.mine summary{cursor:pointer;padding:4px 0;width:max-content}
.mine summary:focus-visible{outline:3px solid var(--bugline-accent);outline-offset:2px}
.mine ol{margin:4px 0 0;padding-inline-start:20px}
.mine li li{padding:2px 0}
.mine time{color:var(--bl-muted);margin-inline-end:8px}
.mine-note{margin:2px 0 0;white-space:pre-wrap;overflow-wrap:anywhere}
`;

const HTTP = /^https?:\/\//i;

/** The statuses and public timelines of the reports with these tokens, in one request. */
export async function fetchAnswers(api: string, key: string, tokens: string[], get: typeof fetch = fetch): Promise<Map<string, Answer>> {
  const out = new Map<string, Answer>();
  if (!tokens.length) return out;
  const r = await get(api + "/api/v1/status/batch?key=" + encodeURIComponent(key), {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ tokens }),
    credentials: "omit",
  });
  if (!r.ok) throw new Error("HTTP " + r.status);
  const v = (await r.json()) as { reports?: unknown };
  for (const a of Array.isArray(v?.reports) ? (v.reports as Answer[]) : []) {
    if (a && typeof a.token == "string" && typeof a.status == "string") out.set(a.token, a);
  }
  return out;
}

/** The human label of a report status; unknown statuses are shown as they are. */
export function statusLabel(s: Strings, status: string): string {
  const label = (s as unknown as Record<string, string>)["status_" + status];
  return typeof label == "string" ? label : status.replace(/_/g, " ");
}

/** A timeline entry's words: its own for some kinds ("Sent", "You added details"), else the
 *  status it moved to; an unknown kind as words. */
export function eventLabel(s: Strings, e: Entry): string {
  const own = (s as unknown as Record<string, string>)["event_" + e.kind];
  if (typeof own == "string") return own;
  return typeof e.status == "string" ? statusLabel(s, e.status) : String(e.kind).replace(/_/g, " ");
}

function el<K extends keyof HTMLElementTagNameMap>(tag: K, cls = "", text = ""): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text) e.textContent = text;
  return e;
}

interface Row {
  li: HTMLLIElement;
  fill(a: Answer | undefined): void;
  failed(): void;
}

function row(m: Mine, o: MineOptions, day: Intl.DateTimeFormat, moment: Intl.DateTimeFormat): Row {
  const { s } = o;
  const li = el("li", "mine-item");
  const title = el("span", "mine-title", m.title || "#" + m.number);
  title.dir = "auto";
  const status = el("span", "mine-status", s.mineLoading);
  const head = el("div", "mine-head");
  head.append(el("span", "mine-num", "#" + m.number), title, status);
  const meta = el("p", "mine-meta", m.created ? o.fmt(s.mineSentOn, { date: day.format(m.created) }) : "");
  li.append(head, meta);
  const mark = (text: string, state: string) => {
    status.textContent = text;
    status.dataset.status = state;
  };
  return {
    li,
    failed: () => mark(s.mineFailed, "error"),
    fill(a) {
      if (!a) return mark(s.mineGone, "gone"); // deleted, or a token the server does not know
      if (a.title) title.textContent = a.title;
      mark(statusLabel(s, a.status), a.status);
      if (typeof a.page_url == "string" && HTTP.test(a.page_url)) {
        const link = el("a", "", s.minePage);
        link.href = a.page_url;
        link.target = "_blank";
        link.rel = "noopener noreferrer";
        link.setAttribute("aria-label", o.fmt(s.minePageOf, { number: m.number }));
        meta.append(link);
      }
      const events = Array.isArray(a.timeline) ? a.timeline : [];
      if (!events.length) return;
      const history = el("details");
      const list = el("ol");
      for (const e of events) {
        if (!e || typeof e != "object") continue;
        const item = el("li");
        const at = Date.parse(String(e.at));
        if (at) {
          const time = el("time", "", moment.format(at));
          time.dateTime = e.at;
          item.append(time);
        }
        item.append(eventLabel(s, e));
        if (typeof e.note == "string" && e.note) {
          const note = el("p", "mine-note", e.note);
          note.dir = "auto";
          item.append(note);
        }
        list.append(item);
      }
      history.append(el("summary", "", o.fmt(s.mineHistory, { count: events.length })), list);
      li.append(history);
    },
  };
}

/** Show the list in place of `o.hide` inside `o.dlg`, focus its heading, then fill in the statuses. */
export function showMine(o: MineOptions): MineView {
  const { s } = o;
  const was = o.hide.map((e) => e.hidden);
  o.hide.forEach((e) => (e.hidden = true));
  const section = el("section", "mine");
  const heading = el("h3", "", s.mine);
  heading.id = "bl-mine-title";
  heading.tabIndex = -1;
  section.setAttribute("aria-labelledby", heading.id);
  section.append(heading);
  const day = new Intl.DateTimeFormat(o.lang, { dateStyle: "medium" });
  const moment = new Intl.DateTimeFormat(o.lang, { dateStyle: "medium", timeStyle: "short" });
  const rows = o.entries.map((m) => row(m, o, day, moment));
  if (rows.length) {
    const list = el("ul", "mine-list");
    list.append(...rows.map((r) => r.li));
    section.append(list);
  } else section.append(el("p", "mine-empty", s.mineEmpty));
  const close = () => {
    section.remove();
    o.hide.forEach((e, i) => (e.hidden = was[i]));
  };
  const back = el("button", "btn", s.back);
  back.type = "button";
  back.onclick = () => {
    close();
    o.back();
  };
  const actions = el("div", "actions");
  actions.append(back);
  section.append(actions);
  o.dlg.insertBefore(section, o.hide[0]);
  heading.focus();
  let ready = Promise.resolve();
  if (rows.length) {
    o.announce(s.mineLoading);
    const say = (text: string) => section.isConnected && o.announce(text);
    ready = o
      .load(o.entries.map((m) => m.token))
      .then((answers) => {
        rows.forEach((r, i) => r.fill(answers.get(o.entries[i].token)));
        say("");
      })
      .catch(() => {
        rows.forEach((r) => r.failed());
        say(s.mineFailed);
      });
  }
  return { section, close, ready };
}

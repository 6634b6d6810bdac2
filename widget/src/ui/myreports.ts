// "My reports" (a lazily imported chunk): the reports sent from this browser, kept in
// localStorage by the dialog, each with its current status fetched from its status link.
// Only this browser's own reports (their unguessable status links); nothing else is linked.
import type { Strings } from "../strings";

export interface Mine {
  id: string;
  number: number;
  statusUrl: string;
  title: string;
  at: number; // epoch ms, when it was sent
}

/** What the status endpoint answers (GET statusUrl). */
interface StatusView {
  reference: string;
  title: string;
  status: string;
  created_at: string;
  updated_at: string;
}

/** The human label of a report status; unknown statuses are shown as they are. */
export function statusLabel(s: Strings, status: string): string {
  const label = (s as unknown as Record<string, string>)["status_" + status];
  return typeof label == "string" ? label : status.replace(/_/g, " ");
}

function el<K extends keyof HTMLElementTagNameMap>(tag: K, cls: string, text = ""): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  e.textContent = text;
  return e;
}

async function fetchStatus(url: string): Promise<StatusView> {
  const r = await fetch(url, { credentials: "omit", headers: { Accept: "application/json" } });
  if (!r.ok) throw new Error("HTTP " + r.status);
  const v = (await r.json()) as StatusView;
  if (!v || typeof v.status != "string") throw new Error("unexpected answer");
  return v;
}

/** Show the list in place of `hide` (the form or the done view) inside `dlg`; Back restores them. */
export function showMine(o: { dlg: HTMLElement; hide: HTMLElement[]; entries: Mine[]; s: Strings; lang: string; back(): void }): void {
  const { s } = o;
  const was = o.hide.map((e) => e.hidden);
  o.hide.forEach((e) => (e.hidden = true));
  const section = el("section", "done mine"); // .done, .files, .file-*: the dialog's styles
  const heading = el("h3", "", s.mine);
  heading.id = "bl-mine-title";
  heading.tabIndex = -1;
  section.setAttribute("aria-labelledby", heading.id);
  const list = el("ul", "files");
  const dates = new Intl.DateTimeFormat(o.lang, { dateStyle: "medium" });
  for (const m of o.entries) {
    const item = el("li", "");
    const head = el("span", "", "#" + m.number);
    const title = el("span", "file-name", m.title);
    title.dir = "auto";
    const status = el("span", "mine-status", "…");
    const when = el("span", "file-size", m.at ? dates.format(new Date(m.at)) : "");
    item.append(head, title, status, when);
    list.append(item);
    fetchStatus(m.statusUrl).then(
      (v) => {
        if (v.title) title.textContent = v.title;
        status.textContent = statusLabel(s, v.status);
        status.dataset.status = v.status;
        const updated = Date.parse(v.updated_at);
        if (updated) when.textContent = dates.format(updated);
      },
      () => {
        status.textContent = s.mineFailed;
        status.dataset.status = "error";
      },
    );
  }
  const back = el("button", "btn", s.back);
  back.type = "button";
  back.onclick = () => {
    section.remove();
    o.hide.forEach((e, i) => (e.hidden = was[i]));
    o.back();
  };
  const actions = el("div", "actions");
  actions.append(back);
  section.append(heading, list, actions);
  o.dlg.insertBefore(section, o.hide[0]);
  heading.focus();
}

// "My reports": the reports sent from this browser, per project key, in localStorage. Only what
// the list needs to ask for their status (the unguessable status token) and to name them before
// the answer comes: never who sent them, never the rest of what they wrote.
// Anything else found under the key (an older format, a hand-edited or corrupted value) is
// tolerated: what cannot be read is dropped, never thrown.

export interface Mine {
  id: string;
  number: number;
  title: string; // at most 120 characters
  token: string; // the report's status token (its capability: X-Bugline-Report-Token, /s/{token})
  created: number; // epoch ms, when it was sent
}

export const MAX_MINE = 20;
export const TOKEN = /^[\w-]{20,100}$/;

export const mineKey = (key: string): string => "bugline:reports:" + key;

/** The title kept for the list: the report's words, cut short. */
export const titleOf = (report: Record<string, unknown>): string =>
  String(report.title || report.actual || report.trying_to_do || "").trim().slice(0, 120);

/** The reporter's status page for a report's status_url ({public_url}/api/v1/status/{token}). */
export const pageOf = (statusUrl: string): string => statusUrl.replace(/\/api\/v1\/status\/([\w-]+)$/, "/s/$1");

function entry(x: unknown): Mine | null {
  if (!x || typeof x != "object") return null;
  const o = x as Record<string, unknown>;
  // An earlier release kept {statusUrl, at}: the token is the status URL's last segment.
  const token = typeof o.token == "string" ? o.token : typeof o.statusUrl == "string" ? o.statusUrl.split("/").pop() || "" : "";
  const created = typeof o.created == "number" ? o.created : o.at;
  const n = o.number;
  if (typeof o.id != "string" || !o.id || o.id.length > 100 || typeof n != "number" || !Number.isSafeInteger(n) || n < 1 || !TOKEN.test(token)) return null;
  return {
    id: o.id,
    number: n,
    title: typeof o.title == "string" ? o.title.slice(0, 120) : "",
    token,
    created: typeof created == "number" && isFinite(created) ? created : 0,
  };
}

/** This browser's reports to the project with `key`, newest first (at most MAX_MINE). */
export function mine(key: string, store?: Storage): Mine[] {
  try {
    const list: unknown = JSON.parse((store || localStorage).getItem(mineKey(key)) || "[]");
    if (!Array.isArray(list)) return [];
    const seen = new Set<string>();
    const out: Mine[] = [];
    for (const x of list) {
      const m = entry(x);
      if (m && !seen.has(m.id)) {
        seen.add(m.id);
        out.push(m);
      }
    }
    return out.slice(0, MAX_MINE);
  } catch {
    return []; // unreadable JSON, or storage blocked (sandboxed frames, some privacy modes)
  }
}

/** Keep a sent report at the top of the list; the oldest fall off past MAX_MINE. */
export function remember(key: string, m: Mine, store?: Storage): void {
  const clean = entry(m);
  if (!clean) return;
  try {
    const list = [clean, ...mine(key, store).filter((x) => x.id != clean.id)].slice(0, MAX_MINE);
    (store || localStorage).setItem(mineKey(key), JSON.stringify(list));
  } catch {
    /* storage blocked or full: the list just won't show it */
  }
}

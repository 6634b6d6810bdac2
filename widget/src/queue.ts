// The outbox: submissions waiting to be sent again. IndexedDB ("bugline" / "outbox"), or memory
// when IndexedDB is unavailable (some private modes): then the outbox lasts as long as the page.
import type { FileToSend } from "./types";

export interface Saved {
  key: string; // the idempotency key, also the record's key
  report: Record<string, unknown>;
  files: FileToSend[]; // Blobs are stored as they are (structured clone)
  api: string; // where and with which project key it was first sent
  pk: string;
  attempts: number; // failed tries so far
  first: number; // epoch ms of the first try
  next: number; // epoch ms of the next try
  lease?: number; // epoch ms until which one tab owns it (when Web Locks are unavailable)
}

const mem = new Map<string, Saved>();
let dbp: Promise<IDBDatabase | null> | undefined;

function db(): Promise<IDBDatabase | null> {
  return (dbp ??= new Promise((res) => {
    try {
      const r = indexedDB.open("bugline", 1);
      r.onupgradeneeded = () => r.result.createObjectStore("outbox", { keyPath: "key" });
      r.onsuccess = () => res(r.result);
      r.onerror = r.onblocked = () => res(null);
    } catch {
      res(null);
    }
  }));
}

// One transaction on the outbox; on any IndexedDB failure the memory map answers instead.
async function run<T>(
  mode: IDBTransactionMode,
  f: (s: IDBObjectStore) => IDBRequest | void,
  fallback: () => T,
): Promise<T> {
  const d = await db();
  if (d) {
    try {
      return await new Promise<T>((res, rej) => {
        const t = d.transaction("outbox", mode);
        const q = f(t.objectStore("outbox"));
        t.oncomplete = () => res(q?.result as T);
        t.onerror = t.onabort = () => rej(t.error);
      });
    } catch {
      /* fall through to memory */
    }
  }
  return fallback();
}

// Memory also keeps whatever IndexedDB refused (e.g. Blobs in some private modes), so reads merge both.
export const put = (item: Saved): Promise<void> =>
  run("readwrite", (s) => void s.put(item), () => void mem.set(item.key, item));

export const get = (key: string): Promise<Saved | undefined> =>
  run<Saved | undefined>("readonly", (s) => s.get(key), () => undefined).then((r) => r ?? mem.get(key));

export const all = (): Promise<Saved[]> =>
  run<Saved[]>("readonly", (s) => s.getAll(), () => []).then((a) => [
    ...new Map([...(a ?? []), ...mem.values()].map((i) => [i.key, i])).values(),
  ]);

export const remove = (key: string): Promise<void> => {
  mem.delete(key);
  return run("readwrite", (s) => void s.delete(key), () => undefined);
};

/** Take the item until `until` unless another tab holds a live lease (atomic: one transaction). */
export async function claim(key: string, until: number, now = Date.now()): Promise<boolean> {
  let won = false;
  const take = (it: Saved | undefined): boolean => {
    if (it && !((it.lease ?? 0) > now)) won = !!(it.lease = until);
    return won;
  };
  await run(
    "readwrite",
    (s) => {
      const g = s.get(key);
      g.onsuccess = () => void (take(g.result as Saved | undefined) && s.put(g.result));
    },
    () => undefined,
  );
  return won || take(mem.get(key));
}

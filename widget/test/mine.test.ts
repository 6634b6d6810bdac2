import { test } from "node:test";
import assert from "node:assert/strict";
import { MAX_MINE, mine, mineKey, pageOf, remember, titleOf, type Mine } from "../src/mine";

class MemoryStorage implements Storage {
  data = new Map<string, string>();
  get length() {
    return this.data.size;
  }
  clear() {
    this.data.clear();
  }
  getItem(k: string) {
    return this.data.has(k) ? this.data.get(k)! : null;
  }
  key(i: number) {
    return [...this.data.keys()][i] ?? null;
  }
  removeItem(k: string) {
    this.data.delete(k);
  }
  setItem(k: string, v: string) {
    this.data.set(k, String(v));
  }
}

const token = (n: number) => `tok${String(n).padStart(3, "0")}_` + "x".repeat(36);
const report = (n: number, extra: Partial<Mine> = {}): Mine => ({ id: "r" + n, number: n, title: "Problem " + n, token: token(n), created: 1_700_000_000_000 + n, ...extra });

test("a sent report is kept newest first, once, with only the fields the list needs", () => {
  const store = new MemoryStorage();
  remember("pk_a", report(1), store);
  remember("pk_a", report(2), store);
  remember("pk_a", { ...report(1), title: "Problem 1, again" }, store);
  assert.deepEqual(
    mine("pk_a", store).map((m) => [m.number, m.title]),
    [
      [1, "Problem 1, again"],
      [2, "Problem 2"],
    ],
  );
  // Whatever else a caller passes is not written down.
  remember("pk_a", { ...report(3), email: "ana@example.com", statusUrl: "https://b/x" } as Mine, store);
  const raw = store.getItem(mineKey("pk_a"))!;
  assert.ok(!raw.includes("ana@example.com") && !raw.includes("statusUrl"), raw);
  assert.deepEqual(Object.keys(JSON.parse(raw)[0]).sort(), ["created", "id", "number", "title", "token"]);
});

test(`the list keeps the ${MAX_MINE} most recent`, () => {
  const store = new MemoryStorage();
  for (let n = 1; n <= 25; n++) remember("pk_a", report(n), store);
  const list = mine("pk_a", store);
  assert.equal(list.length, MAX_MINE);
  assert.deepEqual(list.map((m) => m.number), Array.from({ length: 20 }, (_, i) => 25 - i));
  assert.equal(JSON.parse(store.getItem(mineKey("pk_a"))!).length, MAX_MINE, "nothing beyond the cap is stored");
  // A hand-edited, longer list is read capped too.
  store.setItem(mineKey("pk_b"), JSON.stringify(Array.from({ length: 30 }, (_, i) => report(i + 1))));
  assert.equal(mine("pk_b", store).length, MAX_MINE);
});

test("each project key has its own list", () => {
  const store = new MemoryStorage();
  remember("pk_a", report(1), store);
  remember("pk_b", report(2), store);
  assert.deepEqual(mine("pk_a", store).map((m) => m.number), [1]);
  assert.deepEqual(mine("pk_b", store).map((m) => m.number), [2]);
  assert.deepEqual(mine("pk_c", store), []);
  assert.deepEqual([...store.data.keys()].sort(), ["bugline:reports:pk_a", "bugline:reports:pk_b"]);
});

test("a corrupted value reads as an empty list, or as its readable entries, and is replaced on the next send", () => {
  const store = new MemoryStorage();
  for (const bad of ["not json", "{", "{}", "null", '"text"', "42", "[null, 1, \"x\", []]"]) {
    store.setItem(mineKey("pk_a"), bad);
    assert.deepEqual(mine("pk_a", store), [], bad);
  }
  store.setItem(
    mineKey("pk_a"),
    JSON.stringify([
      report(1),
      { ...report(2), token: "short" },
      { ...report(3), token: "x".repeat(30) + "/../" },
      { ...report(4), token: 42 },
      { ...report(5), number: "5" },
      { ...report(6), number: -6 },
      { ...report(7), id: "" },
      { ...report(8), id: "i".repeat(101) },
      { ...report(9), title: 9, created: "yesterday" },
      report(1),
    ]),
  );
  assert.deepEqual(
    mine("pk_a", store).map((m) => [m.number, m.title, m.created]),
    [
      [1, "Problem 1", report(1).created],
      [9, "", 0],
    ],
  );
  store.setItem(mineKey("pk_a"), "[not json");
  remember("pk_a", report(10), store);
  assert.deepEqual(mine("pk_a", store).map((m) => m.number), [10]);
});

test("entries written by the earlier release ({statusUrl, at}) are still listed", () => {
  const store = new MemoryStorage();
  const t = token(4);
  store.setItem(mineKey("pk_a"), JSON.stringify([{ id: "r4", number: 4, statusUrl: "https://bugline.example/api/v1/status/" + t, title: "Old", at: 123 }]));
  assert.deepEqual(mine("pk_a", store), [{ id: "r4", number: 4, title: "Old", token: t, created: 123 }]);
});

test("blocked storage neither throws nor lists anything", () => {
  const blocked = new MemoryStorage();
  blocked.getItem = () => {
    throw new DOMException("denied", "SecurityError");
  };
  blocked.setItem = () => {
    throw new DOMException("full", "QuotaExceededError");
  };
  assert.deepEqual(mine("pk_a", blocked), []);
  assert.doesNotThrow(() => remember("pk_a", report(1), blocked));
  // No localStorage at all (the default store): same.
  assert.equal(typeof (globalThis as { localStorage?: unknown }).localStorage, "undefined");
  assert.deepEqual(mine("pk_a"), []);
  assert.doesNotThrow(() => remember("pk_a", report(1)));
});

test("an entry that could not be listed is not stored", () => {
  const store = new MemoryStorage();
  remember("pk_a", { ...report(1), token: "" }, store);
  assert.equal(store.getItem(mineKey("pk_a")), null);
});

test("titleOf keeps a short title from the report's own words", () => {
  assert.equal(titleOf({ title: "Export fails", actual: "Spinner" }), "Export fails");
  assert.equal(titleOf({ actual: "  Spinner forever  ", trying_to_do: "Export" }), "Spinner forever");
  assert.equal(titleOf({ actual: "", trying_to_do: "Export" }), "Export");
  assert.equal(titleOf({}), "");
  assert.equal(titleOf({ actual: "x".repeat(500) }).length, 120);
});

test("pageOf turns a status_url into the reporter's status page", () => {
  const t = token(1);
  assert.equal(pageOf("https://bugline.example/api/v1/status/" + t), "https://bugline.example/s/" + t);
  assert.equal(pageOf("https://bugline.example/base/api/v1/status/" + t), "https://bugline.example/base/s/" + t);
  assert.equal(pageOf("https://elsewhere.example/x"), "https://elsewhere.example/x");
});

import { test } from "node:test";
import assert from "node:assert/strict";
import { backoff, retryable, retryAfter } from "../src/transport";

test("backoff schedule: 5 s, 30 s, 2 min, 10 min, then every 30 min", () => {
  const mid = (): number => 0.5; // no jitter
  assert.deepEqual([1, 2, 3, 4, 5, 6, 50].map((n) => backoff(n, mid)), [5e3, 3e4, 12e4, 6e5, 18e5, 18e5, 18e5]);
});

test("jitter stays within +-20%", () => {
  assert.equal(backoff(1, () => 0), 4e3);
  assert.equal(backoff(1, () => 1), 6e3);
  for (let i = 0; i < 100; i++) {
    const d = backoff(3);
    assert.ok(d >= 96e3 && d <= 144e3, String(d));
  }
});

test("what is worth retrying", () => {
  for (const s of [0, 408, 409, 429, 500, 502, 503]) assert.ok(retryable(s), String(s));
  for (const s of [400, 401, 403, 404, 413, 415, 422]) assert.ok(!retryable(s), String(s));
});

test("Retry-After", () => {
  assert.equal(retryAfter(null), 0);
  assert.equal(retryAfter("3"), 3000);
  assert.equal(retryAfter("soon"), 0);
  const now = Date.parse("2024-01-01T00:00:00Z");
  assert.equal(retryAfter("Mon, 01 Jan 2024 00:00:10 GMT", now), 10000);
  assert.equal(retryAfter("Sun, 31 Dec 2023 00:00:00 GMT", now), 0);
});

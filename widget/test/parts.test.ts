import { test } from "node:test";
import assert from "node:assert/strict";
import { missingParts, partPlan } from "../src/transport";

const MiB = 1024 * 1024;
const P = 5 * MiB;

test("partPlan splits into part_size pieces, the last one shorter", () => {
  assert.deepEqual(partPlan(1, P), [{ part_number: 1, size: 1 }]);
  assert.deepEqual(partPlan(P, P), [{ part_number: 1, size: P }]);
  assert.deepEqual(partPlan(12 * MiB, P), [
    { part_number: 1, size: P },
    { part_number: 2, size: P },
    { part_number: 3, size: 2 * MiB },
  ]);
  assert.deepEqual(partPlan(0, P), []);
  const big = partPlan(500 * MiB, P);
  assert.equal(big.length, 100);
  assert.equal(big.reduce((n, p) => n + p.size, 0), 500 * MiB);
});

test("missingParts asks only for parts without a URL of the exact size", () => {
  // The server signs full parts 1..20 and, when it fits in that batch, the short last part.
  const given = (full: number, rest = 0): { part_number: number; size: number }[] => [
    ...Array.from({ length: Math.min(full, 20) }, (_, i) => ({ part_number: i + 1, size: P })),
    ...(rest && full < 20 ? [{ part_number: full + 1, size: rest }] : []),
  ];
  // 12 MiB: everything was signed already.
  assert.deepEqual(missingParts(partPlan(12 * MiB, P), given(2, 2 * MiB)), []);
  // Recording declared at its cap (500 MiB) but only 12 MiB long: part 3 was signed full-size.
  assert.deepEqual(missingParts(partPlan(12 * MiB, P), given(100)), [{ part_number: 3, size: 2 * MiB }]);
  // 100 MiB + 3 MiB + 1 byte: 20 full parts came with the slot; the short 21st is beyond the batch.
  assert.deepEqual(missingParts(partPlan(103 * MiB + 1, P), given(20)), [{ part_number: 21, size: 3 * MiB + 1 }]);
  // 112 MiB: parts 21 and 22 full, 23 short.
  assert.deepEqual(missingParts(partPlan(112 * MiB, P), given(22, 2 * MiB)), [
    { part_number: 21, size: P },
    { part_number: 22, size: P },
    { part_number: 23, size: 2 * MiB },
  ]);
  // 250 MiB: parts 21..50, all full.
  const w = missingParts(partPlan(250 * MiB, P), given(50));
  assert.deepEqual(w.map((p) => p.part_number), Array.from({ length: 30 }, (_, i) => i + 21));
  assert.ok(w.every((p) => p.size === P));
  // Nothing given: ask for all.
  assert.equal(missingParts(partPlan(11 * MiB, P)).length, 3);
});

import { test } from "node:test";
import assert from "node:assert/strict";
import { isId, route, stripIds } from "../src/capture/route";

test("strips ids from paths", () => {
  const cases: [string, string][] = [
    ["/", "/"],
    ["/users/42", "/users/:id"],
    ["/users/42/orders/7/", "/users/:id/orders/:id/"],
    ["/p/550e8400-e29b-41d4-a716-446655440000", "/p/:id"],
    ["/p/550E8400E29B41D4A716446655440000/edit", "/p/:id/edit"],
    ["/commit/9f86d081884c7d659a2feaa0c55ad015a3bf4f1b", "/commit/:id"],
    ["/o/507f1f77bcf86cd799439011", "/o/:id"], // Mongo ObjectId
    ["/r/01ARZ3NDEKTSV4RRFFQ69G5FAV", "/r/:id"], // ULID
    ["/invite/aB3dE5fG7hJ9kL1mN3pQ5rS", "/invite/:id"],
    ["/users/jane%40example.com", "/users/:email"],
    ["/blog/2024-annual-report", "/blog/2024-annual-report"],
    ["/settings/billing", "/settings/billing"],
    ["/cafe/added", "/cafe/added"],
    ["/v2/api/items", "/v2/api/items"],
    ["/files/report.pdf", "/files/report.pdf"],
    ["/internationalization", "/internationalization"],
    ["/%E0%A4%A", "/%E0%A4%A"], // malformed escape stays
  ];
  for (const [input, want] of cases) assert.equal(stripIds(input), want, input);
});

test("hash routers", () => {
  assert.equal(route("/app/", "#/users/12?tab=1"), "/app/#/users/:id");
  assert.equal(route("/app/", "#!/users/12"), "/app/#/users/:id");
  assert.equal(route("/docs/1", "#section-2"), "/docs/:id");
  assert.equal(route("/a", ""), "/a");
});

test("isId", () => {
  for (const s of ["1", "000123", "deadbeef12345678"]) assert.ok(isId(s), s);
  for (const s of ["", "v2", "deadbeef", "facade", "abcdefabcdefabcdef", "hello-world-2024"]) assert.ok(!isId(s), s);
});

import { test } from "node:test";
import assert from "node:assert/strict";
import { luhn, redact, redactUrl, secretParam } from "../src/capture/redact";

// [input, expected]: secrets that must go.
const secrets: [string, string][] = [
  ["contact jane.doe+bugs@example.co.uk please", "contact [email] please"],
  ["user=JANE@Example.COM", "user=[email]"],
  ["Authorization: Bearer 8f14e45fceea167a5a36dedd4bea2543abc", "Authorization: Bearer [redacted]"],
  ["Authorization: Basic dXNlcjpwYXNzd29yZA==", "Authorization: Basic [redacted]"],
  [
    "jwt eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4ifQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c end",
    "jwt [redacted] end",
  ],
  ["AWS key AKIAIOSFODNN7EXAMPLE in config", "AWS key [redacted] in config"],
  ["aws_secret_access_key=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "aws_secret_access_key=[redacted]"],
  ['{"token": "a1b2c3d4e5f6a7b8c9d0e1f2"}', '{"token": "[redacted]"}'],
  ['{"password":"hunter2"}', '{"password":"[redacted]"}'],
  ["password=correct-horse", "password=[redacted]"],
  ["db_password: 'hunter2'", "db_password: '[redacted]'"],
  ["POST /login body={\"username\":\"bob\",\"password\":\"s3cr3t!\"}", "POST /login body={\"username\":\"bob\",\"password\":\"[redacted]\"}"],
  ["X-Api-Key: 9d4e1e23bd5b727046a9e3b4b7db57bd8d6ee684", "X-Api-Key: [redacted]"],
  ["api_key=3f786850e387550fdab836ed7e6dc881de23001b", "api_key=[redacted]"],
  ["apiKey: 'sk9f8e7d6c5b4a3f2e1d0c9b'", "apiKey: '[redacted]'"],
  ["client_secret = ZmFrZXNlY3JldDEyMzQ1Njc4OTA", "client_secret = [redacted]"],
  ["token 0123456789abcdef0123456789abcdef expired", "token [redacted] expired"],
  ["gh token ghp_16C7e42F292c6912E7710c838347Ae178B4a", "gh token [redacted]"],
  ["stripe sk_live_4eC39HqLyjWDarjtT1zdp7dc", "stripe [redacted]"],
  ["google AIzaSyDdI0hCZtE6vySjMm-WEfRq3CPzqKqqsHI", "google [redacted]"],
  ["slack xoxb-123456789012-abcdefghij", "slack [redacted]"],
  ["card 4111 1111 1111 1111 declined", "card [card] declined"],
  ["card 5500-0000-0000-0004", "card [card]"],
  ["amex 378282246310005", "amex [card]"],
  [
    "GET https://api.example.com/v1/me?access_token=abc&page=2 failed",
    "GET https://api.example.com/v1/me?access_token=[redacted]&page=2 failed",
  ],
  ["fetch https://bob:pa55@db.example.com/x", "fetch https://[redacted]@db.example.com/x"],
  ["session_id=550e8400-e29b-41d4-a716-446655440000", "session_id=[redacted]"],
];

// Text that must come through unchanged.
const plain = [
  "TypeError: Cannot read properties of undefined (reading 'map')",
  "Basic information about the account",
  "Bearer tokens are explained in the docs",
  "the session expired, please log in again",
  "press the key combination Ctrl+K",
  "token: expired",
  "keyboard shortcut missing",
  "order #1234567 placed at 2024-03-01T12:00:00Z",
  "timestamp 1700000000000 and 1712345678901",
  "phone +1 415 555 2671",
  "icon@2x.png failed to load",
  "installed lodash@4.17.21 and @types/node",
  "uuid 550e8400-e29b-41d4-a716-446655440000 not found",
  "sha 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
  "version 1.2.3.4, build 20240301",
  "https://example.com/search?q=shoes&page=3#reviews",
  "author=Jane&sort_by=date",
  "design: new; signal=5",
  "monkey business",
  "card number 4111 1111 1111 1112 (invalid)",
  "1234 5678 9012 3456",
  "password reset link sent",
  "Password: must be at least 8 characters",
  "Invalid key: expected a string",
  "the secret ingredient is love",
  "[email] and [redacted] stay as they are",
  "api.example.com returned 502",
];

test("redacts secrets", () => {
  for (const [input, want] of secrets) assert.equal(redact(input), want, input);
});

test("redaction is idempotent", () => {
  for (const [input] of secrets) assert.equal(redact(redact(input)), redact(input), input);
});

test("keeps non-secrets", () => {
  for (const s of plain) assert.equal(redact(s), s);
});

test("redactUrl", () => {
  const cases: [string, string][] = [
    ["https://app.example.com/a?b=1", "https://app.example.com/a?b=1"],
    ["https://u:p@app.example.com/a", "https://[redacted]@app.example.com/a"],
    ["https://x.io/cb?code=4/0AX4XfWh&state=xyz", "https://x.io/cb?code=[redacted]&state=xyz"],
    ["https://x.io/#access_token=ya29.a0Af&token_type=Bearer&id_token=eyJx", "https://x.io/#access_token=[redacted]&token_type=[redacted]&id_token=[redacted]"],
    ["https://x.io/p?email=jane%40example.com", "https://x.io/p?email=[email]"],
    ["https://x.io/users/jane@example.com/edit", "https://x.io/users/[email]/edit"],
    [
      "https://b.s3.amazonaws.com/k?X-Amz-Credential=AKIA/2024&X-Amz-Signature=abcd&X-Amz-Expires=60",
      "https://b.s3.amazonaws.com/k?X-Amz-Credential=[redacted]&X-Amz-Signature=[redacted]&X-Amz-Expires=60",
    ],
    ["https://x.io/p?api-key=1&sig=2&sid=3&Key-Pair-Id=4&keep=5", "https://x.io/p?api-key=[redacted]&sig=[redacted]&sid=[redacted]&Key-Pair-Id=[redacted]&keep=5"],
    ["https://x.io/#/orders?sessionId=abc", "https://x.io/#/orders?sessionId=[redacted]"],
    ["https://x.io/;jsessionid=ABC123?x=1", "https://x.io/;jsessionid=[redacted]?x=1"],
    ["/relative/path?password=x", "/relative/path?password=[redacted]"],
    ["https://x.io/p?author=me&keys=a&monkey=b&zipcode=1", "https://x.io/p?author=me&keys=a&monkey=b&zipcode=1"],
  ];
  for (const [input, want] of cases) assert.equal(redactUrl(input), want, input);
});

test("luhn and parameter names", () => {
  assert.ok(luhn("4111111111111111"));
  assert.ok(!luhn("4111111111111112"));
  assert.ok(!luhn("0")); // too short
  for (const n of ["token", "refresh_token", "password", "auth", "x-auth-key", "code", "sig", "apikey", "SessionID"])
    assert.ok(secretParam(n), n);
  for (const n of ["page", "q", "author", "keys", "zipcode", "design", "sort"]) assert.ok(!secretParam(n), n);
});

// The widget's queue stub (the snippet's first line), kept in a file because the demo page's
// CSP (default-src 'self') forbids inline scripts; on a page with a nonce-based CSP, inline it
// with nonce="...". Then a few buttons that make the pretend app misbehave, so the widget has
// console errors and failed requests to show.
(function (w) {
  var b = (w.Bugline = w.Bugline || function () { (b.q = b.q || []).push(arguments); });
  "open close identify setContext on".split(" ").forEach(function (m) {
    b[m] = b[m] || function () { b.apply(null, [m].concat([].slice.call(arguments))); };
  });
})(window);

Bugline.setContext({ page: "demo", build: "2024.06.1" });
Bugline.on("submitted", function (report) {
  var out = document.getElementById("widget-result");
  if (out) out.textContent = "The host page heard about report #" + report.number + ".";
});

document.addEventListener("DOMContentLoaded", function () {
  var on = function (id, fn) { var el = document.getElementById(id); if (el) el.addEventListener("click", fn); };
  on("open-widget", function () { Bugline.open(); });
  on("break-it", function () {
    console.error(new Error("Could not save invoice INV-1042: total is NaN"));
    fetch("/api/v1/does-not-exist").catch(function () {});
  });
  on("identify", function () {
    Bugline.identify({ id: "user-42", email: "ada@example.com", name: "Ada Lovelace", account: "Acme", plan: "pro" });
    this.textContent = "Signed in as Ada";
    this.disabled = true;
  });
});

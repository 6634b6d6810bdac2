// The demo form: the same three steps the widget takes (create, upload straight to storage, finalize).
"use strict";
(function () {
  const form = document.getElementById("report");
  if (!form) return;
  const key = form.dataset.key;
  const api = form.dataset.api + "/api/v1";
  const result = document.getElementById("result");
  const bar = document.getElementById("progress");

  function upload(slot, file) {
    // XHR rather than fetch: it reports upload progress.
    return new Promise(function (resolve, reject) {
      const up = slot.upload;
      const xhr = new XMLHttpRequest();
      xhr.open(up.method, up.url);
      xhr.upload.onprogress = function (e) { if (e.lengthComputable) bar.value = (100 * e.loaded) / e.total; };
      xhr.onload = function () { xhr.status < 300 ? resolve() : reject(new Error("upload failed: " + xhr.status)); };
      xhr.onerror = function () { reject(new Error("upload failed")); };
      if (up.method === "POST") {
        const body = new FormData();
        Object.entries(up.fields).forEach(function ([k, v]) { body.append(k, v); });
        body.append("file", file);
        xhr.send(body);
      } else {
        Object.entries(up.headers || {}).forEach(function ([k, v]) { xhr.setRequestHeader(k, v); });
        xhr.send(file);
      }
    });
  }

  form.addEventListener("submit", async function (event) {
    event.preventDefault();
    const data = new FormData(form);
    const files = Array.from(form.elements.file.files);
    const report = {
      trying_to_do: data.get("trying_to_do"), expected: data.get("expected"), actual: data.get("actual"),
      error_text: data.get("error_text"), steps: data.get("steps"),
      frequency: data.get("frequency") || null,
      reporter: data.get("email") ? { email: data.get("email") } : null,
      context: { url: location.href, referrer: document.referrer || null, user_agent: navigator.userAgent,
        viewport: { width: innerWidth, height: innerHeight },
        screen: { width: screen.width, height: screen.height, pixel_ratio: devicePixelRatio },
        locale: navigator.language, timezone: Intl.DateTimeFormat().resolvedOptions().timeZone },
      attachments: files.map(function (f) {
        return { name: f.name, type: f.type || "application/octet-stream", size: f.size,
          kind: f.type.startsWith("image/") ? "screenshot" : "file" };
      }),
    };
    result.textContent = "Sending…";
    try {
      const res = await fetch(api + "/reports?key=" + encodeURIComponent(key), {
        method: "POST", headers: { "Content-Type": "application/json", "Idempotency-Key": crypto.randomUUID() },
        body: JSON.stringify(report),
      });
      const created = await res.json();
      if (!res.ok) throw new Error(created.error.message);
      bar.hidden = files.length === 0;
      for (let i = 0; i < files.length; i++) await upload(created.attachments[i], files[i]);
      const fin = await fetch(created.finalize_url + "?key=" + encodeURIComponent(key), {
        method: "POST", headers: { "X-Bugline-Report-Token": created.status_token },
      });
      const done = await fin.json();
      if (!fin.ok) throw new Error(done.error.message);
      result.textContent = "Thanks! Report #" + done.number + " is " + done.status + ". Status: " + done.status_url;
      form.reset();
    } catch (err) {
      result.textContent = "Not sent: " + err.message;
    }
  });
})();

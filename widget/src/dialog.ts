// dialog.js: the report form, loaded on first open. It asks the SOP checklist in plain words,
// shows what is still missing (without blocking), what was captured (with switches), takes
// screenshots / recordings / files, and sends everything through the transport.
import type {
  CaptureModule,
  DialogHandle,
  FileToSend,
  PageContext,
  RecorderModule,
  RecordingHandle,
  ScreenshotModule,
  SendResult,
  WidgetContext,
} from "./types";
import { api, complete, declare, etagOf, Fail, finalize, putFiles, send, upload, withKey, xhr } from "./transport";
import type { Draft as Upload } from "./draft";
import type { MineView } from "./ui/myreports";
import { mine, pageOf, remember, titleOf } from "./mine";
import { addStyles, mountHost } from "./shadow";
import { fmt, hasStrings, loadStrings, strings, type Strings } from "./strings";
import { attachments } from "./ui/attachments";
import { capturedPanel, describeBrowser } from "./ui/captured";
import { EMAIL, hasDescription, missing, type Draft, type Missing } from "./ui/completeness";
import { h, uid } from "./ui/dom";
import { choiceGroup, textField } from "./ui/fields";
import { tabbables, trapFocus } from "./ui/focus";
import { DIALOG_CSS } from "./ui/styles";

export { resume } from "./transport";

const MAX_RECORDING_SECONDS = 300;
const MAX_RECORDING_BYTES = 200 * 1024 * 1024;

interface View {
  handle: DialogHandle;
  show(ctx: WidgetContext): void;
}

const views = new WeakMap<ShadowRoot, View>();

export function open(ctx: WidgetContext): DialogHandle {
  if (!hasStrings(ctx.config.locale)) {
    // German, French and Arabic come in their own small chunk; the dialog opens once it is here.
    let closed = false;
    let handle: DialogHandle | undefined;
    void loadStrings(ctx.config.locale).then(() => {
      if (!closed) handle = open(ctx);
    });
    return {
      close() {
        closed = true;
        handle?.close();
      },
    };
  }
  let root = ctx.root;
  let host = ctx.host;
  if (!root) {
    const s = strings(ctx.config.locale);
    ({ root, host } = mountHost(ctx.config, s.dir, s.lang));
  }
  let view = views.get(root);
  if (!view) {
    addStyles(root, DIALOG_CSS, ctx.config.nonce);
    view = createView(root, host);
    views.set(root, view);
  }
  view.show(ctx);
  return view.handle;
}

function newKey(): string {
  if (typeof crypto !== "undefined" && crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 15) | 64;
  b[8] = (b[8] & 63) | 128;
  const x = Array.from(b, (n) => (n + 256).toString(16).slice(1)).join("");
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

/** Host metadata from setContext(): scalar values only, bounded like the API's `metadata`. */
export function metadataOf(context: Record<string, unknown>): Record<string, string | number | boolean | null> {
  const out: Record<string, string | number | boolean | null> = {};
  for (const k of Object.keys(context).slice(0, 50)) {
    const v = context[k];
    let value: string | number | boolean | null;
    if (v == null) value = null;
    else if (typeof v === "number" || typeof v === "boolean") value = Number.isFinite(v as number) || typeof v === "boolean" ? v : String(v);
    else if (typeof v === "string") value = v;
    else {
      try {
        value = JSON.stringify(v) ?? String(v);
      } catch {
        value = String(v);
      }
    }
    out[k.slice(0, 100)] = typeof value === "string" ? value.slice(0, 1000) : value;
  }
  return out;
}

function absolute(url: string): string {
  try {
    return new URL(url, location.href).href;
  } catch {
    return url;
  }
}

function fallbackContext(): PageContext {
  return {
    url: location.origin + location.pathname, // no query string: nothing here can redact it
    user_agent: navigator.userAgent,
    viewport: { width: innerWidth, height: innerHeight },
    screen: { width: screen.width, height: screen.height, pixel_ratio: devicePixelRatio },
    locale: navigator.language,
    languages: Array.from(navigator.languages || []),
    timezone: Intl.DateTimeFormat().resolvedOptions().timeZone,
  };
}

function createView(root: ShadowRoot, host: HTMLElement | undefined): View {
  let ctx!: WidgetContext;
  let s: Strings = strings("en");
  let idempotencyKey = newKey();
  let capture: Promise<CaptureModule | null> = Promise.resolve(null);
  let page: Promise<PageContext> = Promise.resolve(fallbackContext());
  let returnFocus: HTMLElement | null = null;
  let sending = false;
  // The last recording and its draft report (upload while recording, see draft.ts).
  let recording: { blob: Blob; draft: Promise<Upload> } | null = null;
  let built = false;
  let isOpen = false;
  let mineView: MineView | null = null; // "My reports", while it is shown
  let mineLoading = false;
  let mineStyled = false;

  const dlg = h("dialog", { class: "dlg", role: "dialog", "aria-modal": "true" });
  const status = h("p", { class: "status", role: "status", "aria-live": "polite" });
  const announce = (text: string) => {
    status.textContent = "";
    status.textContent = text;
  };
  // Filled by build() once the locale is known.
  let f!: ReturnType<typeof buildForm>;

  function buildForm() {
    const titleId = uid("title");
    const introId = uid("intro");
    dlg.setAttribute("aria-labelledby", titleId);
    dlg.setAttribute("aria-describedby", introId);
    dlg.setAttribute("dir", s.dir);
    dlg.setAttribute("lang", s.lang);

    const trying = textField({ label: s.trying, name: "trying_to_do", rows: 2, placeholder: s.tryingPlaceholder });
    const expected = textField({ label: s.expected, name: "expected", rows: 2 });
    const actual = textField({ label: s.actual, name: "actual", rows: 3 });
    const errorText = textField({ label: s.errorText, name: "error_text", rows: 2, placeholder: s.errorTextPlaceholder, mono: true });
    const steps = textField({ label: s.steps, name: "steps", rows: 3, placeholder: s.stepsPlaceholder });
    const frequency = choiceGroup(s.frequency, "frequency", [
      ["always", s.freq_always],
      ["sometimes", s.freq_sometimes],
      ["once", s.freq_once],
      ["unknown", s.freq_unknown],
    ]);
    const people = choiceGroup(s.people, "people_affected", [
      ["just_me", s.people_just_me],
      ["some", s.people_some],
      ["everyone", s.people_everyone],
      ["unknown", s.people_unknown],
    ]);
    const email = textField({ label: s.email, name: "email", type: "email", autocomplete: "email", hint: s.emailHint });
    const name = textField({ label: s.name, name: "name", autocomplete: "name" });

    const files = attachments(s, announce, () => refreshMissing());
    const shotBtn = h("button", { type: "button", class: "btn", onclick: () => void takeScreenshot(false) }, s.screenshot);
    const exactBtn = h("button", { type: "button", class: "btn", onclick: () => void takeScreenshot(true) }, s.screenshotExact);
    const recBtn = h("button", { type: "button", class: "btn", onclick: () => void record() }, s.record);
    const attachBtn = h("button", { type: "button", class: "btn", onclick: () => files.input.click() }, s.attach);
    const media = h(
      "fieldset",
      { class: "media" },
      h("legend", null, s.media),
      h("div", { class: "tools" }, shotBtn, exactBtn, recBtn, attachBtn, files.input),
      h("p", { class: "hint" }, s.dropHint),
      files.list,
    );
    const captured = capturedPanel(s);
    const missingId = uid("missing");
    const missingList = h("ul");
    const missingBox = h("section", { class: "missing", "aria-labelledby": missingId }, h("h3", { id: missingId }, s.missing), missingList);
    const progress = h("progress", { "aria-label": s.progress, hidden: true });
    const sendBtn = h("button", { type: "submit", class: "btn primary" }, s.send);
    const cancelBtn = h("button", { type: "button", class: "btn", onclick: () => close() }, s.cancel);
    const identity = h("div", { class: "identity" }, email.el, name.el);

    const form = h(
      "form",
      { class: "body", novalidate: true, onsubmit: (e: Event) => (e.preventDefault(), void submit()) },
      h("p", { id: introId, class: "intro" }, s.intro),
      trying.el,
      expected.el,
      actual.el,
      errorText.el,
      steps.el,
      frequency.el,
      people.el,
      identity,
      media,
      captured.el,
      missingBox,
      progress,
      h("div", { class: "actions" }, cancelBtn, sendBtn),
    );
    const doneText = h("p", { class: "done-text", tabindex: -1 });
    const follow = h("a", { target: "_blank", rel: "noopener noreferrer", hidden: true }, s.follow);
    const done = h(
      "div",
      { class: "done", hidden: true },
      doneText,
      h("p", null, follow),
      h(
        "div",
        { class: "actions" },
        h("button", { type: "button", class: "btn primary", onclick: () => close() }, s.close),
        h("button", { type: "button", class: "btn", onclick: () => reset(true) }, s.another),
      ),
    );
    const mineBtn = h("button", { type: "button", class: "btn", onclick: () => void showMine() }, s.mine);
    const top = h(
      "div",
      { class: "top" },
      h("h2", { id: titleId }, s.title),
      mineBtn,
      h("button", { type: "button", class: "x", "aria-label": s.close, onclick: () => close() }, "×"),
    );
    dlg.append(top, form, done, status);
    files.accept(dlg);
    form.addEventListener("input", () => refreshMissing());
    form.addEventListener("change", () => refreshMissing());
    return { mineBtn, trying, expected, actual, errorText, steps, frequency, people, email, name, identity, files, shotBtn, exactBtn, recBtn, captured, missingBox, missingList, progress, sendBtn, form, done, doneText, follow };
  }

  /** "My reports": this browser's reports (mine.ts) with their statuses, in place of the form. */
  async function showMine() {
    if (mineView || mineLoading) return mineView?.section.querySelector("h3")?.focus();
    mineLoading = true;
    try {
      const mod = await import("./ui/myreports");
      if (!isOpen) return;
      if (!mineStyled) addStyles(root, mod.MINE_CSS, ctx.config.nonce);
      mineStyled = true;
      const { api: base, key } = ctx.config;
      mineView = mod.showMine({
        dlg,
        hide: [f.form, f.done],
        entries: mine(key),
        s,
        lang: s.lang,
        fmt,
        announce,
        load: (tokens) => mod.fetchAnswers(base, key, tokens),
        back: () => {
          mineView = null;
          f.mineBtn.focus();
        },
      });
    } catch {
      announce(s.mineFailed);
    } finally {
      mineLoading = false;
    }
  }

  function anonymous(): boolean {
    const who = ctx.identity();
    return !who || !(who.id || who.email);
  }

  function draft(): Draft {
    return {
      trying_to_do: f.trying.value(),
      expected: f.expected.value(),
      actual: f.actual.value(),
      error_text: f.errorText.value(),
      steps: f.steps.value(),
      frequency: f.frequency.value(),
      people_affected: f.people.value(),
      email: f.email.value(),
      anonymous: anonymous(),
    };
  }

  const HINT: Record<Missing, keyof Strings> = {
    actual: "miss_actual",
    expected: "miss_expected",
    trying: "miss_trying",
    frequency: "miss_frequency",
    people: "miss_people",
    email: "miss_email",
  };

  function refreshMissing() {
    const list = missing(draft());
    f.missingList.replaceChildren(...list.map((m) => h("li", null, s[HINT[m]])));
    f.missingBox.hidden = list.length === 0;
  }

  async function refreshCaptured() {
    const p = await page;
    const logs = ctx.buffers.console().filter((e) => e.level === "error");
    const cap = await capture;
    f.captured.update({
      browser: describeBrowser(p.user_agent),
      url: cap ? cap.redactUrl(p.url) : p.url,
      consoleErrors: logs.reduce((n, e) => n + e.count, 0),
      failedRequests: ctx.buffers.network().length,
      metadata: Object.keys(ctx.context()).length,
    });
  }

  function show(next: WidgetContext) {
    ctx = next;
    if (!built) {
      s = strings(ctx.config.locale);
      f = buildForm();
      trapFocus(dlg, root);
      dlg.addEventListener("cancel", (e) => {
        e.preventDefault(); // Escape: close our way (focus back to the launcher, "close" event)
        close();
      });
      dlg.addEventListener("keydown", (e) => {
        if (e.key === "Escape" && !dlg.matches(":modal")) close();
      });
      root.appendChild(dlg);
      built = true;
    }
    const who = ctx.identity();
    f.email.el.hidden = !!(who && who.email);
    f.name.el.hidden = !!(who && who.name);
    f.identity.hidden = f.email.el.hidden && f.name.el.hidden;
    f.shotBtn.hidden = !ctx.config.capture.screenshot;
    f.exactBtn.hidden = !ctx.config.capture.screenshot || !navigator.mediaDevices?.getDisplayMedia;
    if (ctx.config.capture.screenshot) prepareScreenshot();
    const md = navigator.mediaDevices as MediaDevices | undefined;
    f.recBtn.hidden = !(ctx.config.capture.recording && md && typeof md.getDisplayMedia === "function" && typeof MediaRecorder !== "undefined");
    capture = ctx.load<CaptureModule>("capture").catch(() => null);
    page = capture.then((c) => (c ? c.pageContext() : fallbackContext())).catch(() => fallbackContext());
    refreshMissing();
    void refreshCaptured();
    const active = document.activeElement;
    returnFocus = ctx.launcher || (active instanceof HTMLElement && active !== host ? active : null);
    isOpen = true;
    openModal();
    (f.done.hidden ? f.trying.input : f.doneText).focus();
  }

  function openModal() {
    if (dlg.open) return;
    if (typeof dlg.showModal === "function") dlg.showModal();
    else dlg.setAttribute("open", "");
  }

  function close() {
    if (!isOpen) return;
    isOpen = false;
    if (dlg.open) dlg.close();
    dlg.removeAttribute("open");
    mineView?.close(); // opened again, the dialog shows the form (or the done view)
    mineView = null;
    if (!f.done.hidden) reset(false);
    const target = returnFocus;
    returnFocus = null;
    if (target && target.isConnected) target.focus();
    ctx.emit("close");
  }

  function reset(focus: boolean) {
    f.form.reset();
    f.frequency.reset();
    f.people.reset();
    f.files.clear();
    for (const fld of [f.actual, f.email]) fld.setError(null);
    f.progress.hidden = true;
    f.done.hidden = true;
    f.form.hidden = false;
    f.follow.hidden = true;
    status.textContent = "";
    idempotencyKey = newKey();
    recording = null;
    refreshMissing();
    if (focus) f.trying.input.focus();
  }

  /** While the user reads the dialog: screenshot.js fetched and its prepare() run (fonts and
   *  visible images fetched), so "Take screenshot" only has to clone and draw. At idle, so
   *  opening the dialog stays instant; failures only mean a slower capture later. */
  function prepareScreenshot() {
    const run = () =>
      void ctx
        .load<ScreenshotModule & { prepare?: () => Promise<void> }>("screenshot")
        .then((m) => m.prepare?.())
        .catch(() => undefined);
    const idle = (window as Window & { requestIdleCallback?: (cb: () => void, o?: { timeout: number }) => number })
      .requestIdleCallback;
    if (typeof idle === "function") idle(run, { timeout: 1500 });
    else setTimeout(run, 300);
  }

  async function takeScreenshot(exact: boolean) {
    const btn = exact ? f.exactBtn : f.shotBtn;
    btn.disabled = true;
    announce(s.screenshotBusy);
    try {
      const mod = await ctx.load<ScreenshotModule>("screenshot");
      dlg.close(); // out of the top layer: the page is captured without us, then annotated
      const opts = { mask: ctx.config.mask, exclude: host ? [host] : [] };
      const image = exact && mod.captureTab ? await mod.captureTab(opts) : await mod.capture(opts);
      const edited = await mod.annotate(image, root, s as unknown as Record<string, string>);
      if (edited) f.files.add(edited, "screenshot." + (edited.type === "image/jpeg" ? "jpg" : "png"), "screenshot");
      else status.textContent = "";
    } catch {
      announce(s.screenshotFailed);
    } finally {
      btn.disabled = false;
      if (isOpen) {
        openModal();
        btn.focus();
      }
    }
  }

  async function record() {
    let handle: RecordingHandle | null = null;
    let bar: HTMLButtonElement | null = null;
    let stopping = false;
    let draft: Promise<Upload> | undefined;
    const finish = async () => {
      if (!handle || stopping) return;
      stopping = true;
      try {
        const blob = await handle.stop();
        if (blob.size) {
          f.files.add(blob, "recording.webm", "recording");
          if (draft) recording = { blob, draft };
        }
      } catch {
        announce(s.recordFailed);
      }
      if (bar) bar.remove();
      if (isOpen) {
        openModal();
        f.recBtn.focus();
      }
    };
    try {
      const mod = await ctx.load<RecorderModule>("recorder");
      if (!mod.supported()) throw new Error("unsupported");
      bar = h("button", { type: "button", class: "launcher recbar", onclick: () => void finish() }, fmt(s.recordStop, { seconds: 0 }));
      const opts = {
        maxSeconds: MAX_RECORDING_SECONDS,
        maxBytes: MAX_RECORDING_BYTES,
        onTick: (seconds: number) => {
          if (bar) bar.textContent = fmt(s.recordStop, { seconds: Math.round(seconds) });
        },
        onEnd: () => void finish(),
        // Each part goes up while recording, into the draft report created just below.
        sink: (part: Blob, n: number, last: boolean) => draft!.then((d) => d.sink(part, n, last)),
      };
      dlg.close(); // let the user reproduce the problem on the page while recording
      handle = await mod.start(opts);
      draft = Promise.all([import("./draft"), capture, page]).then(([m, cap, p]) =>
        m.startDraft({ api, complete, declare, etagOf, Fail, finalize, putFiles, upload, withKey, xhr }, ctx.config, buildReport(p, cap), newKey(), MAX_RECORDING_BYTES),
      );
      root.appendChild(bar);
      bar.focus();
    } catch {
      if (bar) bar.remove();
      announce(s.recordFailed);
      if (isOpen) openModal();
    }
  }

  function buildReport(p: PageContext, cap: CaptureModule | null): Record<string, unknown> {
    const d = draft();
    const inc = f.captured.included();
    const who = ctx.identity() || {};
    const red = cap ? cap.redact : null;
    const redUrl = cap ? cap.redactUrl : null;
    const context: Record<string, unknown> = {};
    if (inc.env) {
      Object.assign(context, {
        user_agent: p.user_agent,
        client_hints: p.client_hints,
        viewport: p.viewport,
        screen: p.screen,
        locale: p.locale,
        languages: p.languages,
        timezone: p.timezone,
        connection: p.connection,
      });
    }
    if (inc.page) {
      context.url = redUrl ? redUrl(p.url) : p.url;
      if (p.route) context.route = redUrl ? redUrl(p.route) : p.route;
      if (p.referrer) context.referrer = redUrl ? redUrl(p.referrer) : undefined;
    }
    // Console and network text is only sent redacted: without the capture chunk, not at all.
    if (inc.console && red && redUrl) {
      context.console = ctx.buffers.console().map((e) => ({
        ...e,
        message: red(e.message),
        stack: e.stack ? red(e.stack) : undefined,
        source: e.source ? redUrl(e.source) : undefined,
      }));
    }
    if (inc.network && red && redUrl) {
      context.network = ctx.buffers.network().map((e) => ({ ...e, url: redUrl(absolute(e.url)), error: e.error ? red(e.error) : undefined }));
    }
    const reporter = {
      id: who.id,
      email: who.email || (f.email.el.hidden ? undefined : d.email) || undefined,
      name: who.name || (f.name.el.hidden ? undefined : f.name.value()) || undefined,
      account: who.account,
      plan: who.plan,
      // Only a language the host app chose (data-bugline-locale, init) speaks for the reporter:
      // the browser's is captured in context.locale, and the server ranks the language the
      // report is written in above it (notify/locales.py). Loader-free: equal to the browser's
      // means nobody chose it.
      locale: ctx.config.locale !== navigator.language ? String(ctx.config.locale).slice(0, 35) : undefined,
    };
    return {
      trying_to_do: d.trying_to_do,
      expected: d.expected,
      actual: d.actual,
      error_text: d.error_text,
      steps: d.steps,
      frequency: d.frequency || null,
      people_affected: d.people_affected || null,
      reporter,
      context: JSON.parse(JSON.stringify(context)), // drops undefined values
      metadata: inc.metadata ? metadataOf(ctx.context()) : {},
    };
  }

  async function submit() {
    if (sending) return;
    const d = draft();
    f.actual.setError(null);
    f.email.setError(null);
    if (!hasDescription(d)) {
      f.actual.setError(s.needDescription);
      announce(s.needDescription);
      f.actual.input.focus();
      return;
    }
    if (!f.email.el.hidden && d.email && !EMAIL.test(d.email)) {
      f.email.setError(s.emailInvalid);
      f.email.input.focus();
      return;
    }
    sending = true;
    f.sendBtn.disabled = true;
    f.form.setAttribute("aria-busy", "true");
    f.progress.hidden = false;
    f.progress.removeAttribute("value");
    announce(s.sending);
    let result: SendResult;
    try {
      const cap = await capture;
      const report = buildReport(await page, cap);
      const files: FileToSend[] = f.files.files();
      const progress = (sent: number, total: number) => {
        if (total > 0) {
          f.progress.max = total;
          f.progress.value = sent;
        }
      };
      const rec = recording;
      recording = null; // the draft is tried once; after a failure, the whole report goes the usual way
      let drafted: SendResult | void = undefined;
      if (rec && files.some((x) => x.file == rec.blob)) {
        drafted = await rec.draft.then((d) => d.finish(report, files.filter((x) => x.file != rec.blob), progress)).catch(() => undefined);
      }
      result = drafted || (await send(ctx.config, { report, files, idempotencyKey }, progress));
      if (result.ok) remember(ctx.config.key, { id: result.id, number: result.number, title: titleOf(report), token: result.statusToken, created: Date.now() });
    } catch (err) {
      result = { ok: false, queued: false, message: err instanceof Error ? err.message : String(err) };
    }
    sending = false;
    f.sendBtn.disabled = false;
    f.form.removeAttribute("aria-busy");
    f.progress.hidden = true;
    if (result.ok) {
      const text = fmt(s.sent, { number: result.number });
      showDone(text, pageOf(result.statusUrl));
      ctx.emit("submitted", { id: result.id, number: result.number, status: result.status, statusUrl: result.statusUrl });
    } else if (result.queued) {
      showDone(navigator.onLine === false ? s.queued : s.queuedRetry, "");
    } else {
      announce(fmt(s.failed, { message: result.message }));
      f.sendBtn.focus();
    }
  }

  function showDone(text: string, statusUrl: string) {
    f.form.hidden = true;
    f.done.hidden = false;
    f.doneText.textContent = text;
    f.follow.hidden = !statusUrl;
    if (statusUrl) f.follow.setAttribute("href", statusUrl);
    announce(text);
    f.doneText.focus();
  }

  return { handle: { close }, show };
}

// Exposed for tests of the focus order.
export { tabbables };

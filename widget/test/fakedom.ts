// Just enough of the DOM for the widget's views to run under `node --test`: elements with
// children, text, attributes, dataset, hidden, focus and click. Real browsers run the e2e tests.

export class FakeNode {
  parentNode: FakeElement | null = null;
  childNodes: FakeNode[] = [];
  get textContent(): string {
    return this.childNodes.map((c) => c.textContent).join("");
  }
  set textContent(v: string) {
    for (const c of this.childNodes) c.parentNode = null;
    this.childNodes = v === "" ? [] : [new FakeText(String(v))];
  }
  remove(): void {
    if (!this.parentNode) return;
    const p = this.parentNode;
    p.childNodes = p.childNodes.filter((c) => c !== this);
    this.parentNode = null;
  }
}

export class FakeText extends FakeNode {
  constructor(public data: string) {
    super();
  }
  override get textContent(): string {
    return this.data;
  }
  override set textContent(v: string) {
    this.data = v;
  }
}

export class FakeElement extends FakeNode {
  attributes = new Map<string, string>();
  dataset: Record<string, string> = {};
  listeners: Record<string, ((e: unknown) => void)[]> = {};
  hidden = false;
  className = "";
  id = "";
  tabIndex = 0;
  dir = "";
  type = "";
  href = "";
  target = "";
  rel = "";
  dateTime = "";
  onclick: ((e: unknown) => void) | null = null;
  constructor(
    public tagName: string,
    private doc: FakeDocument,
  ) {
    super();
  }
  setAttribute(k: string, v: string): void {
    this.attributes.set(k, String(v));
  }
  getAttribute(k: string): string | null {
    return this.attributes.get(k) ?? null;
  }
  append(...nodes: (FakeNode | string)[]): void {
    for (const n of nodes) this.insertBefore(typeof n == "string" ? new FakeText(n) : n, null);
  }
  insertBefore(node: FakeNode, ref: FakeNode | null): void {
    node.remove();
    node.parentNode = this;
    const at = ref ? this.childNodes.indexOf(ref) : -1;
    if (at < 0) this.childNodes.push(node);
    else this.childNodes.splice(at, 0, node);
  }
  addEventListener(type: string, fn: (e: unknown) => void): void {
    (this.listeners[type] ||= []).push(fn);
  }
  click(): void {
    this.onclick?.({ type: "click" });
    for (const fn of this.listeners.click || []) fn({ type: "click" });
  }
  focus(): void {
    this.doc.activeElement = this;
  }
  get isConnected(): boolean {
    let n: FakeNode | null = this;
    while (n.parentNode) n = n.parentNode;
    return n === this.doc.body;
  }
  get children(): FakeElement[] {
    return this.childNodes.filter((c): c is FakeElement => c instanceof FakeElement);
  }
  /** Every element below, depth first. */
  all(): FakeElement[] {
    return this.children.flatMap((c) => [c, ...c.all()]);
  }
  /** Elements below with this tag name and/or class: "li", ".mine-status", "a". */
  find(sel: string): FakeElement[] {
    const [tag, cls] = sel.startsWith(".") ? ["", sel.slice(1)] : sel.split(".");
    return this.all().filter((e) => (!tag || e.tagName == tag) && (!cls || e.className.split(" ").includes(cls)));
  }
  one(sel: string): FakeElement {
    const found = this.find(sel);
    if (found.length != 1) throw new Error(`${found.length} elements match ${sel}`);
    return found[0];
  }
  querySelector(sel: string): FakeElement | null {
    return this.find(sel)[0] ?? null;
  }
}

export class FakeDocument {
  activeElement: FakeElement | null = null;
  body: FakeElement = new FakeElement("body", this);
  createElement(tag: string): FakeElement {
    return new FakeElement(tag.toLowerCase(), this);
  }
}

/** A fresh document installed as the global `document`. */
export function installDocument(): FakeDocument {
  const doc = new FakeDocument();
  (globalThis as { document?: unknown }).document = doc;
  return doc;
}

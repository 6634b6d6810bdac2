// Keep Tab and Shift+Tab inside the dialog (a native modal <dialog> would let focus reach the
// browser's own UI), counting only what is really tabbable, radio groups once.
const SELECTOR = 'a[href],summary,button:not([disabled]),input:not([disabled]),select:not([disabled]),textarea:not([disabled]),[tabindex]:not([tabindex="-1"])';

export function tabbables(container: HTMLElement): HTMLElement[] {
  const seen = new Set<string>();
  return Array.from(container.querySelectorAll<HTMLElement>(SELECTOR)).filter((el) => {
    if (el.tabIndex < 0 || el.closest("[hidden]") || el.getClientRects().length === 0) return false;
    if (el instanceof HTMLInputElement && el.type === "radio") {
      const group = el.form ? el.form.querySelectorAll<HTMLInputElement>(`input[type=radio][name="${el.name}"]`) : [el];
      const checked = Array.from(group).find((r) => r.checked);
      if (checked ? checked !== el : seen.has(el.name)) return false;
      seen.add(el.name);
    }
    return true;
  });
}

export function trapFocus(container: HTMLElement, root: ShadowRoot): void {
  container.addEventListener("keydown", (e: KeyboardEvent) => {
    if (e.key !== "Tab") return;
    const list = tabbables(container);
    if (list.length === 0) return;
    const first = list[0];
    const last = list[list.length - 1];
    const active = root.activeElement;
    if (e.shiftKey && (active === first || !container.contains(active))) {
      e.preventDefault();
      last.focus();
    } else if (!e.shiftKey && (active === last || !container.contains(active))) {
      e.preventDefault();
      first.focus();
    }
  });
}

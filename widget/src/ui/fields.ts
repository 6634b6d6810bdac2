// Labelled form fields with a hint and an error message wired through aria-describedby.
import { h, uid } from "./dom";

export interface Field {
  el: HTMLElement;
  input: HTMLInputElement | HTMLTextAreaElement;
  value(): string;
  setError(message: string | null): void;
}

export function textField(o: {
  label: string;
  name: string;
  rows?: number;
  placeholder?: string;
  hint?: string;
  type?: string;
  autocomplete?: string;
  mono?: boolean;
}): Field {
  const id = uid(o.name);
  const hintId = id + "-hint";
  const errId = id + "-err";
  const describedBy = [o.hint ? hintId : "", errId].filter(Boolean).join(" ");
  const common = { id, name: o.name, placeholder: o.placeholder, "aria-describedby": describedBy, class: o.mono ? "mono" : null };
  const input = o.rows
    ? h("textarea", { ...common, rows: o.rows })
    : h("input", { ...common, type: o.type || "text", autocomplete: o.autocomplete, dir: o.type === "email" ? "ltr" : null });
  const error = h("p", { id: errId, class: "error", hidden: true });
  const el = h("div", { class: "field" }, h("label", { for: id }, o.label), input, o.hint ? h("p", { id: hintId, class: "hint" }, o.hint) : null, error);
  return {
    el,
    input,
    value: () => input.value.trim(),
    setError(message) {
      error.textContent = message || "";
      error.hidden = !message;
      if (message) input.setAttribute("aria-invalid", "true");
      else input.removeAttribute("aria-invalid");
    },
  };
}

export interface Choice {
  el: HTMLFieldSetElement;
  value(): string;
  reset(): void;
}

/** A radio group in a fieldset: the legend is the question. */
export function choiceGroup(legend: string, name: string, options: [string, string][]): Choice {
  const group = uid(name);
  const radios = options.map(([value, label]) => {
    const input = h("input", { type: "radio", name: group, value });
    return { input, el: h("label", { class: "choice" }, input, h("span", null, label)) };
  });
  const el = h("fieldset", { class: "choices", "data-name": name }, h("legend", null, legend), ...radios.map((r) => r.el));
  return {
    el,
    value: () => (radios.find((r) => r.input.checked) || { input: { value: "" } }).input.value,
    reset: () => radios.forEach((r) => (r.input.checked = false)),
  };
}

// Files to send: picked, dropped, pasted, or made by the screenshot and recorder chunks.
import type { FileToSend } from "../types";
import { fmt, type Strings } from "../strings";
import { h } from "./dom";

export function fileSize(bytes: number): string {
  return bytes < 1024 ? bytes + " B" : bytes < 1048576 ? Math.round(bytes / 1024) + " KB" : (bytes / 1048576).toFixed(1) + " MB";
}

export interface Attachments {
  list: HTMLUListElement;
  input: HTMLInputElement;
  add(file: Blob, name: string, kind: FileToSend["kind"]): void;
  addFiles(files: ArrayLike<File>, pasted?: boolean): void;
  files(): FileToSend[];
  clear(): void;
  /** Let files be dropped or pasted onto `zone`. */
  accept(zone: HTMLElement): void;
}

export function attachments(s: Strings, announce: (text: string) => void, onChange: () => void): Attachments {
  let items: FileToSend[] = [];
  const list = h("ul", { class: "files" });
  const input = h("input", { type: "file", multiple: true, class: "visually-hidden", tabindex: -1, "aria-hidden": "true" });

  const render = () => {
    list.replaceChildren(
      ...items.map((item, i) =>
        h(
          "li",
          null,
          h("span", { class: "file-name", dir: "auto" }, item.name),
          h("span", { class: "file-size" }, fileSize(item.file.size)),
          h(
            "button",
            {
              type: "button",
              class: "remove",
              "aria-label": fmt(s.remove, { name: item.name }),
              onclick: () => {
                items = items.filter((_, j) => j !== i);
                render();
                onChange();
              },
            },
            "×",
          ),
        ),
      ),
    );
  };

  const api: Attachments = {
    list,
    input,
    add(file, name, kind) {
      items.push({ file, name, kind });
      render();
      onChange();
      announce(fmt(s.attached, { name }));
    },
    addFiles(files, pasted) {
      for (const f of Array.from(files)) {
        const image = /^image\//.test(f.type);
        api.add(f, f.name || (image ? "pasted.png" : "file"), pasted && image ? "screenshot" : "file");
      }
    },
    files: () => items.slice(),
    clear() {
      items = [];
      render();
    },
    accept(zone) {
      const hasFiles = (e: DragEvent) => !!e.dataTransfer && Array.from(e.dataTransfer.types).indexOf("Files") >= 0;
      zone.addEventListener("dragover", (e) => {
        if (!hasFiles(e)) return;
        e.preventDefault();
        zone.classList.add("dragging");
      });
      zone.addEventListener("dragleave", () => zone.classList.remove("dragging"));
      zone.addEventListener("drop", (e) => {
        zone.classList.remove("dragging");
        if (!hasFiles(e)) return;
        e.preventDefault();
        api.addFiles(e.dataTransfer!.files);
      });
      zone.addEventListener("paste", (e) => {
        const files = e.clipboardData && e.clipboardData.files;
        if (files && files.length) {
          e.preventDefault();
          api.addFiles(files, true);
        }
      });
    },
  };
  input.addEventListener("change", () => {
    if (input.files) api.addFiles(input.files);
    input.value = "";
  });
  return api;
}

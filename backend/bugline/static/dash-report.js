// The report page works without this. With it: the character count of long fields shows
// as you type (the limit is the form's maxlength), and the form that was refused is
// scrolled into view with its first invalid field focused.
document.addEventListener("DOMContentLoaded", () => {
  for (const area of document.querySelectorAll("textarea[maxlength]")) {
    const limit = Number(area.getAttribute("maxlength"));
    if (!limit || limit < 500) continue;
    const counter = document.createElement("p");
    counter.className = "muted count";
    counter.setAttribute("aria-live", "polite");
    const update = () => {
      const left = limit - area.value.length;
      counter.textContent = left < limit / 10 ? `${left} characters left` : "";
    };
    area.addEventListener("input", update);
    area.insertAdjacentElement("afterend", counter);
    update();
  }
  const invalid = document.querySelector("[aria-invalid='true']");
  if (invalid instanceof HTMLElement) {
    invalid.scrollIntoView({ block: "center" });
    invalid.focus();
  }
});

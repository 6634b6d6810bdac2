// Small progressive enhancement for the dashboard; every page works without it.
// Buttons with data-copy="#id" copy that element's text (the embed snippet, a new token).
document.addEventListener("click", (event) => {
  const button = event.target instanceof Element ? event.target.closest("[data-copy]") : null;
  if (!button) return;
  const source = document.querySelector(button.getAttribute("data-copy"));
  if (!source || !navigator.clipboard) return;
  navigator.clipboard.writeText(source.textContent || "").then(() => {
    button.textContent = "Copied";
  });
});
// Forms with data-confirm ask before they are sent (merge, split, cannot reproduce).
document.addEventListener("submit", (event) => {
  const form = event.target;
  if (form instanceof HTMLFormElement && form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
    event.preventDefault();
  }
});

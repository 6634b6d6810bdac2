// The inbox's progressive enhancement: everything works without it.
// Deleting a saved view asks first (the form posts as usual once confirmed).
document.addEventListener("submit", (event) => {
  const form = event.target;
  if (form instanceof HTMLFormElement && form.classList.contains("delete-view")) {
    const name = form.querySelector("button")?.getAttribute("aria-label") || "Delete this view";
    if (!window.confirm(name + "?")) event.preventDefault();
  }
});

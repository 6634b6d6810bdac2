// Projects and account pages; every page works without this.
// A freshly created API token is selected, so it can be copied even without the clipboard API.
document.addEventListener("DOMContentLoaded", () => {
  const token = document.getElementById("new-token");
  if (!token || !window.getSelection) return;
  const range = document.createRange();
  range.selectNodeContents(token);
  const selection = window.getSelection();
  selection.removeAllRanges();
  selection.addRange(range);
});

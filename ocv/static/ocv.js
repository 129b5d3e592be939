// Progressive enhancement only: every page works without this file.
document.documentElement.classList.add("js");
document.addEventListener("click", (event) => {
  if (event.target.closest("[data-print]")) { event.preventDefault(); window.print(); }
});
// A page that asks to be reloaded (the tally dashboard, as stations report) reloads itself
// every data-refresh seconds, unless someone has started filling one of its forms.
(() => {
  const box = document.querySelector("[data-refresh]");
  if (!box) return;
  let touched = false;
  box.addEventListener("input", () => { touched = true; });
  const seconds = Math.max(10, parseInt(box.dataset.refresh, 10) || 30);
  setInterval(() => {
    const active = document.activeElement;
    if (!touched && !(active && active.closest("form"))) window.location.reload();
  }, seconds * 1000);
})();

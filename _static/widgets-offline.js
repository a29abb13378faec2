// Glue for the saved ipywidgets of the static book. The embed manager and its fonts are
// served from _static/vendor/ (see tools/fetch_static.py); this script runs before it.

// 1. Where the embed manager finds its icon fonts: found from this script's own address,
//    so that it works at any depth of the book and from file:// too.
window.__jupyter_widgets_assets_path__ = new URL(
  "vendor/html-manager/",
  document.currentScript.src,
).href;

// 2. ipywidgets' controls typeset widget labels with the MathJax 2 call
//    MathJax.Hub.Queue(["Typeset", MathJax.Hub, element]); the book loads MathJax 3.
//    Once the deferred scripts have run (MathJax first), route that call to MathJax 3.
document.addEventListener("DOMContentLoaded", () => {
  const mathjax = window.MathJax;
  if (!mathjax || mathjax.Hub || typeof mathjax.typesetPromise !== "function") return;
  mathjax.Hub = {
    Queue(...jobs) {
      for (const job of jobs) {
        if (Array.isArray(job) && job[0] === "Typeset") {
          const element = job[2];
          mathjax.startup.promise
            .then(() => mathjax.typesetPromise(element ? [element] : undefined))
            .catch((error) => console.error("MathJax typeset of a widget failed:", error));
        }
      }
    },
  };
});

// 3. Accessible names (WCAG 4.1.2) for the controls the embed manager draws without one.
//    A slider's handle (role="slider") is named by the slider's visible description; a
//    number box without a description (the 3x3 grid of kernel_explorer) by the label
//    beside its grid, with its row and column; a widget's picture takes the text
//    alternative written for it in the notebook, which docs/_ext/alt_text.py puts next
//    to the widget as <span class="widget-alt" data-alt="...">.
(() => {
  const chinese = (document.documentElement.lang || "").startsWith("zh");
  const cellName = (grid, r, c) =>
    chinese ? `${grid}第 ${r} 行第 ${c} 列` : `${grid} row ${r}, column ${c}`;
  let serial = 0;
  const idOf = (el) => el.id || (el.id = `widget-name-${++serial}`);
  const visibleText = (el) =>
    el && getComputedStyle(el).display !== "none" ? el.textContent.trim() : "";

  function nameWidgets() {
    for (const handle of document.querySelectorAll(
      ".widget-slider [role=slider]:not([aria-label]):not([aria-labelledby])")) {
      const label = handle.closest(".widget-slider").querySelector(":scope > .widget-label");
      if (visibleText(label)) handle.setAttribute("aria-labelledby", idOf(label));
    }
    for (const grid of document.querySelectorAll(".widget-gridbox")) {
      const boxes = Array.from(grid.querySelectorAll("input:not([aria-label])"));
      if (!boxes.length) continue;
      const columns = getComputedStyle(grid).gridTemplateColumns.split(" ").length || 1;
      const before = grid.previousElementSibling;
      const name = (before && before.textContent.trim().replace(/:$/, "")) || "";
      grid.querySelectorAll("input").forEach((box, i) => {
        const own = box.id && grid.querySelector(`label[for="${box.id}"]`);
        if (visibleText(own) || box.hasAttribute("aria-label")) return;
        box.setAttribute("aria-label",
          cellName(name, Math.floor(i / columns) + 1, (i % columns) + 1).trim());
      });
    }
    for (const img of document.querySelectorAll("img.widget-image:not([alt])")) {
      const output = img.closest(".cell_output, .output");
      const alt = output && output.querySelector(".widget-alt[data-alt]");
      if (alt) img.setAttribute("alt", alt.dataset.alt);
    }
  }
  document.addEventListener("DOMContentLoaded", () => {
    new MutationObserver(nameWidgets).observe(document.body, { childList: true, subtree: true });
    nameWidgets();
  });
})();

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

/* Draws every chart on the page from the JSON the server put next to it (no inline script). */
(function () {
  "use strict";
  function draw(el) {
    var source = document.getElementById(el.getAttribute("data-chart"));
    if (!source || typeof Plotly === "undefined") { return; }
    var figure = JSON.parse(source.textContent);
    var config = {
      locale: document.documentElement.lang || "en",
      responsive: true,
      displaylogo: false,
      modeBarButtonsToRemove: ["lasso2d", "select2d"],
      toImageButtonOptions: { format: "png", filename: el.getAttribute("data-filename") || "chart", scale: 2 }
    };
    Plotly.newPlot(el, figure.data || [], figure.layout || {}, config).then(function () {
      el.setAttribute("data-rendered", "true");
    });
  }
  function drawAll() {
    var charts = document.querySelectorAll("[data-chart]");
    for (var i = 0; i < charts.length; i++) { draw(charts[i]); }
  }
  /* Filter selects apply on change; the submit button stays for keyboards and no-JS. */
  function autoSubmit() {
    var selects = document.querySelectorAll("form.filters select");
    for (var i = 0; i < selects.length; i++) {
      selects[i].addEventListener("change", function (e) { e.target.form.submit(); });
    }
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { drawAll(); autoSubmit(); });
  } else { drawAll(); autoSubmit(); }
})();

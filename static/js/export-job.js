/* An export job's page: ask the server every two seconds how far the job got, move the
   progress bar, and offer the file (or say what went wrong) once it is finished. Every word
   shown comes translated from the server. */
(function () {
  "use strict";
  var box = document.querySelector("[data-export-job]");
  if (!box || box.getAttribute("data-finished") === "true") {
    return;
  }
  var EVERY = 2000;
  var url = box.getAttribute("data-status-url");
  var bar = box.querySelector("progress");
  var status = box.querySelector("[data-job-status]");
  var rows = box.querySelector("[data-job-rows]");
  var ready = box.querySelector("[data-job-ready]");
  var failed = box.querySelector("[data-job-failed]");

  function show(state) {
    status.textContent = state.status_label;
    rows.textContent = state.rows_text;
    if (state.percent === null) {
      bar.removeAttribute("value");
      bar.textContent = "";
    } else {
      bar.value = state.percent;
      bar.textContent = state.percent + " %";
    }
    if (state.download_url) {
      var link = ready.querySelector("a");
      link.href = state.download_url;
      ready.querySelector("[data-job-filename]").textContent = state.filename;
      ready.hidden = false;
    }
    if (state.error) {
      failed.textContent = state.error;
      failed.hidden = false;
    }
    box.setAttribute("data-status", state.status);
  }

  function poll() {
    fetch(url, { credentials: "same-origin", cache: "no-store", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) {
          throw new Error(String(response.status));
        }
        return response.json();
      })
      .then(function (state) {
        show(state);
        if (!state.finished) {
          window.setTimeout(poll, EVERY);
        }
      })
      .catch(function () {
        window.setTimeout(poll, EVERY * 2); /* the server may be restarting: keep asking */
      });
  }

  window.setTimeout(poll, EVERY);
})();

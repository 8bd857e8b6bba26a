/* The public survey page: shows and hides questions as they are answered (skip logic), the
   same way surveys/skip.py decides on the server, which stays the authority. Each question's
   block carries data-question (its field name) and, when it depends on another,
   data-show-if (that field's name) and data-show-if-values (a JSON list of tokens).
   Without this script every question shows, with a line saying when to answer it. */
(function () {
  "use strict";
  var PLAIN_NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)$/;
  var TYPED_NUMBER = /^[+-]?(\d+([.,]\d*)?|[.,]\d+)$/;

  /* A number written plainly, without trailing zeros: "4.50" -> "4.5", "040" -> "40". */
  function canonical(text) {
    var sign = text.charAt(0) === "-" ? "-" : "";
    var parts = text.replace(/^[+-]/, "").split(".");
    var whole = parts[0].replace(/^0+/, "") || "0";
    var fraction = (parts[1] || "").replace(/0+$/, "");
    var out = whole + (fraction ? "." + fraction : "");
    return out === "0" ? "0" : sign + out;
  }

  /* As skip.token: numbers in one spelling, any other answer as its trimmed text. */
  function token(value) {
    var text = String(value).trim();
    return PLAIN_NUMBER.test(text) ? canonical(text) : text;
  }

  /* What a question's inputs hold now, as tokens (a number may have a decimal comma). */
  function answers(block) {
    var out = [];
    var inputs = block.querySelectorAll("input, textarea");
    for (var i = 0; i < inputs.length; i++) {
      var input = inputs[i];
      if (input.type === "radio" || input.type === "checkbox") {
        if (input.checked) { out.push(token(input.value)); }
      } else if (input.classList.contains("number")) {
        var typed = input.value.replace(/\s/g, "");
        if (TYPED_NUMBER.test(typed)) { out.push(canonical(typed.replace(",", "."))); }
      } else if (input.value.trim() !== "") {
        out.push(token(input.value));
      }
    }
    return out;
  }

  function rule(block) {
    var on = block.getAttribute("data-show-if");
    if (!on) { return null; }
    var values = [];
    try { values = JSON.parse(block.getAttribute("data-show-if-values") || "[]"); } catch (e) { values = []; }
    return { on: on, values: values.map(token) };
  }

  /* Which blocks show: a block with a rule shows when the block it depends on shows and
     holds one of the rule's values; chains follow, cycles and unknown blocks hide. */
  function decide(blocks) {
    var decided = {};
    function shows(name, path) {
      if (Object.prototype.hasOwnProperty.call(decided, name)) { return decided[name]; }
      var block = blocks[name];
      var r = block ? rule(block) : null;
      var result;
      if (!block) { result = false; }
      else if (!r) { result = true; }
      else if (path.indexOf(r.on) >= 0 || !blocks[r.on]) { result = false; }
      else {
        result = shows(r.on, path.concat([name])) &&
          answers(blocks[r.on]).some(function (v) { return r.values.indexOf(v) >= 0; });
      }
      decided[name] = result;
      return result;
    }
    Object.keys(blocks).forEach(function (name) { shows(name, []); });
    return decided;
  }

  /* Hidden questions are disabled too, so what they held is not sent (nor would it count). */
  function apply(blocks) {
    var shown = decide(blocks);
    Object.keys(blocks).forEach(function (name) {
      var block = blocks[name];
      block.hidden = !shown[name];
      var inputs = block.querySelectorAll("input, textarea, select");
      for (var i = 0; i < inputs.length; i++) { inputs[i].disabled = !shown[name]; }
    });
  }

  function start() {
    var form = document.getElementById("survey-form");
    if (!form) { return; }
    document.documentElement.classList.add("js");
    var blocks = {};
    var all = form.querySelectorAll("[data-question]");
    for (var i = 0; i < all.length; i++) { blocks[all[i].getAttribute("data-question")] = all[i]; }
    var update = function () { apply(blocks); };
    form.addEventListener("change", update);
    form.addEventListener("input", update);
    update();
    /* One click sends once; coming back to the page (history) makes the button usable again. */
    var submit = form.querySelector("button[type=submit]");
    form.addEventListener("submit", function () { if (submit) { submit.disabled = true; } });
    window.addEventListener("pageshow", function () { if (submit) { submit.disabled = false; } });
    form.setAttribute("data-ready", "true");
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else { start(); }
})();

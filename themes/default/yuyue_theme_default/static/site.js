// yuyue site: progressive enhancement only. Every page works without this file.
"use strict";

/* booking */
// The date strip scrolls sideways; bring the chosen day into view (without a script it starts at today).
document.addEventListener("DOMContentLoaded", function () {
  var current = document.querySelector(".date-strip-days a[aria-current]");
  if (current && current.scrollIntoView) {
    current.scrollIntoView({ block: "nearest", inline: "center" });
  }
});

// A field shown only for another's answer (data-show-if="{field, enum}") is hidden while that answer does not match;
// without this script it stays visible with a note saying when it applies, and the server ignores it while hidden.
document.addEventListener("DOMContentLoaded", function () {
  var form = document.querySelector("form.booking");
  if (!form) {
    return;
  }
  var dependents = Array.prototype.slice.call(form.querySelectorAll("[data-show-if]"));
  function answer(name) {
    var chosen = Array.prototype.filter.call(form.elements, function (control) {
      return control.name === name && ((control.type !== "radio" && control.type !== "checkbox") || control.checked);
    });
    return chosen.length ? chosen[chosen.length - 1].value : "";
  }
  function update() {
    dependents.forEach(function (field) {
      var condition = JSON.parse(field.getAttribute("data-show-if"));
      field.hidden = condition.enum.indexOf(answer(condition.field)) === -1;
    });
  }
  dependents.forEach(function (field) {
    var note = field.querySelector(".show-if-note");
    if (note) {
      note.hidden = true;
    }
  });
  form.addEventListener("change", update);
  update();
});

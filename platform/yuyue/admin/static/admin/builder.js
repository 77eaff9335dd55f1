// The form designer's enhancements: the live preview, dragging fields into order, show-if in the preview.
// Without this script every button posts the whole form and the page comes back (nothing is lost).
"use strict";
(function () {
  var form = document.getElementById("designer");
  if (!form) { return; }
  var previewBody = document.getElementById("preview-body");
  var csrf = document.querySelector('meta[name="csrf-token"]');
  var timer = null;
  var sequence = 0;

  // Show-if in the preview: a field whose condition does not hold is hidden.
  function applyShowIf(root) {
    var fields = root.querySelectorAll("[data-show-if]");
    fields.forEach(function (field) {
      var condition;
      try { condition = JSON.parse(field.getAttribute("data-show-if")); } catch (error) { return; }
      var value = null;
      root.querySelectorAll('[name="' + condition.field + '"]').forEach(function (control) {
        if ((control.type === "radio" || control.type === "checkbox") && !control.checked) { return; }
        value = control.value;
      });
      field.classList.toggle("is-hidden", condition["enum"].indexOf(value) < 0);
    });
  }

  function refreshPreview() {
    var mine = ++sequence;
    var data = new FormData(form);
    data.set("action", "preview");
    previewBody.classList.add("updating");
    fetch(form.getAttribute("data-preview-url"), {
      method: "POST", body: data, credentials: "same-origin",
      headers: { "X-CSRFToken": csrf ? csrf.getAttribute("content") : "" }
    }).then(function (response) {
      return response.ok ? response.text() : null;
    }).then(function (html) {
      if (html !== null && mine === sequence) {
        previewBody.innerHTML = html;
        applyShowIf(previewBody);
      }
    }).catch(function () { /* the "update preview" button still works */ }).then(function () {
      previewBody.classList.remove("updating");
    });
  }

  function schedule(event) {
    if (previewBody.contains(event.target)) { applyShowIf(previewBody); return; }
    clearTimeout(timer);
    timer = setTimeout(refreshPreview, 300);
  }
  form.addEventListener("input", schedule);
  form.addEventListener("change", schedule);
  applyShowIf(previewBody);

  // Dragging a card renumbers the f<i>.* inputs into the new order (what "move up/down" does on the server).
  var list = document.getElementById("field-cards");
  var dragged = null;
  function renumber() {
    Array.prototype.forEach.call(list.children, function (card, index) {
      var old = card.getAttribute("data-index");
      if (old === String(index)) { return; }
      card.querySelectorAll("[name],[id],[for],[aria-describedby]").forEach(function (element) {
        ["name", "id", "for", "aria-describedby"].forEach(function (attribute) {
          var value = element.getAttribute(attribute);
          if (value !== null) { element.setAttribute(attribute, value.split("f" + old + ".").join("f" + index + ".")); }
        });
      });
      card.querySelectorAll('button[value]').forEach(function (button) {
        button.value = button.value.replace(/:\d+$/, ":" + index);
      });
      card.setAttribute("data-index", String(index));
    });
    refreshPreview();
  }
  list.addEventListener("dragstart", function (event) {
    dragged = event.target.closest(".field-card");
    if (dragged) { dragged.classList.add("dragging"); event.dataTransfer.effectAllowed = "move"; }
  });
  list.addEventListener("dragover", function (event) {
    var over = event.target.closest(".field-card");
    if (!dragged || !over || over === dragged) { return; }
    event.preventDefault();
    var box = over.getBoundingClientRect();
    list.insertBefore(dragged, event.clientY < box.top + box.height / 2 ? over : over.nextSibling);
  });
  list.addEventListener("dragend", function () {
    if (dragged) { dragged.classList.remove("dragging"); dragged = null; renumber(); }
  });
})();

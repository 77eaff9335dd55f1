// yuyue admin: progressive enhancement only; every page works without it.
"use strict";
(function () {
  // A form with data-confirm asks before it is sent (the server shows the same question without JavaScript).
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form.getAttribute && form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) {
      event.preventDefault();
    }
  });
})();

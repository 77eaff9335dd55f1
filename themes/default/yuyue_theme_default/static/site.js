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

// The check-in page: keep the input ready for the next scan, and scan QR codes with the camera where the browser can.
"use strict";
(function () {
  var form = document.getElementById("scan-form");
  var input = document.getElementById("code");
  if (!form || !input) {
    return;
  }
  input.focus();
  input.select();

  // BarcodeDetector is progressive: without it (or without a camera) the button stays hidden and typing works as before.
  var button = document.getElementById("camera-button");
  var video = document.getElementById("camera");
  var status = document.getElementById("camera-status");
  if (!("BarcodeDetector" in window) || !navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
    return;
  }
  var stream = null;
  var detector = null;

  function stop() {
    if (stream) {
      stream.getTracks().forEach(function (track) { track.stop(); });
      stream = null;
    }
    video.hidden = true;
  }

  function look() {
    if (!stream) {
      return;
    }
    detector.detect(video).then(function (codes) {
      if (codes.length && codes[0].rawValue) {
        input.value = codes[0].rawValue;
        stop();
        form.submit();
        return;
      }
      window.setTimeout(look, 250);
    }).catch(function () {
      window.setTimeout(look, 500);
    });
  }

  window.BarcodeDetector.getSupportedFormats().then(function (formats) {
    if (formats.indexOf("qr_code") < 0) {
      return;
    }
    detector = new window.BarcodeDetector({ formats: ["qr_code"] });
    button.hidden = false;
    button.addEventListener("click", function () {
      if (stream) {
        stop();
        return;
      }
      navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } }).then(function (media) {
        stream = media;
        video.srcObject = media;
        video.hidden = false;
        status.hidden = true;
        return video.play();
      }).then(look).catch(function (error) {
        status.textContent = String(error && error.message ? error.message : error);
        status.hidden = false;
        stop();
      });
    });
  }).catch(function () { /* no formats: typing only */ });
})();

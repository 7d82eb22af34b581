// Stepstone serve only (never in a built site): shows the build's problems over the page.
(function () {
  fetch("/_stepstone/errors.json", { cache: "no-store" })
    .then(function (r) { return r.json(); })
    .then(function (lines) {
      if (!lines.length) return;
      var box = document.createElement("div");
      box.id = "stepstone-errors";
      box.setAttribute("role", "alert");
      box.style.cssText = "position:fixed;left:0;right:0;top:0;z-index:2147483647;max-height:70vh;" +
        "overflow:auto;margin:0;padding:16px 20px;background:#7f1d1d;color:#fff;" +
        "font:14px/1.5 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;white-space:pre-wrap;" +
        "box-shadow:0 4px 16px rgba(0,0,0,.4)";
      box.textContent = "Stepstone could not rebuild the site. This page is the last good version.\n" +
        "Fix these lines and save:\n\n" + lines.join("\n");
      document.body.appendChild(box);
    })
    .catch(function () {});
})();

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
// A small bar for the owner: whose eyes the page is seen through, and the way to the funnel map.
(function () {
  var tag = document.querySelector("script[data-steps]");
  if (location.pathname.indexOf("/_stepstone/") === 0) return;
  var bar = document.createElement("div"), key = tag ? "stepstone:" + tag.dataset.key : "";
  bar.id = "stepstone-devbar";
  bar.style.cssText = "position:fixed;right:8px;bottom:8px;z-index:2147483646;padding:6px 10px;border-radius:8px;" +
    "background:#1d2327;color:#fff;font:13px/1.4 system-ui,sans-serif;box-shadow:0 2px 8px rgba(0,0,0,.3)";
  bar.innerHTML = '<a href="/_stepstone/" style="color:#fff">Funnel map</a>';
  if (tag) {
    var select = document.createElement("select"), now = localStorage.getItem(key) || "";
    select.setAttribute("aria-label", "Preview as a visitor at step");
    [""].concat(tag.dataset.steps.split(" ")).forEach(function (id) {
      var o = document.createElement("option");
      o.value = id; o.textContent = id ? "visitor at " + id : "first-time visitor"; o.selected = id === now;
      select.appendChild(o);
    });
    select.addEventListener("change", function () {
      if (select.value) localStorage.setItem(key, select.value); else localStorage.removeItem(key);
      location.reload();
    });
    select.style.cssText = "margin-left:8px;font:inherit";
    bar.appendChild(select);
  }
  document.body.appendChild(bar);
})();

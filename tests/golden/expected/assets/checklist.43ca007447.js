/* Stepstone: checklist ticks remembered in this browser (per page), and a print button. */
(function (d) {
  var key = "stepstone:checklist:" + location.pathname, boxes = d.querySelectorAll(".prose input[type=checkbox]"),
    saved = [];
  try { saved = JSON.parse(localStorage.getItem(key) || "[]"); } catch (e) {}
  boxes.forEach(function (box, i) {
    box.disabled = false;
    if (saved.length) box.checked = saved[i] === 1;
    box.addEventListener("change", function () {
      var ticks = [];
      boxes.forEach(function (b) { ticks.push(b.checked ? 1 : 0); });
      try { localStorage.setItem(key, JSON.stringify(ticks)); } catch (e) {}
    });
  });
  var print = d.querySelector("[data-stepstone=print]");
  if (print) { print.hidden = false; print.addEventListener("click", function () { window.print(); }); }
})(document);

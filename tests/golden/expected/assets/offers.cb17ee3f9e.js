/* Stepstone: coupons and events turn over by the visitor's own clock (a site built before the
   date still says the offer has ended), a copy button for coupon codes, event times in the
   visitor's own time zone and words. */
(function (d) {
  var now = new Date(), pad = function (n) { return (n < 10 ? "0" : "") + n; },
    today = now.getFullYear() + "-" + pad(now.getMonth() + 1) + "-" + pad(now.getDate());
  function end(box) {
    box.classList.add("is-over");
    box.querySelectorAll("[data-stepstone=live]").forEach(function (e) { e.hidden = true; });
    box.querySelectorAll("[data-stepstone=over]").forEach(function (e) { e.hidden = false; });
  }
  d.querySelectorAll("[data-stepstone=coupon][data-expires]").forEach(function (c) {
    if (c.dataset.expires < today) end(c);
  });
  d.querySelectorAll("[data-stepstone=copy]").forEach(function (b) {
    b.hidden = false;
    b.addEventListener("click", function () {
      var done = function () { b.textContent = "Copied"; };
      if (navigator.clipboard) navigator.clipboard.writeText(b.dataset.code).then(done, function () {});
    });
  });
  d.querySelectorAll("[data-stepstone=event]").forEach(function (e) {
    var start = new Date(e.dataset.start), stop = new Date(e.dataset.end || e.dataset.start),
      when = e.querySelector("[data-stepstone=when]");
    if (when && window.Intl) {
      var day = { weekday: "long", day: "numeric", month: "long", year: "numeric" },
        hour = { hour: "2-digit", minute: "2-digit" }, zone = { hour: "2-digit", minute: "2-digit", timeZoneName: "short" };
      when.textContent = start.toLocaleDateString(undefined, day) + ", " +
        (e.dataset.end ? start.toLocaleTimeString(undefined, hour) + "–" + stop.toLocaleTimeString(undefined, zone)
          : start.toLocaleTimeString(undefined, zone));
    }
    if (stop < now) end(e);
  });
})(document);

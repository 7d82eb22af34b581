/* Stepstone: per-visitor progression (SPEC 1). Remembers in localStorage the furthest funnel
   step whose page this visitor has read, and offers the door after it. No cookies, no requests;
   with Global Privacy Control on, nothing is stored. */
(function (d) {
  var me = d.currentScript, s = me.dataset, steps = s.steps.split(" "), key = "stepstone:" + s.key,
    store = null, gpc = navigator.globalPrivacyControl === true;
  try { store = window.localStorage; } catch (e) {}
  function pos(id) { return steps.indexOf(id || ""); }
  var saved = -1;
  try { saved = pos(store && store.getItem(key)); } catch (e) {}
  var stand = pos(s.stand), far = Math.max(saved, pos(new URLSearchParams(location.search).get("step")));
  if (s.room === "1") far = Math.max(far, stand);
  if (far > saved && !gpc && store) try { store.setItem(key, steps[far]); } catch (e) {}
  if (stand >= 0 && far > stand) {
    var slot = d.querySelector("[data-stepstone=cta-slot]"),
      next = d.querySelector('template[data-offer-step="' + steps[far + 1] + '"]');
    if (slot) slot.replaceChildren(next ? next.content.cloneNode(true) : "");
  }
  var form = d.querySelector("[data-stepstone=inline-form]");
  if (form && pos(form.dataset.formStep) >= 0 && far >= pos(form.dataset.formStep)) form.hidden = true;
  var note = d.querySelector("[data-stepstone=progress-note]"), forget = d.querySelector("[data-stepstone=forget]");
  if (note && forget && store && !gpc) {
    note.hidden = false;
    forget.addEventListener("click", function (e) {
      e.preventDefault();
      try { store.removeItem(key); } catch (x) {}
      location.replace(location.pathname + location.hash);
    });
  }
})(document);

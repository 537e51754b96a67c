// Filters and expand/collapse for the spec list. The report reads fine
// without it: every spec is listed and failed ones are open.
(function () {
  "use strict";
  var specs = Array.prototype.slice.call(document.querySelectorAll("details.spec"));
  var groups = Array.prototype.slice.call(document.querySelectorAll("#specs .group"));

  function matches(spec, filter) {
    if (filter === "all") { return true; }
    if (filter === "warn") { return spec.getAttribute("data-warn") === "true"; }
    return spec.getAttribute("data-state") === filter;
  }

  function apply(filter) {
    specs.forEach(function (s) { s.hidden = !matches(s, filter); });
    groups.forEach(function (g) { g.hidden = g.querySelector("details.spec:not([hidden])") === null; });
  }

  var bar = document.getElementById("filters");
  if (bar) {
    bar.hidden = false;
    bar.addEventListener("click", function (ev) {
      var b = ev.target.closest("button");
      if (!b) { return; }
      var f = b.getAttribute("data-filter");
      if (f) {
        bar.querySelectorAll("button[data-filter]").forEach(function (o) {
          o.setAttribute("aria-pressed", o === b ? "true" : "false");
        });
        apply(f);
      }
      var t = b.getAttribute("data-toggle");
      if (t) {
        specs.forEach(function (s) { if (!s.hidden) { s.open = t === "expand"; } });
      }
    });
  }

  // A link to a spec (#spec-3) opens it.
  function openTarget() {
    var id = decodeURIComponent(window.location.hash.slice(1));
    var el = id ? document.getElementById(id) : null;
    if (el && el.tagName === "DETAILS") { el.hidden = false; el.open = true; }
  }
  window.addEventListener("hashchange", openTarget);
  openTarget();

  document.documentElement.setAttribute("data-ready", "true");
}());

// Charts of a load run, drawn with uPlot from the data block #load-data:
// for each step, latency percentiles and the requested against the
// attempted rate over time, and the latency histogram. The tables of the
// page hold every figure; the charts only draw them.
(function () {
  "use strict";
  var block = document.getElementById("load-data");
  if (!block || typeof uPlot !== "function") { return; }
  var data = JSON.parse(block.textContent);
  var dark = window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)").matches;
  var ink = dark ? "#c9d1d9" : "#1d2329";
  var grid = dark ? "#30363d" : "#d8dee4";
  var colours = { p50: "#1a7f37", p90: "#0969da", p99: "#bf3989", max: "#8c959f", requested: "#9a6700", attempted: "#cf222e" };

  function width(el) { return Math.max(320, Math.floor(el.getBoundingClientRect().width) || 560); }
  function axis(extra) {
    var a = { stroke: ink, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 } };
    for (var k in extra) { if (Object.prototype.hasOwnProperty.call(extra, k)) { a[k] = extra[k]; } }
    return a;
  }
  function fromZero(u, min, max) { return [0, max > 0 ? max * 1.1 : 1]; }
  function ms(u, v) { return v == null ? "-" : v.toFixed(v < 10 ? 2 : 1) + " ms"; }
  function perSecond(u, v) { return v == null ? "-" : v.toFixed(1) + "/s"; }

  function timeline(step, el) {
    var opts = {
      width: width(el), height: 260,
      // Both axes start at zero, so a rate 0.1% short of its target does
      // not look like a cliff.
      scales: { x: { time: false }, ms: { range: fromZero }, rate: { range: fromZero } },
      axes: [
        axis({ label: "seconds into the step", values: function (u, ticks) { return ticks.map(function (t) { return t + "s"; }); } }),
        axis({ scale: "ms", label: "latency (ms)" }),
        axis({ scale: "rate", side: 1, label: "requests per second", grid: { show: false } })
      ],
      series: [
        { label: "t", value: function (u, v) { return v == null ? "-" : v.toFixed(1) + "s"; } },
        { label: "p50", scale: "ms", stroke: colours.p50, width: 2, value: ms },
        { label: "p90", scale: "ms", stroke: colours.p90, width: 2, value: ms },
        { label: "p99", scale: "ms", stroke: colours.p99, width: 2, value: ms },
        { label: "max", scale: "ms", stroke: colours.max, width: 1, value: ms },
        { label: "requested", scale: "rate", stroke: colours.requested, width: 2, dash: [6, 4], value: perSecond },
        { label: "attempted", scale: "rate", stroke: colours.attempted, width: 2, dash: [2, 3], value: perSecond }
      ]
    };
    return new uPlot(opts, [step.t, step.p50, step.p90, step.p99, step.max, step.requested, step.attempted], el);
  }

  function histogram(step, el) {
    var labels = step.hist_label || [];
    var xs = labels.map(function (_, i) { return i; });
    var opts = {
      width: width(el), height: 260,
      scales: { x: { time: false, range: [-0.5, Math.max(0.5, labels.length - 0.5)] }, y: { range: fromZero } },
      axes: [
        axis({ label: "latency", splits: function () { return xs; }, values: function (u, ticks) { return ticks.map(function (i) { return labels[i] || ""; }); } }),
        axis({ label: "responses" })
      ],
      series: [
        { label: "bucket", value: function (u, i) { return i == null ? "-" : (labels[i] || ""); } },
        { label: "responses", stroke: colours.p90, fill: colours.p90 + "99", width: 1, paths: uPlot.paths.bars({ size: [0.8, 80] }), points: { show: false } }
      ]
    };
    return new uPlot(opts, [xs, step.hist_count || []], el);
  }

  var drawn = 0;
  data.steps.forEach(function (step) {
    var t = document.getElementById(step.id + "-timeline");
    if (t && step.t && step.t.length) { timeline(step, t); drawn++; }
    var h = document.getElementById(step.id + "-histogram");
    if (h && step.hist_label && step.hist_label.length) { histogram(step, h); drawn++; }
  });
  var note = document.getElementById("charts-need-js");
  if (note) { note.hidden = true; }
  document.documentElement.setAttribute("data-charts", String(drawn));
}());

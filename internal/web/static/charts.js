// Sealpost dashboard charts: draws the overview's series with uPlot from the numbers
// the page carries in #chart-data. Without script the table shows the same numbers.
(function () {
  "use strict";
  var el = document.getElementById("chart-data");
  if (!el || typeof uPlot === "undefined") { return; }
  var data = JSON.parse(el.textContent);
  // The same colours as the .k0–.k4 keys in app.css.
  var colours = ["#1d4ed8", "#15803d", "#b45309", "#7e22ce", "#b42318"];
  function draw(id, names, labels) {
    var box = document.getElementById(id);
    if (!box) { return; }
    var series = [{}];
    var cols = [data.x];
    names.forEach(function (n, i) {
      series.push({ label: labels[i], stroke: colours[i], width: 2 });
      cols.push(data.series[n] || []);
    });
    var width = Math.max(280, Math.min(box.clientWidth || 640, 960));
    new uPlot({
      width: width, height: 220, series: series, legend: { show: false },
      cursor: { drag: { x: false, y: false } },
      scales: { x: { time: true }, y: { range: function (u, min, max) { return [0, Math.max(1, max)]; } } },
      axes: [{}, { values: function (u, ticks) { return ticks.map(function (t) { return Number.isInteger(t) ? String(t) : ""; }); } }]
    }, cols, box);
  }
  draw("chart-mail", ["accepted", "delivered", "opened", "clicked", "failed"], ["Accepted", "Delivered", "Opened", "Clicked", "Failed"]);
  draw("chart-secured", ["secured.tls", "secured.pgp", "secured.smime", "secured.portal"], ["TLS", "OpenPGP", "S/MIME", "Portal"]);
}());

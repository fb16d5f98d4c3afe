// The dashboard's charts (Apache ECharts). Each chart reads the numbers of its own table, the one
// named by data-chart-for: the first cell of a row is its label, the columns whose header has
// data-series are the series, each number in its cell's data-value. Without JavaScript (or in
// print) the tables carry the same numbers. No inline script: the CSP forbids it.
"use strict";

(function () {
  var COLOURS = ["#0b6e6e", "#e07b39", "#3b6fb6", "#8e5bb5", "#c9a227", "#5c946e", "#b3261e", "#56627a"];

  function readTable(table) {
    var headers = Array.prototype.slice.call(table.tHead.rows[0].cells);
    var columns = [];
    headers.forEach(function (th, index) {
      if (th.hasAttribute("data-series")) columns.push({ index: index, name: th.textContent.trim(), kind: th.getAttribute("data-series") });
    });
    var labels = [];
    var series = columns.map(function (c) { return { name: c.name, kind: c.kind, data: [] }; });
    Array.prototype.forEach.call(table.tBodies[0].rows, function (row) {
      if (row.cells.length < headers.length) return; // the "nothing in this period" row
      labels.push(row.cells[0].textContent.trim());
      columns.forEach(function (c, i) {
        var value = row.cells[c.index].getAttribute("data-value");
        series[i].data.push(value === null ? null : Number(value));
      });
    });
    return { labels: labels, series: series };
  }

  function thousands(value) {
    return typeof value === "number" ? value.toLocaleString("zh-CN", { maximumFractionDigits: 2 }) : value;
  }

  function option(kind, data) {
    var base = {
      color: COLOURS,
      textStyle: { fontFamily: "Noto Sans CJK SC, Noto Sans SC, PingFang SC, Microsoft YaHei, sans-serif" },
      tooltip: { trigger: kind === "pie" ? "item" : "axis", valueFormatter: thousands },
      animation: false,
    };
    if (kind === "pie") {
      base.legend = { bottom: 0, left: "center", itemWidth: 12, itemHeight: 10, textStyle: { fontSize: 11 } };
      base.series = [{
        type: "pie", radius: ["36%", "62%"], center: ["50%", "42%"], name: data.series[0].name,
        label: { formatter: "{d}%", overflow: "none" }, minShowLabelAngle: 4,
        data: data.labels.map(function (label, i) { return { name: label, value: data.series[0].data[i] }; })
          .filter(function (slice) { return slice.value; }),
      }];
      return base;
    }
    if (kind === "funnel") {
      // Steps in the table's order, each as wide as its count (a step can only narrow).
      base.tooltip = { trigger: "item", valueFormatter: thousands };
      base.series = [{
        type: "funnel", name: data.series[0].name, sort: "none", left: "8%", right: "8%", top: 8, bottom: 8, minSize: "4%", gap: 2,
        label: { position: "inside", formatter: "{b}: {c}", color: "#fff", fontSize: 12 },
        data: data.labels.map(function (label, i) { return { name: label, value: data.series[0].data[i] }; }),
      }];
      return base;
    }
    var horizontal = kind === "hbar";
    var category = { type: "category", data: data.labels, axisLabel: { interval: 0, width: horizontal ? 110 : 90, overflow: "truncate" } };
    var percent = data.series.every(function (s) { return s.kind === "rate"; });
    var value = { type: "value", axisLabel: { formatter: percent ? "{value}%" : thousands } };
    base.grid = { left: 12, right: 24, top: data.series.length > 1 ? 34 : 14, bottom: 8, containLabel: true };
    if (data.series.length > 1) base.legend = { top: 0 };
    base.xAxis = horizontal ? value : category;
    base.yAxis = horizontal ? Object.assign(category, { inverse: true }) : value;
    base.series = data.series.map(function (s) {
      return {
        name: s.name, data: s.data, type: kind === "line" ? "line" : "bar",
        stack: kind === "stack" ? "all" : undefined, barMaxWidth: 36, smooth: false, areaStyle: kind === "line" ? { opacity: 0.12 } : undefined,
      };
    });
    return base;
  }

  function draw() {
    if (!window.echarts) return;
    var charts = [];
    document.querySelectorAll("[data-chart-for]").forEach(function (box) {
      var table = document.getElementById(box.getAttribute("data-chart-for"));
      if (!table) return;
      var data = readTable(table);
      var top = Number(table.getAttribute("data-chart-top")) || 0;
      if (top && data.labels.length > top) {
        data.labels = data.labels.slice(0, top);
        data.series.forEach(function (s) { s.data = s.data.slice(0, top); });
      }
      if (!data.labels.length || !data.series.length) return;
      var kind = table.getAttribute("data-chart");
      // A horizontal bar chart grows with its rows, so one institution is not one fat bar.
      if (kind === "funnel") box.style.height = Math.max(220, 44 * data.labels.length) + "px";
      if (kind === "hbar") box.style.height = Math.max(140, 34 * data.labels.length + (data.series.length > 1 ? 70 : 50)) + "px";
      var chart = window.echarts.init(box, null, { renderer: "svg" });
      chart.setOption(option(kind, data));
      charts.push(chart);
    });
    window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", draw);
  else draw();
})();

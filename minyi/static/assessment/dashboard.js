/* The leadership dashboard: the trend and comparison charts (local ECharts) with a click on a
   point or bar leading to its records, and the league table sorted by a click on a heading. */
(function () {
  "use strict";

  function sortable(table) {
    var heads = table.querySelectorAll("th.dash-sort");
    heads.forEach(function (head, column) {
      head.setAttribute("role", "button");
      head.setAttribute("tabindex", "0");
      function sort() {
        var descending = head.getAttribute("aria-sort") !== "descending";
        heads.forEach(function (h) { h.removeAttribute("aria-sort"); });
        head.setAttribute("aria-sort", descending ? "descending" : "ascending");
        var numeric = head.dataset.sort === "number";
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        rows.sort(function (a, b) {
          var x = a.cells[column].dataset.value, y = b.cells[column].dataset.value;
          if (numeric) {
            // Rows without a value (—) go last whichever way.
            if (x === "" && y === "") return 0;
            if (x === "") return 1;
            if (y === "") return -1;
            return descending ? parseFloat(y) - parseFloat(x) : parseFloat(x) - parseFloat(y);
          }
          return descending ? y.localeCompare(x, "zh") : x.localeCompare(y, "zh");
        });
        rows.forEach(function (row) { body.appendChild(row); });
      }
      head.addEventListener("click", sort);
      head.addEventListener("keydown", function (e) { if (e.key === "Enter") sort(); });
    });
  }

  function draw(id, option, links) {
    var chart = window.echarts.init(document.getElementById(id), null, {renderer: "canvas"});
    chart.setOption(option);
    chart.on("click", function (params) {
      var url = (links[params.seriesIndex] || [])[params.dataIndex];
      if (url) window.location.href = url;
    });
    window.addEventListener("resize", function () { chart.resize(); });
  }

  function charts(data) {
    var narrow = window.innerWidth < 760;
    var percent = {type: "value", min: 0, max: 100, axisLabel: {formatter: "{value}%"}};
    var colours = {completion: "#1f4e8c", on_time: "#1a7f37", contact: "#b26a00",
                   satisfaction: "#7b1fa2"};
    var labels = {completion: "办结率", on_time: "按时办结率", contact: "及时联系率",
                  satisfaction: "满意率"};
    var keys = ["completion", "on_time", "contact", "satisfaction"];
    var trend = data.trend;
    var series = keys.map(function (key) {
      return {name: labels[key], type: "line", data: trend[key], connectNulls: false,
              itemStyle: {color: colours[key]}};
    });
    series.push({name: "受理", type: "bar", yAxisIndex: 1, data: trend.received,
                 itemStyle: {color: "#c9d8ee"}, z: 1});
    draw("chart-trend", {
      animation: false, tooltip: {trigger: "axis"}, legend: {top: 0},
      grid: {left: 44, right: 48, top: 40, bottom: 30},
      xAxis: {type: "category", data: trend.months},
      yAxis: [percent, {type: "value", name: "件", splitLine: {show: false}}],
      series: series
    }, [[], [], [], [], trend.links.received]);
    var compare = data.compare;
    draw("chart-compare", {
      animation: false, tooltip: {trigger: "axis"}, legend: {top: 0},
      grid: {left: 44, right: 16, top: 40, bottom: narrow ? 90 : 60},
      xAxis: {type: "category", data: compare.units,
              axisLabel: {interval: 0, rotate: narrow || compare.units.length > 6 ? 40 : 0}},
      yAxis: percent,
      series: ["on_time", "contact", "satisfaction"].map(function (key) {
        return {name: labels[key], type: "bar", data: compare[key],
                itemStyle: {color: colours[key]}};
      })
    }, [compare.links.on_time, compare.links.contact, compare.links.satisfaction]);
  }

  document.addEventListener("DOMContentLoaded", function () {
    var league = document.querySelector('[data-testid="league"]');
    if (league) sortable(league);
    var source = document.getElementById("dashboard-charts");
    if (source && window.echarts) charts(JSON.parse(source.textContent));
  });
})();

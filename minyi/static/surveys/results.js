/* The charts of a survey wave's results page: the chosen index per township and per station,
   and the share naming each problem, each bar with its 95% interval drawn as an error bar.
   Drawn by the ECharts served from /static/vendor/echarts (no CDN); the figures come from the
   page's <script id="results-chart" type="application/json"> (surveys.results.chart_data). */
(function () {
  "use strict";

  var BLUE = "#1f4e8c";
  var GREY = "#b8bec8";
  var INK = "#1f2937";

  function fmt(value, unit) {
    return value === null || value === undefined ? "—" : value.toFixed(2) + unit;
  }

  function tooltip(bars, unit, insufficient) {
    return function (params) {
      var item = Array.isArray(params) ? params[0] : params;
      var bar = bars[item.dataIndex];
      if (!bar) { return ""; }
      var lines = [bar.name,
        "估计值 " + fmt(bar.value, unit),
        "95%置信区间 " + fmt(bar.low, unit) + "–" + fmt(bar.high, unit),
        "基数 " + bar.n + " 人"];
      if (bar.rank) { lines.push("排名区间 " + bar.rank); }
      if (bar.suppressed) { lines.push(insufficient + "，不排名"); }
      return lines.join("<br>");
    };
  }

  // A custom series drawing a vertical (or horizontal) line from low to high with caps.
  function errorBars(bars, horizontal) {
    return {
      type: "custom",
      name: "95%置信区间",
      silent: true,
      z: 5,
      renderItem: function (params, api) {
        var i = api.value(0);
        var low = api.value(1);
        var high = api.value(2);
        if (isNaN(low) || isNaN(high)) { return null; }
        var a = horizontal ? api.coord([low, i]) : api.coord([i, low]);
        var b = horizontal ? api.coord([high, i]) : api.coord([i, high]);
        var band = api.size(horizontal ? [0, 1] : [1, 0])[horizontal ? 1 : 0];
        var cap = Math.max(3, band * 0.15);
        var style = {stroke: INK, lineWidth: 1.4};
        function capAt(p) {
          return horizontal
            ? {type: "line", shape: {x1: p[0], y1: p[1] - cap, x2: p[0], y2: p[1] + cap}, style: style}
            : {type: "line", shape: {x1: p[0] - cap, y1: p[1], x2: p[0] + cap, y2: p[1]}, style: style};
        }
        return {type: "group", children: [
          {type: "line", shape: {x1: a[0], y1: a[1], x2: b[0], y2: b[1]}, style: style},
          capAt(a), capAt(b)
        ]};
      },
      data: bars.map(function (bar, i) {
        return [i, bar.low === null ? NaN : bar.low, bar.high === null ? NaN : bar.high];
      })
    };
  }

  function valueAxis(bars, unit, percent) {
    var axis = {type: "value", axisLabel: {formatter: "{value}" + (percent ? "%" : "")}};
    if (percent) {
      // Indices of 80–99% differ by little: start the axis below the lowest interval, not at 0,
      // and never above 100%.
      var lows = bars.map(function (b) { return b.low === null ? b.value : b.low; });
      var lowest = Math.min.apply(null, lows.concat([100]));
      axis.min = Math.max(0, Math.floor((lowest - 5) / 10) * 10);
      axis.max = 100;
    }
    return axis;
  }

  function units(el, block, data) {
    var bars = block.bars;
    var narrow = window.innerWidth < 760;
    var percent = block.unit === "%";
    var chart = echarts.init(el, null, {renderer: "canvas"});
    var option = {
      animation: false,
      grid: {left: 48, right: 16, top: 28, bottom: narrow || bars.length > 6 ? 90 : 40},
      tooltip: {trigger: "axis", axisPointer: {type: "shadow"},
                formatter: tooltip(bars, block.unit, data.insufficient)},
      xAxis: {type: "category", data: bars.map(function (b) { return b.name; }),
              axisLabel: {interval: 0, rotate: narrow || bars.length > 6 ? 40 : 0}},
      yAxis: valueAxis(bars, block.unit, percent),
      series: [
        {name: block.name, type: "bar", barMaxWidth: 48,
         data: bars.map(function (b) {
           return {value: b.value, itemStyle: {color: b.suppressed ? GREY : BLUE}};
         }),
         markLine: block.overall === null ? undefined : {
           symbol: "none", silent: true,
           lineStyle: {color: "#c62828", type: "dashed"},
           label: {formatter: "全局 " + fmt(block.overall, block.unit), position: "insideEndTop",
                   color: "#c62828"},
           data: [{yAxis: block.overall}]
         }},
        errorBars(bars, false)
      ]
    };
    chart.setOption(option);
    return chart;
  }

  function choice(el, block, data) {
    // Most named first, from the top: a horizontal bar chart with the category axis reversed.
    var bars = block.bars;
    var chart = echarts.init(el, null, {renderer: "canvas"});
    chart.setOption({
      animation: false,
      grid: {left: 96, right: 24, top: 12, bottom: 28},
      tooltip: {trigger: "axis", axisPointer: {type: "shadow"},
                formatter: tooltip(bars, "%", data.insufficient)},
      yAxis: {type: "category", inverse: true, data: bars.map(function (b) { return b.name; })},
      xAxis: {type: "value", min: 0, max: 100, axisLabel: {formatter: "{value}%"}},
      series: [
        {name: block.text, type: "bar", barMaxWidth: 22, itemStyle: {color: "#b26a00"},
         data: bars.map(function (b) { return b.value; })},
        errorBars(bars, true)
      ]
    });
    return chart;
  }

  function draw() {
    var source = document.getElementById("results-chart");
    if (!source || !window.echarts) { return; }
    var data = JSON.parse(source.textContent);
    var charts = [];
    var focus = data.focus;
    if (focus) {
      [["chart-townships", focus.townships], ["chart-stations", focus.stations]].forEach(
        function (pair) {
          var el = document.getElementById(pair[0]);
          if (!el) { return; }
          if (!pair[1].length) { el.style.display = "none"; return; }
          charts.push(units(el, {name: focus.name, unit: focus.unit, overall: focus.overall,
                                 bars: pair[1]}, data));
        });
    }
    (data.choices || []).forEach(function (block) {
      var el = document.getElementById("chart-choice-" + block.code);
      if (el && block.bars.length) { charts.push(choice(el, block, data)); }
    });
    window.addEventListener("resize", function () {
      charts.forEach(function (chart) { chart.resize(); });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();

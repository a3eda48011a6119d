/* Wall display (大屏): GET /api/dashboard for ?node=CODE, redrawn every ?refresh= seconds
 * (default 60).  A failed refresh keeps the last picture and says so; the next one retries. */
(function () {
  "use strict";
  var $ = function (id) { return document.getElementById(id); };
  var params = NT.params();
  var seconds = Math.max(2, parseInt(params.refresh, 10) || 60);
  var timezone = null;
  var refreshes = 0;
  var CARRIER_COLORS = {};

  function clock() {
    var options = { hour12: false, year: "numeric", month: "2-digit", day: "2-digit",
      hour: "2-digit", minute: "2-digit", second: "2-digit", weekday: "short" };
    if (timezone) options.timeZone = timezone;
    $("wall-clock").textContent = new Date().toLocaleString(NT.lang === "en" ? "en-GB" : "zh-CN", options);
  }

  function delta(label, cmp) {
    if (!cmp) return null;
    var value = cmp.change_pct;
    var cls = value > 0 ? "nt-up" : value < 0 ? "nt-down" : "";
    return NT.el("span", {}, [label + " ", NT.el("b", { class: cls, text: NT.pct(value) }), "  "]);
  }

  function kpi(label, value, unit, subs, digits) {
    return NT.el("div", { class: "wall-kpi" }, [
      NT.el("div", { class: "wall-kpi-label", text: label }),
      NT.el("div", { class: "wall-kpi-value" }, [NT.fmt(value, digits), NT.el("small", { text: unit })]),
      NT.el("div", { class: "wall-kpi-sub" }, subs.filter(Boolean))
    ]);
  }

  function kpis(data) {
    var k = data.kpis, box = $("wall-kpis");
    box.textContent = "";
    box.appendChild(kpi(NT.t("web.core.dash.kpi.today"), k.today.tce, "tce", [
      NT.el("span", { text: NT.t("web.core.dash.yesterday") + " " + NT.fmt(k.yesterday.tce) + " tce · " +
        NT.fmt(k.yesterday.electricity_kwh, 0) + " kWh" })]));
    box.appendChild(kpi(NT.t("web.core.dash.kpi.month"), k.month.tce, "tce",
      [delta(NT.t("web.core.dash.mom"), k.month.mom), delta(NT.t("web.core.dash.yoy"), k.month.yoy)], 0));
    box.appendChild(kpi(NT.t("web.core.dash.kpi.year"), k.year.tce, "tce",
      [delta(NT.t("web.core.dash.yoy"), k.year.yoy)], 0));
    var c = k.carbon && !k.carbon.error ? k.carbon : null;
    box.appendChild(kpi(NT.t("web.core.dash.kpi.carbon"), c ? c.total_tco2e : null, "tCO2e",
      [NT.el("span", { text: c ? (c.inventory ? c.inventory + " · " + c.period : NT.t("web.core.dash.park_inventory", { period: c.period }))
        : NT.t("web.core.dash.no_inventory") })], 0));
    var i = k.intensity && !k.intensity.error ? k.intensity : null;
    box.appendChild(kpi(NT.t("web.core.dash.kpi.intensity"), i ? i.tce_per_10k_cny_output : null,
      NT.t("web.core.dash.per_10k_cny"), [NT.el("span", { text: i ? i.period.label : "" })], 3));
  }

  function colorOf(carrier) {
    if (!CARRIER_COLORS[carrier]) {
      CARRIER_COLORS[carrier] = NT.colors[Object.keys(CARRIER_COLORS).length % NT.colors.length];
    }
    return CARRIER_COLORS[carrier];
  }

  function alpha(hex, a) {
    var n = parseInt(hex.slice(1), 16);
    return "rgba(" + (n >> 16) + "," + ((n >> 8) & 255) + "," + (n & 255) + "," + a + ")";
  }

  function sankey(data) {
    var s = data.sankey;
    if (!s || s.error || !s.links.length) {
      $("wall-sankey").textContent = (s && s.error) || NT.t("web.core.table.empty");
      return Promise.resolve();
    }
    $("wall-sankey-period").textContent = s.period.label + " · " + s.unit;
    var index = {};
    s.nodes.forEach(function (n, k) { index[n.id] = k; });
    var links = s.links.filter(function (l) { return l.value > 0 && index[l.source] !== undefined && index[l.target] !== undefined; });
    return NT.plot($("wall-sankey"), [{
      type: "sankey", arrangement: "snap", valueformat: ",.1f", valuesuffix: " " + s.unit,
      node: { label: s.nodes.map(NT.name), pad: 14, thickness: 18,
        color: s.nodes.map(function (n) { return n.kind === "loss" ? "#7f98a8" : n.carrier ? colorOf(n.carrier) : "#3ccf8e"; }),
        line: { width: 0 } },
      link: { source: links.map(function (l) { return index[l.source]; }),
        target: links.map(function (l) { return index[l.target]; }),
        value: links.map(function (l) { return l.value; }),
        color: links.map(function (l) { return alpha(colorOf(l.carrier || l.group || "x"), 0.45); }) }
    }], { margin: { l: 8, r: 8, t: 8, b: 8 }, font: { size: 14 } });
  }

  function trend(data) {
    var x = data.trend.map(function (m) { return m.period.label; });
    return NT.plot($("wall-trend"), [{
      type: "bar", x: x, y: data.trend.map(function (m) { return m.tce; }),
      marker: { color: data.trend.map(function (m) { return m.complete ? "#3ccf8e" : "rgba(60,207,142,0.45)"; }) },
      hovertemplate: "%{x}: %{y:,.0f} tce<extra></extra>"
    }], { xaxis: { type: "category", tickangle: -45 }, margin: { l: 56, r: 8, t: 8, b: 64 }, showlegend: false });
  }

  function load(data) {
    var pts = data.load.points || [];
    return NT.plot($("wall-load"), [{
      type: "scatter", mode: "lines", fill: "tozeroy", line: { color: "#4aa3ff", width: 3 },
      fillcolor: "rgba(74,163,255,0.25)",
      x: pts.map(function (p) { return p.start.slice(0, 16).replace("T", " "); }),
      y: pts.map(function (p) { return p.kw; }), hovertemplate: "%{x}: %{y:,.0f} kW<extra></extra>"
    }], { margin: { l: 64, r: 8, t: 8, b: 40 }, showlegend: false });
  }

  function top(data) {
    var t = data.top;
    if (!t || t.error || !t.items.length) { $("wall-top").textContent = (t && t.error) || ""; return Promise.resolve(); }
    var items = t.items.slice(0, 6).reverse();
    return NT.plot($("wall-top"), [{
      type: "bar", orientation: "h", y: items.map(function (c) { return NT.short(NT.name(c), 26); }),
      customdata: items.map(NT.name), x: items.map(function (c) { return c.tce; }),
      marker: { color: "#f0b54a" }, text: items.map(function (c) { return c.share_pct === null ? "" : NT.fmt(c.share_pct, 1) + " %"; }),
      textposition: "auto", hovertemplate: "%{customdata}: %{x:,.0f} tce<extra></extra>"
    }], { margin: { l: 8, r: 8, t: 8, b: 32 }, yaxis: { automargin: true }, showlegend: false });
  }

  var TONE = { benchmark: "ok", grade_1: "ok", grade_2: "ok", baseline: "warn", grade_3: "warn",
    below_baseline: "bad", below_grade_3: "bad" };

  function bench(data) {
    var b = data.benchmarks, box = $("wall-bench");
    box.textContent = "";
    if (!b || b.error || !b.lines.length) {
      box.appendChild(NT.el("div", { class: "wall-row", text: (b && b.error) || NT.t("web.core.dash.no_benchmarks") }));
      return;
    }
    $("wall-bench-period").textContent = b.period.label;
    b.lines.slice(0, 5).forEach(function (r) {
      box.appendChild(NT.el("div", { class: "wall-row" }, [
        NT.el("span", { class: "wall-name", text: NT.name(r) + " · " + (r.product_name_zh ? NT.name({ name_zh: r.product_name_zh, name_en: r.product_name_en }) : r.product) }),
        NT.el("span", { class: "wall-value", text: NT.fmt(r.actual) + " " + (r.unit || "") }),
        NT.el("span", { class: "wall-pos " + (TONE[r.position] || ""),
          text: ((NT.lang === "en" ? r.position_en : r.position_zh) || r.position || "") +
            (r.gap_to_best_pct !== null && r.gap_to_best_pct !== undefined ? " · " + NT.t("web.core.dash.gap_to_best") + " " + NT.fmt(r.gap_to_best_pct, 1) + " %" : "") })
      ]));
    });
  }

  function ticker(data) {
    var box = $("wall-alerts");
    box.textContent = "";
    var items = data.alerts.items;
    if (!items.length) { box.appendChild(NT.el("span", { text: NT.t("web.core.dash.no_alerts") })); return; }
    items.forEach(function (a) {
      box.appendChild(NT.el("span", { class: a.severity, text: "● " + a.message + (a.start ? " (" + NT.fmtTime(a.start) + ")" : "") }));
    });
    box.style.setProperty("--wall-ticker-s", Math.max(30, items.length * 8) + "s");
  }

  function render(data) {
    timezone = data.timezone;
    $("wall-node").textContent = NT.name(data);
    document.title = NT.name(data) + " · " + NT.t("web.core.wall.title");
    kpis(data);
    bench(data);
    ticker(data);
    return Promise.all([sankey(data), trend(data), load(data), top(data)]).then(function () {
      $("wall-updated").textContent = NT.fmtTime(data.now, true);
      $("wall-error").hidden = true;
      refreshes += 1;
      document.body.dataset.refreshes = String(refreshes);
    });
  }

  function refresh() {
    return NT.api("/api/dashboard", { query: { node: params.node, lang: NT.lang } })
      .then(render)
      .catch(function (err) { NT.error($("wall-error"), NT.t("web.core.wall.refresh_failed") + " " + err.message); });
  }

  clock();
  setInterval(clock, 1000);
  /* the next refresh is planned when one ends, so that slow answers never pile up */
  function cycle() {
    return refresh().then(function () { setTimeout(cycle, seconds * 1000); });
  }
  refresh().then(function () {
    NT.ready();
    setTimeout(cycle, seconds * 1000);
  });
})();

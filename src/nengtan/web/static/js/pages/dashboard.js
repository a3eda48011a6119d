/* Overview dashboard: one call of GET /api/dashboard for the chosen park or enterprise,
 * drawn as KPI cards, charts and lists.  Display only: every figure is the API's. */
(function () {
  "use strict";
  var $ = function (id) { return document.getElementById(id); };
  var select = $("dash-node");
  var errorBox = $("dash-error");
  /* Badge colour per benchmark position (bm.position.* of the benchmarking service). */
  var POSITION_TONE = {
    benchmark: "nt-badge-ok", grade_1: "nt-badge-ok", grade_2: "nt-badge-ok",
    baseline: "nt-badge-warn", grade_3: "nt-badge-warn",
    below_baseline: "nt-badge-bad", below_grade_3: "nt-badge-bad"
  };

  /* A change (comparison) as "+3.2 %", coloured: more energy is red, less is green. */
  function change(label, cmp) {
    var text, cls = "";
    if (!cmp) return null;
    if (cmp.change_pct === null || cmp.change_pct === undefined) {
      text = "—";
    } else {
      text = NT.pct(cmp.change_pct);
      cls = cmp.change_pct > 0 ? "nt-up" : cmp.change_pct < 0 ? "nt-down" : "";
    }
    var reason = cmp.reason_text ? (cmp.reason_text[NT.lang] || cmp.reason_text["zh-CN"]) : null;
    return NT.el("span", { title: reason || NT.t("web.core.dash.compared_with", { period: cmp.period.label }) },
      [label + " ", NT.el("b", { class: cls, text: text })]);
  }

  function card(id, label, value, unit, subs, digits) {
    return NT.el("div", { class: "nt-card", dataset: { kpi: id } }, [
      NT.el("div", { class: "nt-kpi-label", text: label }),
      NT.el("div", { class: "nt-kpi-value" }, [NT.fmt(value, digits), NT.el("small", { text: unit || "" })]),
      NT.el("div", { class: "nt-kpi-sub" }, subs.filter(Boolean))
    ]);
  }

  function text(t) { return NT.el("span", { text: t }); }

  /* Why a comparison has no change (incomplete data ...), once per card. */
  function reasons() {
    var seen = [];
    Array.prototype.forEach.call(arguments, function (cmp) {
      if (cmp && cmp.change_pct === null && cmp.reason_text) {
        var r = cmp.reason_text[NT.lang] || cmp.reason_text["zh-CN"];
        if (seen.indexOf(r) < 0) seen.push(r);
      }
    });
    return seen.length ? NT.el("span", { class: "nt-reason", text: NT.t("web.core.dash.reason", { reason: seen.join("; ") }) }) : null;
  }

  function kpis(data) {
    var k = data.kpis;
    var el = $("dash-kpis");
    el.textContent = "";
    var today = k.today, month = k.month, year = k.year;
    el.appendChild(card("today", NT.t("web.core.dash.kpi.today"), today.tce, "tce", [
      today.electricity_kwh !== null ? text(NT.t("web.core.dash.electricity") + " " + NT.fmt(today.electricity_kwh, 0) + " kWh") : null,
      text(NT.t("web.core.dash.yesterday") + " " + NT.fmt(k.yesterday.tce) + " tce")
    ]));
    el.appendChild(card("month", NT.t("web.core.dash.kpi.month"), month.tce, "tce", [
      change(NT.t("web.core.dash.mom"), month.mom), change(NT.t("web.core.dash.yoy"), month.yoy),
      reasons(month.mom, month.yoy),
      month.electricity_kwh !== null ? text(NT.t("web.core.dash.electricity") + " " + NT.fmt(month.electricity_kwh, 0) + " kWh") : null
    ]));
    el.appendChild(card("year", NT.t("web.core.dash.kpi.year"), year.tce, "tce", [
      change(NT.t("web.core.dash.yoy"), year.yoy), reasons(year.yoy),
      text(year.period.start + " – " + NT.t("web.core.dash.through", { day: data.periods.yesterday.start }))
    ]));
    var c = k.carbon;
    if (c && !c.error) {
      var origin = c.source === "park_inventory" ? NT.t("web.core.dash.park_inventory", { period: c.period })
        : c.inventory + " · " + c.period + " · " + NT.t("web.core.dash.status." + c.status);
      el.appendChild(card("carbon", NT.t("web.core.dash.kpi.carbon"), c.total_tco2e, "tCO2e", [text(origin)], 0));
    } else {
      el.appendChild(card("carbon", NT.t("web.core.dash.kpi.carbon"), null, "tCO2e",
        [text(NT.t("web.core.dash.no_inventory"))]));
    }
    var i = k.intensity;
    if (i && !i.error) {
      var single = (i.products || []).filter(function (p) { return p.kgce_per_unit !== null; });
      var subs = [text(i.period.label)];
      single.forEach(function (p) {
        subs.push(text(NT.name(p) + " " + NT.fmt(p.kgce_per_unit) + " " + p.intensity_unit));
      });
      el.appendChild(card("intensity", NT.t("web.core.dash.kpi.intensity"), i.tce_per_10k_cny_output,
        NT.t("web.core.dash.per_10k_cny"), subs, 3));
    }
    var a = data.alerts;
    el.appendChild(card("alerts", NT.t("web.core.dash.kpi.alerts"), a.items.length, "", [
      text(NT.t("web.core.dash.quality_open", { n: a.quality_open })),
      text(NT.t("web.core.dash.stale_meters", { n: a.stale_meters, total: a.boundary_meters }))
    ], 0));
  }

  function carrierNames(data) {
    var names = {};
    (data.carriers.items || []).forEach(function (c) { names[c.carrier] = NT.name(c); });
    return names;
  }

  function trend(data) {
    var names = carrierNames(data);
    var codes = [];
    data.trend.forEach(function (m) {
      m.carriers.forEach(function (c) { if (codes.indexOf(c.carrier) < 0) codes.push(c.carrier); });
    });
    var x = data.trend.map(function (m) { return m.period.label; });
    var traces = codes.map(function (code) {
      return {
        type: "bar", name: names[code] || code, x: x,
        y: data.trend.map(function (m) {
          var c = m.carriers.filter(function (c) { return c.carrier === code; })[0];
          return c ? c.tce : null;
        }),
        hovertemplate: "%{x}: %{y:,.1f} tce<extra>" + (names[code] || code) + "</extra>"
      };
    });
    var last = data.trend[data.trend.length - 1];
    var layout = { barmode: "relative", xaxis: { type: "category" }, yaxis: { title: { text: "tce" } } };
    if (last && !last.complete) {
      layout.annotations = [{ x: last.period.label, y: 1, yref: "paper", showarrow: false,
        text: NT.t("web.core.dash.running"), font: { size: 11 } }];
    }
    return NT.plot($("dash-trend"), traces, layout);
  }

  function carriers(data) {
    var items = (data.carriers.items || []).filter(function (c) { return c.tce > 0; });
    $("dash-carriers-period").textContent = data.carriers.period.label;
    return NT.plot($("dash-carriers"), [{
      type: "pie", hole: 0.5, sort: true, labels: items.map(NT.name),
      values: items.map(function (c) { return c.tce; }), textinfo: "percent",
      hovertemplate: "%{label}: %{value:,.1f} tce (%{percent})<extra></extra>"
    }], { margin: { l: 8, r: 8, t: 8, b: 8 }, legend: { orientation: "v", x: 1, y: 0.5 } });
  }

  function load(data) {
    var pts = data.load.points || [];
    $("dash-load-window").textContent = pts.length
      ? NT.t("web.core.dash.load_window", { start: NT.fmtTime(data.load.start), end: NT.fmtTime(data.load.end) })
      : NT.t("web.core.dash.no_load");
    return NT.plot($("dash-load"), [{
      type: "scatter", mode: "lines", fill: "tozeroy", name: "kW",
      x: pts.map(function (p) { return p.start.slice(0, 16).replace("T", " "); }),
      y: pts.map(function (p) { return p.kw; }),
      hovertemplate: "%{x}: %{y:,.0f} kW<extra></extra>"
    }], { yaxis: { title: { text: "kW" } }, showlegend: false });
  }

  function top(data) {
    var t = data.top;
    var el = $("dash-top");
    if (!t || t.error || !t.items.length) {
      NT.table(el, [], [], { empty: (t && t.error) || NT.t("web.core.table.empty") });
      return Promise.resolve();
    }
    $("dash-top-period").textContent = NT.name(t) + " · " + t.period.label;
    var items = t.items.slice().reverse();
    return NT.plot(el, [{
      type: "bar", orientation: "h", y: items.map(function (c) { return NT.short(NT.name(c), 26); }),
      customdata: items.map(NT.name), x: items.map(function (c) { return c.tce; }),
      text: items.map(function (c) { return c.share_pct === null ? "" : NT.fmt(c.share_pct, 1) + " %"; }),
      textposition: "auto", hovertemplate: "%{customdata}: %{x:,.1f} tce<extra></extra>"
    }], { margin: { l: 8, r: 16, t: 8, b: 36 }, xaxis: { title: { text: "tce" } }, showlegend: false });
  }

  function benchmarks(data) {
    var b = data.benchmarks;
    var el = $("dash-benchmarks");
    if (!b || b.error) { NT.table(el, [], [], { empty: (b && b.error) || undefined }); return; }
    $("dash-bench-period").textContent = b.period.label;
    var park = data.kind === "park";
    var cols = [];
    if (park) cols.push({ key: "enterprise", label: NT.t("web.core.dash.enterprise"), render: function (r) { return NT.name(r); } });
    cols.push({ key: "product", label: NT.t("web.core.dash.product"),
      render: function (r) { return r.product_name_zh ? NT.name({ name_zh: r.product_name_zh, name_en: r.product_name_en }) : r.product; } });
    cols.push({ key: "actual", label: NT.t("web.core.dash.actual"), align: "right",
      fmt: function (v, r) { return NT.fmt(v) + " " + (r.unit || ""); } });
    cols.push({ key: "position", label: NT.t("web.core.dash.position"),
      render: function (r) {
        var label = (NT.lang === "en" ? r.position_en : r.position_zh) || r.position || "—";
        var tone = POSITION_TONE[r.position] || "";
        return NT.el("span", { class: "nt-badge " + tone, text: label });
      } });
    cols.push({ key: "gap_to_best_pct", label: NT.t("web.core.dash.gap_to_best"), align: "right",
      fmt: function (v) { return v === null || v === undefined ? "—" : NT.fmt(v, 1) + " %"; } });
    NT.table(el, cols, b.lines, { empty: NT.t("web.core.dash.no_benchmarks") });
    if (park && b.by_intensity && b.by_intensity.length) {
      el.appendChild(NT.el("h3", { text: NT.t("web.core.dash.by_intensity") }));
      var box = NT.el("div");
      el.appendChild(box);
      NT.table(box, [
        { key: "rank", label: "#", align: "right", fmt: 0 },
        { key: "enterprise", label: NT.t("web.core.dash.enterprise"), render: function (r) { return NT.name(r); } },
        { key: "value", label: NT.t("web.core.dash.per_10k_cny"), fmt: 3 }
      ], b.by_intensity);
    }
  }

  function alerts(data) {
    var list = $("dash-alerts");
    list.textContent = "";
    $("dash-alerts-count").textContent = String(data.alerts.items.length);
    if (!data.alerts.items.length) {
      list.appendChild(NT.el("li", { class: "nt-muted", text: NT.t("web.core.dash.no_alerts") }));
      return;
    }
    var badge = { error: "nt-badge-bad", warning: "nt-badge-warn", info: "nt-badge" };
    data.alerts.items.forEach(function (a) {
      list.appendChild(NT.el("li", { dataset: { kind: a.kind } }, [
        NT.el("span", { class: "nt-badge " + (badge[a.severity] || ""), text: NT.t("web.core.severity." + a.severity) }),
        NT.el("span", { text: a.message }),
        a.start ? NT.el("span", { class: "nt-muted", text: NT.fmtTime(a.start) }) : null
      ]));
    });
  }

  function render(data) {
    $("dash-as-of").textContent = NT.fmtTime(data.now) + " (" + data.timezone + ")";
    kpis(data);
    benchmarks(data);
    alerts(data);
    return Promise.all([trend(data), carriers(data), load(data), top(data)]);
  }

  function show(code) {
    errorBox.hidden = true;
    NT.setParams({ node: code });
    $("dash-wall").href = NT.url("/wall", { node: code });
    // everything but the Sankey, which only the wall display draws
    return NT.api("/api/dashboard", { query: { node: code, lang: NT.lang,
      parts: "load,top,intensity,carbon,benchmarks,alerts" } }).then(render);
  }

  function fail(err) { NT.error(errorBox, err); }

  NT.nodeSelect(select, {
    kinds: ["park", "enterprise"], value: NT.params().node,
    onChange: function (code) { show(code).catch(fail); }
  }).then(function (code) { return show(code); })
    .catch(fail)
    .then(NT.ready);
})();

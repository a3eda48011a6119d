/* 能源成本与结构 Cost and structure: consumption by carrier and by child (GET
 * /api/energy/structure), cost by time-of-use band with demand charges (/api/energy/cost), and
 * the load profile of working days, weekends and holidays with base load and load factor
 * (/api/energy/load-profile). */
(function () {
  "use strict";
  var E = window.NTE;
  var $ = function (id) { return document.getElementById(id); };
  var params = NT.params();
  var state = { node: params.node || null, period: params.period || E.lastMonth() };
  var carriers = {};
  var errorBox = $("ne-error");
  var BAND_COLORS = { sharp: "#b8433f", peak: "#d98e04", flat: "#2f6db5", valley: "#1f7a52", deep_valley: "#155a3c" };
  var DAY_COLORS = { working: "#2f6db5", weekend: "#d98e04", holiday: "#b8433f" };

  function tenk(v) { return v === null || v === undefined ? null : v / 1e4; }
  function pct(v, digits) { return v === null || v === undefined ? "—" : NT.fmt(v, digits === undefined ? 2 : digits) + " %"; }
  function bandText(b) { return NT.t("web.energy.band." + b); }

  /* ---- structure ---------------------------------------------------------------------- */
  function renderStructure(st) {
    var rows = st.carriers || [];
    NT.table($("ne-structure"), [
      { key: "carrier", label: NT.t("web.energy.carrier"), render: function (c) { return E.carrierName(c.carrier, carriers, c); } },
      { key: "quantity", label: NT.t("web.energy.quantity"), fmt: 2 },
      { key: "unit", label: NT.t("web.energy.unit") },
      { key: "tce", label: NT.t("web.energy.tce_equivalent") + " (tce)", fmt: 3 },
      { key: "share_pct", label: NT.t("web.energy.share"), align: "right", fmt: function (v) { return pct(v); } },
      { key: "tce_equal_value", label: NT.t("web.energy.tce_equal_value") + " (tce)", fmt: 3 },
      { key: "share_equal_value_pct", label: NT.t("web.energy.analysis.share_equal_value"), align: "right", fmt: function (v) { return pct(v); } }
    ], rows, { empty: NT.t("web.energy.no_data") });
    var kids = st.children || [];
    var childBox = $("ne-children");
    childBox.textContent = "";
    if (kids.length) {
      childBox.appendChild(NT.el("h3", { class: "ne-sub", text: NT.t("web.energy.analysis.children") }));
      var box = NT.el("div");
      childBox.appendChild(box);
      var table = NT.table(box, [
        { key: "node", label: NT.t("web.energy.node"), render: function (c) { return E.label(c); } },
        { key: "total_tce", label: NT.t("web.energy.tce_equivalent") + " (tce)", fmt: 3 },
        { key: "share_of_node_pct", label: NT.t("web.energy.analysis.share_of_node"), align: "right", fmt: function (v) { return pct(v); } },
        { key: "share_of_children_pct", label: NT.t("web.energy.analysis.share_of_children"), align: "right", fmt: function (v) { return pct(v); } },
        { key: "total_tce_equal_value", label: NT.t("web.energy.tce_equal_value") + " (tce)", fmt: 3 },
        { key: "coverage", label: NT.t("web.energy.coverage"), align: "right", fmt: function (v) { return E.share(v); } }
      ], kids.concat([{ node: "", name_zh: NT.t("web.energy.analysis.unallocated"), name_en: NT.t("web.energy.analysis.unallocated"),
        total_tce: st.unallocated_tce, _rest: true }]));
      if (table) table.querySelector("tbody tr:last-child").classList.add("ne-row-remainder");
    }
    var pieRows = rows.filter(function (c) { return c.tce > 0; });
    var p1 = NT.plot($("ne-carrier-chart"), [{
      type: "pie", hole: 0.45, sort: false,
      labels: pieRows.map(function (c) { return E.carrierName(c.carrier, carriers, c); }),
      values: pieRows.map(function (c) { return c.tce; }),
      marker: { colors: pieRows.map(function (c, i) { return E.color(c.carrier, i); }) },
      texttemplate: "%{percent:.1%}", hovertemplate: "%{label}: %{value:,.3f} tce (%{percent:.2%})<extra></extra>"
    }], { legend: { orientation: "v", x: 1, y: 0.5 }, margin: { l: 10, r: 10, t: 10, b: 10 } });
    var kidRows = kids.filter(function (c) { return c.total_tce !== null; });
    var p2 = kidRows.length ? NT.plot($("ne-child-chart"), [{
      type: "bar", orientation: "h",
      y: kidRows.map(function (c) { return NT.name(c) || c.node; }).reverse(),
      x: kidRows.map(function (c) { return c.total_tce; }).reverse(),
      marker: { color: "#1f7a52" }, hovertemplate: "%{y}: %{x:,.3f} tce<extra></extra>"
    }], { margin: { l: 150 }, xaxis: { title: { text: "tce" } } }) : null;
    if (!kidRows.length) {
      $("ne-child-chart").textContent = "";
      $("ne-child-chart").appendChild(NT.el("p", { class: "nt-empty", text: NT.t("web.energy.analysis.no_children") }));
    }
    return Promise.all([p1, p2]);
  }

  /* ---- cost ---------------------------------------------------------------------------- */
  function renderCost(cost) {
    var tot = cost.totals || {};
    var el = cost.electricity || {};
    E.cards($("ne-cost-kpis"), [
      { key: "total_cny", label: NT.t("web.energy.analysis.total_cny"), value: tenk(tot.total_cny), digits: 2, unit: "10⁴ CNY" },
      { key: "energy_cny", label: NT.t("web.energy.analysis.energy_cny"), value: tenk(tot.energy_cny), digits: 2, unit: "10⁴ CNY" },
      { key: "basic_cny", label: NT.t("web.energy.analysis.basic_cny"), value: tenk(tot.basic_charge_cny), digits: 2, unit: "10⁴ CNY",
        note: tot.basic_charge_basis ? NT.t("web.energy.analysis.basis." + tot.basic_charge_basis) : null },
      { key: "export_credit", label: NT.t("web.energy.analysis.export_credit"), value: tenk(tot.export_credit_cny), digits: 2, unit: "10⁴ CNY" },
      { key: "kwh", label: NT.t("web.energy.analysis.electricity_kwh"), value: el.quantity_kwh === null || el.quantity_kwh === undefined
        ? null : el.quantity_kwh / 1000, digits: 1, unit: "MWh" },
      { key: "peak_share", label: NT.t("web.energy.analysis.peak_sharp_share"), text: pct(el.peak_sharp_share_pct, 1) },
      { key: "avg_price", label: NT.t("web.energy.analysis.average_price"), value: el.average_price_cny_per_kwh, digits: 4, unit: "CNY/kWh" },
      { key: "all_in_price", label: NT.t("web.energy.analysis.all_in_price"), value: el.all_in_price_cny_per_kwh, digits: 4, unit: "CNY/kWh" },
      { key: "demand", label: NT.t("web.energy.analysis.demand"), value: el.demand_kw, digits: 0, unit: "kW",
        note: el.demand_charge_cny !== null && el.demand_charge_cny !== undefined
          ? NT.t("web.energy.analysis.demand_charge", { cny: NT.fmt(el.demand_charge_cny, 0) }) : null }
    ]);
    if (tot.basis_note) $("ne-cost-kpis").appendChild(NT.el("p", { class: "ne-warn", text: E.msg(tot.basis_note) || String(tot.basis_note) }));
    var bands = el.bands || [];
    NT.table($("ne-bands"), [
      { key: "band", label: NT.t("web.energy.analysis.band"), fmt: bandText },
      { key: "quantity", label: "kWh", fmt: 0 },
      { key: "share_pct", label: NT.t("web.energy.share"), align: "right", fmt: function (v) { return pct(v); } },
      { key: "average_price_cny_per_kwh", label: NT.t("web.energy.analysis.price") + " (CNY/kWh)", fmt: 4 },
      { key: "cny", label: "CNY", fmt: 0 }
    ], bands, { empty: NT.t("web.energy.analysis.no_tou") });
    var cap = cost.capacity || {};
    E.facts($("ne-capacity"), [
      [NT.t("web.energy.analysis.capacity"), cap.computed
        ? E.qty(cap.contracted_kva, "kVA", 0) + " × " + E.qty(cap.rate, cap.rate_unit, 2) + " = " + E.qty(cap.charge_cny, "CNY", 0)
        : E.msg(cap.reason) || "—"]
    ]);
    var draw = bands.length ? NT.plot($("ne-band-chart"), [{
      type: "pie", hole: 0.45, sort: false,
      labels: bands.map(function (b) { return bandText(b.band); }),
      values: bands.map(function (b) { return b.quantity; }),
      marker: { colors: bands.map(function (b) { return BAND_COLORS[b.band] || "#6b7a86"; }) },
      texttemplate: "%{label}<br>%{percent:.1%}", hovertemplate: "%{label}: %{value:,.0f} kWh<extra></extra>"
    }], { showlegend: false, margin: { l: 10, r: 10, t: 10, b: 10 } }) : null;
    if (!bands.length) {
      $("ne-band-chart").textContent = "";
      $("ne-band-chart").appendChild(NT.el("p", { class: "nt-empty", text: NT.t("web.energy.analysis.no_tou") }));
    }
    NT.table($("ne-cost-meters"), [
      { key: "meter", label: NT.t("web.energy.meter"), render: function (m) {
        return NT.el("span", { title: NT.name(m), class: "ne-nowrap", text: m.meter });
      } },
      { key: "carrier", label: NT.t("web.energy.carrier"), render: function (m) {
        return E.carrierName(m.carrier, carriers) + " · " + NT.t("web.energy.role." + m.role);
      } },
      { key: "status", label: NT.t("web.energy.status"), render: function (m) { return E.badge(m.status, E.msg(m.reason)); } },
      { key: "tariff", label: NT.t("web.energy.analysis.tariff") },
      { key: "quantity", label: NT.t("web.energy.quantity"), align: "right", render: function (m) { return E.qty(m.quantity, m.unit, 0); } },
      { key: "energy_cny", label: NT.t("web.energy.analysis.energy_cny") + " (CNY)", fmt: 0 },
      { key: "peak_sharp_share_pct", label: NT.t("web.energy.analysis.peak_sharp_share"), align: "right", fmt: function (v) { return pct(v, 1); } },
      { key: "demand_kw", label: NT.t("web.energy.analysis.demand") + " (kW)", align: "right", render: function (m) {
        if (m.demand_kw === null || m.demand_kw === undefined) return "—";
        var at = m.demand && m.demand.start ? " @ " + m.demand.start.slice(0, 16).replace("T", " ") : "";
        return NT.fmt(m.demand_kw, 0) + at;
      } },
      { key: "demand_charge_cny", label: NT.t("web.energy.analysis.demand_charge_col") + " (CNY)", fmt: 0 },
      { key: "total_cny", label: NT.t("web.energy.analysis.total_cny") + " (CNY)", fmt: 0 },
      { key: "coverage", label: NT.t("web.energy.coverage"), align: "right", fmt: function (v) { return E.share(v); } },
      { key: "notes", label: NT.t("web.energy.notes"), fmt: function (v) { return (v || []).map(function (n) { return E.msg(n) || n.code || String(n); }).join("; ") || ""; } }
    ], cost.meters || [], { empty: NT.t("web.energy.analysis.no_meters") });
    var noPrice = cost.no_price || [];
    $("ne-no-price").textContent = "";
    if (noPrice.length) {
      $("ne-no-price").appendChild(NT.el("h3", { class: "ne-sub", text: NT.t("web.energy.analysis.no_price") }));
      $("ne-no-price").appendChild(NT.el("ul", { class: "ne-list" }, noPrice.map(function (n) {
        return NT.el("li", { text: E.carrierName(n.carrier, carriers) + " · " + n.meter + ": " + E.msg(n.reason) });
      })));
    }
    var months = cost.months || [];
    $("ne-cost-months").textContent = "";
    if (months.length > 1) {
      $("ne-cost-months").appendChild(NT.el("h3", { class: "ne-sub", text: NT.t("web.energy.analysis.months") }));
      var box = NT.el("div");
      $("ne-cost-months").appendChild(box);
      NT.table(box, [
        { key: "month", label: NT.t("web.energy.period.month") },
        { key: "electricity_kwh", label: "kWh", fmt: 0 },
        { key: "peak_sharp_share_pct", label: NT.t("web.energy.analysis.peak_sharp_share"), align: "right", fmt: function (v) { return pct(v, 1); } },
        { key: "energy_cny", label: NT.t("web.energy.analysis.energy_cny") + " (CNY)", fmt: 0 },
        { key: "basic_charge_cny", label: NT.t("web.energy.analysis.basic_cny") + " (CNY)", fmt: 0 },
        { key: "total_cny", label: NT.t("web.energy.analysis.total_cny") + " (CNY)", fmt: 0 }
      ], months);
    }
    return draw;
  }

  /* ---- load profile ------------------------------------------------------------------- */
  function renderLoad(lp) {
    var w = lp.waste || {};
    var peakAt = lp.peak_at ? lp.peak_at.date + " " + (lp.peak_at.hour < 10 ? "0" : "") + lp.peak_at.hour + ":00" : null;
    E.cards($("ne-load-kpis"), [
      { key: "base_load", label: NT.t("web.energy.analysis.base_load"), value: lp.base_load_kw, digits: 1, unit: "kW" },
      { key: "peak", label: NT.t("web.energy.analysis.peak"), value: lp.peak_kw, digits: 1, unit: "kW", note: peakAt },
      { key: "average", label: NT.t("web.energy.analysis.average"), value: lp.average_kw, digits: 1, unit: "kW" },
      { key: "load_factor", label: NT.t("web.energy.analysis.load_factor"), value: lp.load_factor, digits: 3 },
      { key: "night_share", label: NT.t("web.energy.analysis.night_share"), text: pct(lp.night_share_pct, 1) },
      { key: "idle_share", label: NT.t("web.energy.analysis.idle_share"), text: pct(lp.idle_share_pct, 1),
        note: lp.continuous_operation ? NT.t("web.energy.analysis.continuous") : null },
      { key: "waste", label: NT.t("web.energy.analysis.waste"), value: w.waste_kwh, digits: 0, unit: "kWh",
        note: w.waste_cny !== null && w.waste_cny !== undefined ? E.qty(w.waste_cny, "CNY", 0) : null }
    ]);
    var hours = [];
    for (var h = 0; h < 24; h++) hours.push((h < 10 ? "0" : "") + h + ":00");
    var profiles = lp.profiles || {};
    var traces = ["working", "weekend", "holiday"].filter(function (k) { return profiles[k] && profiles[k].days; }).map(function (k) {
      return { type: "scatter", mode: "lines+markers", x: hours, y: profiles[k].kw, line: { color: DAY_COLORS[k], shape: "spline" },
        name: NT.t("web.energy.analysis.day." + k) + " (" + NT.t("web.energy.analysis.days", { n: profiles[k].days }) + ")",
        hovertemplate: "%{x}: %{y:,.1f} kW<extra></extra>" };
    });
    if (lp.base_load_kw !== null && lp.base_load_kw !== undefined) {
      traces.push({ type: "scatter", mode: "lines", x: hours, y: hours.map(function () { return lp.base_load_kw; }),
        name: NT.t("web.energy.analysis.base_load"), line: { color: "#6b7a86", dash: "dot" }, hoverinfo: "skip" });
    }
    $("ne-load-hint").textContent = NT.t("web.energy.analysis.load_hint", {
      measured: lp.measured_hours, hours: lp.hours, coverage: E.share(lp.coverage) });
    var lin = lp.lineage || {};
    E.facts($("ne-load-facts"), [
      [NT.t("web.energy.analysis.idle_hours"), (lin.idle_hours || "") + (lp.idle_hours !== undefined ? " (" + lp.idle_hours + " h)" : "")],
      [NT.t("web.energy.analysis.base_load_rule"), lin.base_load],
      [NT.t("web.energy.analysis.waste_rule"), lin.waste],
      [NT.t("web.energy.analysis.reference"), E.qty(w.reference_kw, "kW", 1)],
      [NT.t("web.energy.analysis.holidays"), (lp.holidays || []).join(", ")]
    ]);
    return NT.plot($("ne-load-chart"), traces, { xaxis: { type: "category", nticks: 12 }, yaxis: { title: { text: "kW" } } });
  }

  function load() {
    E.loading();
    E.clearError(errorBox);
    NT.setParams(state);
    var q = { node: state.node, period: state.period };
    var parts = [
      NT.api("/api/energy/structure", { query: q }).then(renderStructure),
      NT.api("/api/energy/cost", { query: q }).then(renderCost),
      NT.api("/api/energy/load-profile", { query: q }).then(renderLoad)
    ];
    return Promise.all(parts).catch(function (err) { E.fail(errorBox, err); }).then(function () { NT.ready(); });
  }

  E.start(state, load, errorBox, { ready: function (res) { carriers = res[1]; } });
})();

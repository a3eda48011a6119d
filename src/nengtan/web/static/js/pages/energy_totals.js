/* 能耗总量与强度 Totals and intensity (GB/T 2589-2020): comprehensive energy consumption by
 * both methods (equivalent / equal value) with MoM and YoY (GET /api/energy/totals), each carrier
 * with its coefficient, source and status, and unit-product and per-10^4-CNY intensities
 * (GET /api/energy/intensity). */
(function () {
  "use strict";
  var E = window.NTE;
  var $ = function (id) { return document.getElementById(id); };
  var params = NT.params();
  var state = { node: params.node || null, period: params.period || E.lastMonth() };
  var carriers = {};
  var errorBox = $("ne-error");

  function methodText(m) {
    var key = "web.energy.method." + m;
    var text = NT.t(key);
    return text === key ? m : text;
  }

  function changeOf(cmp) {
    if (!cmp) return "—";
    if (!cmp.complete) {
      return NT.el("span", { class: "ne-reason", text: "— (" + NT.t("web.energy.reason.base_incomplete") + ")" });
    }
    return E.change({ change_pct: cmp.change_pct, period: cmp.period,
      reason: cmp.change_pct === null ? "base_zero" : null });
  }

  function renderKpis(tot, inten) {
    E.cards($("ne-kpis"), [
      { key: "total_tce", label: NT.t("web.energy.tce_equivalent"), value: tot.total_tce, unit: "tce" },
      { key: "total_tce_equal_value", label: NT.t("web.energy.tce_equal_value"), value: tot.total_tce_equal_value, unit: "tce" },
      { key: "control_total", label: NT.t("web.energy.control_total"), value: tot.control_total_tce, unit: "tce" },
      { key: "renewable", label: NT.t("web.energy.renewable"), value: tot.renewable_tce, unit: "tce" },
      { key: "feedstock", label: NT.t("web.energy.feedstock"), value: tot.feedstock_tce, unit: "tce" },
      { key: "export", label: NT.t("web.energy.export"), value: tot.export_tce, unit: "tce" },
      { key: "coverage", label: NT.t("web.energy.coverage"), text: E.share(tot.coverage),
        note: tot.complete ? NT.t("web.energy.complete") : NT.t("web.energy.incomplete") },
      { key: "mom", label: NT.t("web.energy.mom"), node: changeOf(tot.previous),
        note: tot.previous ? NT.t("web.energy.compared_with", { period: tot.previous.period.label }) : null },
      { key: "yoy", label: NT.t("web.energy.yoy"), node: changeOf(tot.year_before),
        note: tot.year_before ? NT.t("web.energy.compared_with", { period: tot.year_before.period.label }) : null },
      { key: "per_output", label: NT.t("web.energy.totals.per_output"), value: inten.tce_per_10k_cny_output,
        digits: 4, unit: "tce/10⁴ CNY" }
    ]);
  }

  function renderMethods(tot) {
    var rows = [{ label: NT.t("web.energy.totals.this_period"), period: tot.period, total_tce: tot.total_tce,
      total_tce_equal_value: tot.total_tce_equal_value, coverage: tot.coverage, complete: tot.complete }];
    if (tot.previous) rows.push(Object.assign({ label: NT.t("web.energy.totals.previous") }, tot.previous));
    if (tot.year_before) rows.push(Object.assign({ label: NT.t("web.energy.totals.year_before") }, tot.year_before));
    NT.table($("ne-methods"), [
      { key: "label", label: "" },
      { key: "period", label: NT.t("web.energy.period"), fmt: function (v) { return v.label; } },
      { key: "total_tce", label: NT.t("web.energy.tce_equivalent") + " (tce)", fmt: 3 },
      { key: "total_tce_equal_value", label: NT.t("web.energy.tce_equal_value") + " (tce)", fmt: 3 },
      { key: "coverage", label: NT.t("web.energy.coverage"), align: "right", fmt: function (v) { return E.share(v); } },
      { key: "change_tce", label: NT.t("web.energy.totals.change") + " (tce)", align: "right",
        fmt: function (v) { return v === undefined ? "" : NT.fmt(v, 3); } },
      { key: "change_pct", label: NT.t("web.energy.totals.change_pct"), align: "right",
        render: function (r) { return r.change_tce === undefined ? "" : changeOf(r); } }
    ], rows);
    return NT.plot($("ne-compare-chart"), [
      { type: "bar", name: NT.t("web.energy.tce_equivalent"), x: rows.slice().reverse().map(function (r) { return r.period.label; }),
        y: rows.slice().reverse().map(function (r) { return r.total_tce; }), marker: { color: "#1f7a52" } },
      { type: "bar", name: NT.t("web.energy.tce_equal_value"), x: rows.slice().reverse().map(function (r) { return r.period.label; }),
        y: rows.slice().reverse().map(function (r) { return r.total_tce_equal_value; }), marker: { color: "#2f6db5" } }
    ], { barmode: "group", xaxis: { type: "category" }, yaxis: { title: { text: "tce" } } });
  }

  function renderCarriers(tot) {
    NT.table($("ne-carriers"), [
      { key: "carrier", label: NT.t("web.energy.carrier"), render: function (c) { return E.carrierName(c.carrier, carriers, c); } },
      { key: "use", label: NT.t("web.energy.use"), render: function (c) {
        return NT.el("span", { class: "ne-nowrap", text: NT.t("web.energy.use." + c.use) + " · " + NT.t("web.energy.role." + c.role) });
      } },
      { key: "quantity", label: NT.t("web.energy.quantity"), fmt: 2 },
      { key: "unit", label: NT.t("web.energy.unit") },
      { key: "coefficient_kgce_per_unit", label: NT.t("web.energy.coefficient"), align: "right", render: function (c) {
        var co = c.coefficient || {};
        return E.qty(co.kgce_per_unit, "kgce/" + (co.unit || c.unit), 4);
      } },
      { key: "method", label: NT.t("web.energy.coefficient_method"), render: function (c) {
        return methodText((c.coefficient || {}).method || "");
      } },
      { key: "source", label: NT.t("web.energy.source"), render: function (c) {
        var co = c.coefficient || {};
        var parts = [co.source || "—"];
        if (co.evidence && co.evidence.length) parts.push(NT.t("web.energy.totals.evidence", { count: co.evidence.length }));
        var title = [co.note].concat(co.evidence || []).filter(Boolean).join("\n");
        return NT.el("span", { class: "ne-source", title: title || null, text: parts.join(" · ") });
      } },
      { key: "status", label: NT.t("web.energy.status"), render: function (c) { return E.badge((c.coefficient || {}).status); } },
      { key: "tce", label: NT.t("web.energy.tce_equivalent") + " (tce)", fmt: 3 },
      { key: "tce_equal_value", label: NT.t("web.energy.tce_equal_value") + " (tce)", fmt: 3 },
      { key: "coverage", label: NT.t("web.energy.coverage"), align: "right", fmt: function (v) { return E.share(v); } },
      { key: "meters", label: NT.t("web.energy.meters"), fmt: function (v) {
        return (v || []).map(function (m) { return m.meter; }).join(", ");
      } }
    ], tot.carriers || [], { empty: NT.t("web.energy.no_data") });
  }

  function renderIntensity(inten) {
    var products = inten.products || [];
    NT.table($("ne-products"), [
      { key: "product", label: NT.t("web.energy.product"), render: function (p) { return NT.name(p) + " (" + p.product + ")"; } },
      { key: "output", label: NT.t("web.energy.output"), align: "right", render: function (p) { return E.qty(p.output, p.unit, 1); } },
      { key: "kgce_per_unit", label: NT.t("web.energy.totals.unit_consumption"), align: "right", render: function (p) {
        if (!p.allocated) return NT.el("span", { class: "ne-reason", text: NT.t("web.energy.totals.not_allocated") });
        return E.qty(p.kgce_per_unit, p.intensity_unit, 2);
      } },
      { key: "kgce_per_unit_equal_value", label: NT.t("web.energy.totals.unit_consumption_equal"), align: "right",
        render: function (p) { return p.allocated ? E.qty(p.kgce_per_unit_equal_value, p.intensity_unit, 2) : "—"; } }
    ], products, { empty: NT.t("web.energy.totals.no_products") });
    var std = inten.standard_product;
    if (std) {
      $("ne-products").appendChild(NT.el("p", { class: "ne-hint", text: NT.t("web.energy.totals.standard_product", {
        output: E.qty(std.standard_output, std.unit, 1), value: E.qty(std.kgce_per_standard_unit, "kgce/" + std.unit, 2) }) }));
    }
    var econ = inten.economics || {};
    var box = $("ne-economics");
    var money = function (v) { return v === null || v === undefined ? "—" : NT.fmt(v / 1e4, 1); };
    NT.table(box, [
      { key: "label", label: "" },
      { key: "value", label: NT.t("web.energy.totals.value_10k") + " (10⁴ CNY)", align: "right", fmt: money },
      { key: "eq", label: NT.t("web.energy.tce_equivalent") + " (tce/10⁴ CNY)", fmt: 4 },
      { key: "ev", label: NT.t("web.energy.tce_equal_value") + " (tce/10⁴ CNY)", fmt: 4 }
    ], [
      { label: NT.t("web.energy.totals.output_value"), value: econ.output_value_cny,
        eq: inten.tce_per_10k_cny_output, ev: inten.tce_per_10k_cny_output_equal_value },
      { label: NT.t("web.energy.totals.added_value"), value: econ.added_value_cny,
        eq: inten.tce_per_10k_cny_added, ev: inten.tce_per_10k_cny_added_equal_value }
    ]);
    box.appendChild(NT.el("p", { class: "ne-hint", text: NT.t("web.energy.totals.price_basis") + ": " + (econ.price_basis || "—") }));
    if (econ.output_value_cny === null && econ.added_value_cny === null) {
      box.appendChild(NT.el("p", { class: "ne-hint", text: NT.t("web.energy.totals.no_economics") }));
    }
  }

  function renderRules(tot, inten) {
    var lin = tot.lineage || {};
    var ev = lin.equal_value || {};
    var box = $("ne-rules");
    E.facts(box, [
      [NT.t("web.energy.method"), lin.method],
      [NT.t("web.energy.totals.equivalent_coefficient"), E.qty(lin.electricity_equivalent_kgce_per_kwh, "kgce/kWh", 4)],
      [NT.t("web.energy.totals.equal_value_coefficient"), NT.el("span", {}, [
        E.qty(ev.kgce_per_kwh, "kgce/kWh", 4) + (ev.year ? " (" + ev.year + ") " : " "), E.badge(ev.status),
        ev.source ? " " + ev.source : "", ev.note ? " — " + ev.note : ""])],
      [NT.t("web.energy.totals.boundary"), lin.boundary]
    ].concat((lin.rules || []).map(function (r, i) { return [i === 0 ? NT.t("web.energy.totals.rules_list") : "", r]; }))
      .concat([[NT.t("web.energy.totals.intensity_formulas"), Object.keys((inten.lineage || {}).formulas || {}).map(function (k) {
        return inten.lineage.formulas[k];
      }).join("; ")]]));
  }

  function load() {
    E.loading();
    E.clearError(errorBox);
    NT.setParams(state);
    var q = { node: state.node, period: state.period };
    return Promise.all([NT.api("/api/energy/totals", { query: q }), NT.api("/api/energy/intensity", { query: q })])
      .then(function (res) {
        renderKpis(res[0], res[1]);
        renderCarriers(res[0]);
        renderIntensity(res[1]);
        renderRules(res[0], res[1]);
        return renderMethods(res[0]);
      })
      .catch(function (err) { E.fail(errorBox, err); })
      .then(function () { NT.ready(); });
  }

  E.start(state, load, errorBox, { ready: function (res) { carriers = res[1]; } });
})();

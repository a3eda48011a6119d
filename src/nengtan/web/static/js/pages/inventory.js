/* 碳盘查详情 / One carbon inventory: a stored version's results by source, facility, gas,
 * kind and scope (location- and market-based, tCO2e), monthly trend against the target,
 * intensity, versions and their diff, report downloads — and the drill-down: every figure
 * is a button that opens its lineage (GET /api/inventories/{id}/lineage?figure=...) down to
 * the meters, manual entries, fuel deliveries and evidence files.
 *
 * URL state: id (inventory), version (default: the latest), figure (the open drill-down).
 * Compute and lock are shown to users with carbon.write only. */
(function () {
  "use strict";
  var t = NT.t;
  var el = NT.el;
  function $(id) { return document.getElementById(id); }
  var state = { id: null, version: null, inventory: null, versions: [], result: null };
  var message = $("inv-message");

  // -- header: settings, status, downloads -----------------------------------------------------
  function renderInfo(inv, v) {
    $("inv-title").textContent = NC.name(inv) + " (" + inv.code + ")";
    document.title = NC.name(inv) + " · 能碳 nengtan";
    var status = $("inv-status");
    status.textContent = "";
    status.appendChild(v ? NC.invStatus(v.status) : NC.invStatus("new"));
    var res = v && v.result ? v.result.inventory : null;
    var target = inv.target_tco2e ? NC.tco2e(inv.target_tco2e) + " tCO2e / " + NC.label("web.carbon.target_period.", inv.target_period) +
      (inv.target_source ? " — " + inv.target_source : "") : null;
    // the proof of the result's ledger entry is served to park-wide users; the others find it
    // in the verification package
    var ledger = v && v.ledger && v.ledger.checkpoint ? el("span", {}, [
      t("web.carbon.inventory.checkpoint_text", { id: v.ledger.checkpoint.id, size: v.ledger.checkpoint.tree_size }), " · ",
      NC.rootScope() ? el("a", { href: NT.url("/carbon/ledger", { entry: v.ledger.result_entry_id }), text: t("web.carbon.inventory.ledger_entry", { id: v.ledger.result_entry_id }) })
        : el("a", { href: "/carbon/ledger", text: t("web.carbon.inventory.ledger_verify") })]) : null;
    var meta = NC.meta([
      [t("web.carbon.common.code"), inv.code],
      [t("web.carbon.common.enterprise"), (NT.lang === "en" ? (inv.enterprise_name_en || inv.enterprise_name_zh) : inv.enterprise_name_zh) + " (" + inv.enterprise + ")"],
      [t("web.carbon.common.period"), inv.period + " (" + inv.period_start + " – " + inv.period_end + ")"],
      [t("web.carbon.inventory.base_year"), inv.base_year],
      [t("web.carbon.common.methodology"), NC.label("web.carbon.methodology.", inv.methodology) + (res && res.methodology ? " — " + res.methodology.document : "")],
      [t("web.carbon.inventory.gwp_set"), inv.gwp_set],
      [t("web.carbon.common.region"), inv.region],
      [t("web.carbon.inventory.grid_basis"), NC.label("web.carbon.grid_basis.", inv.effective_grid_basis)],
      [t("web.carbon.inventory.boundary"), inv.operational_boundary],
      [t("web.carbon.inventory.target"), target],
      [t("web.carbon.inventory.computed"), v ? NT.fmtTime(v.computed_at) + (v.computed_by ? " · " + v.computed_by : "") : null],
      [t("web.carbon.inventory.locked"), v && v.locked_at ? NT.fmtTime(v.locked_at) + " · " + (v.locked_by || "") + (v.note ? " — " + v.note : "") : null],
      [t("web.carbon.inventory.digest"), v ? el("code", { class: "nt-mono", text: v.digest }) : null],
      [t("web.carbon.inventory.ledger"), ledger]
    ]);
    var old = $("inv-meta");
    meta.id = "inv-meta";
    meta.classList.add("nc-meta-wide");
    old.replaceWith(meta);

    var dl = $("inv-downloads");
    dl.textContent = "";
    if (!v) return;
    function report(format, lang) {
      return el("a", { class: "nt-btn nt-btn-small nc-report", download: "",
        href: NT.url("/api/carbon/reports/ghg", { inventory: inv.code, version: v.version, format: format, lang: lang }),
        text: t("web.carbon.inventory.report_" + format) + " · " + (lang === "en" ? "EN" : "中文") });
    }
    dl.appendChild(el("span", { class: "nt-muted", text: t("web.carbon.inventory.downloads") + " " }));
    dl.appendChild(report("pdf", "zh-CN"));
    dl.appendChild(report("pdf", "en"));
    dl.appendChild(report("xlsx", "zh-CN"));
    dl.appendChild(report("xlsx", "en"));
    dl.appendChild(el("a", { class: "nt-btn nt-btn-small nc-package", download: "",
      href: NT.url("/api/carbon/verification-package", { inventory: inv.code, version: v.version }),
      text: t("web.carbon.inventory.package") }));
  }

  function renderVersionSelect() {
    var sel = $("inv-version");
    sel.textContent = "";
    state.versions.slice().reverse().forEach(function (v) {
      sel.appendChild(el("option", { value: v.version, text: "v" + v.version + " · " + NC.label("web.carbon.status.", v.status) }));
    });
    if (state.version) sel.value = state.version;
  }

  // -- figures --------------------------------------------------------------------------------
  function kpis(totals) {
    var box = $("inv-kpis");
    box.textContent = "";
    [["total", "total_tco2e"], ["scope1", "scope1_tco2e"], ["scope2", "scope2_tco2e"],
     ["scope2_market", "scope2_market_tco2e"], ["total_market", "total_market_tco2e"]].forEach(function (k) {
      box.appendChild(el("div", { class: "nt-card" }, [
        el("div", { class: "nt-kpi-label", text: t("web.carbon.figure." + k[0]) + " · tCO2e" }),
        el("div", { class: "nt-kpi-value" }, [NC.figureButton(k[0], totals[k[1]])])
      ]));
    });
  }

  function sourcesTable(r) {
    var total = r.totals.total_tco2e;
    NT.table($("inv-sources"), [
      { key: "source", label: t("web.carbon.common.code"), render: function (s) { return el("span", { class: "nt-mono", text: s.source }); } },
      { key: "name", label: t("web.carbon.common.name"), render: NC.name },
      { key: "kind", label: t("web.carbon.inventory.kind"), render: function (s) { return NC.label("web.carbon.kind.", s.kind); } },
      { key: "scope", label: t("web.carbon.inventory.scope"), align: "center", render: function (s) { return String(s.scope); } },
      { key: "facility", label: t("web.carbon.inventory.facility"), render: function (s) { return s.facility || "—"; } },
      { key: "gas", label: t("web.carbon.common.gas") },
      { key: "quantity", label: t("web.carbon.inventory.activity"), align: "right",
        render: function (s) { return NC.num(s.quantity) + " " + s.quantity_unit; } },
      { key: "coverage", label: t("web.carbon.link.coverage"), align: "right",
        render: function (s) { return NT.fmt((s.coverage || 0) * 100, 1) + "\u00a0%"; } },
      { key: "tco2e", label: "tCO2e", align: "right", render: function (s) { return NC.figureButton("source:" + s.source, s.tco2e); } },
      { key: "tco2e_market", label: t("web.carbon.inventory.market"), align: "right",
        render: function (s) { return NC.tco2e(s.tco2e_market); } },
      { key: "share", label: t("web.carbon.inventory.share"), align: "right",
        render: function (s) {
          if (!total) return "—";
          var pct = s.tco2e / total * 100;
          return NT.fmt(pct, Math.abs(pct) < 1 ? 2 : 1) + "\u00a0%";
        } }
    ], r.sources, { empty: t("web.carbon.inventory.no_sources") });
  }

  function breakdowns(r) {
    NT.table($("inv-kinds"), [
      { key: "kind", label: t("web.carbon.inventory.kind"), render: function (k) { return NC.label("web.carbon.kind.", k.kind); } },
      { key: "tco2e", label: "tCO2e", align: "right", render: function (k) { return NC.figureButton("kind:" + k.kind, k.tco2e); } },
      { key: "tco2e_market", label: t("web.carbon.inventory.market"), fmt: 1 }
    ], r.by_kind);
    NT.table($("inv-facilities"), [
      { key: "facility", label: t("web.carbon.inventory.facility"), render: function (f) { return f.facility || t("web.carbon.inventory.no_facility"); } },
      { key: "tco2e", label: "tCO2e", align: "right", render: function (f) { return NC.figureButton("facility:" + (f.facility || "none"), f.tco2e); } },
      { key: "tco2e_market", label: t("web.carbon.inventory.market"), fmt: 1 }
    ], r.by_facility);
    NT.table($("inv-scopes"), [
      { key: "scope", label: t("web.carbon.inventory.scope"),
        render: function (s) { return t("web.carbon.common.scope_n", { n: s.scope }) + (s.basis ? " · " + NC.label("web.carbon.basis.", s.basis) : ""); } },
      { key: "tco2e", label: "tCO2e", align: "right",
        render: function (s) { return NC.figureButton(s.scope === 1 ? "scope1" : s.basis === "market" ? "scope2_market" : "scope2", s.tco2e); } }
    ], r.by_scope);
    NT.table($("inv-gases"), [
      { key: "gas", label: t("web.carbon.common.gas") },
      { key: "emission_t", label: t("web.carbon.inventory.gas_mass"), align: "right",
        render: function (g) { return g.emission_t === undefined ? "—" : NC.num(g.emission_t) + " t"; } },
      { key: "tco2e", label: "tCO2e", align: "right", render: function (g) { return NC.figureButton("gas:" + g.gas, g.tco2e); } }
    ], r.by_gas);
    var kinds = r.by_kind.filter(function (k) { return k.tco2e > 0; });
    var charts = [
      NT.plot($("inv-kind-chart"), [{ type: "pie", hole: 0.45, sort: false,
        labels: kinds.map(function (k) { return NC.label("web.carbon.kind.", k.kind); }),
        values: kinds.map(function (k) { return k.tco2e; }), textinfo: "percent",
        hovertemplate: "%{label}: %{value:,.1f} tCO2e<extra></extra>" }],
        { margin: { l: 16, r: 16, t: 16, b: 16 }, legend: { orientation: "v", y: 0.5 } }),
      NT.plot($("inv-facility-chart"), [{ type: "bar", orientation: "h",
        y: r.by_facility.map(function (f) { return f.facility || t("web.carbon.inventory.no_facility"); }),
        x: r.by_facility.map(function (f) { return f.tco2e; }),
        hovertemplate: "%{y}: %{x:,.1f} tCO2e<extra></extra>" }],
        { xaxis: { title: { text: "tCO2e" } }, margin: { l: 90 } })
    ];
    return Promise.all(charts);
  }

  function trend(r) {
    var months = r.trend || [];
    var alerts = r.alerts && r.alerts.items ? r.alerts.items : [];
    var x = months.map(function (m) { return m.month; });
    var traces = [
      { type: "bar", name: t("web.carbon.figure.scope1"), x: x, y: months.map(function (m) { return m.scope1_tco2e; }) },
      { type: "bar", name: t("web.carbon.figure.scope2"), x: x, y: months.map(function (m) { return m.scope2_tco2e; }) },
      { type: "scatter", mode: "lines+markers", name: t("web.carbon.inventory.cumulative"), x: x, yaxis: "y2",
        y: months.map(function (m) { return m.cumulative_tco2e; }) }
    ];
    if (alerts.length) {
      traces.push({ type: "scatter", mode: "lines", name: t("web.carbon.inventory.budget_to_date"), yaxis: "y2",
        line: { dash: "dash" }, x: alerts.map(function (a) { return a.month; }),
        y: alerts.map(function (a) { return a.budget_to_date_tco2e; }) });
    }
    NT.table($("inv-trend"), [
      { key: "month", label: t("web.carbon.inventory.month") },
      { key: "total_tco2e", label: t("web.carbon.figure.total"), align: "right",
        render: function (m) { return NC.figureButton("month:" + m.month, m.total_tco2e); } },
      { key: "scope1_tco2e", label: t("web.carbon.figure.scope1"), fmt: 1 },
      { key: "scope2_tco2e", label: t("web.carbon.figure.scope2"), fmt: 1 },
      { key: "scope2_market_tco2e", label: t("web.carbon.figure.scope2_market"), fmt: 1 },
      { key: "cumulative_tco2e", label: t("web.carbon.inventory.cumulative"), fmt: 1 }
    ], months);
    var chart = $("inv-trend-chart");
    chart.dataset.months = x.join(",");
    return NT.plot(chart, traces, {
      barmode: "relative", yaxis: { title: { text: t("web.carbon.inventory.month_axis") } },
      yaxis2: { title: { text: t("web.carbon.inventory.cumulative_axis") }, overlaying: "y", side: "right", rangemode: "tozero", showgrid: false },
      margin: { r: 64 }
    }).then(function () {
      // a click on a month's bar drills down into that month
      if (chart.on && !chart.dataset.bound) {
        chart.dataset.bound = "1";
        chart.on("plotly_click", function (ev) {
          if (ev && ev.points && ev.points.length) openLineage("month:" + ev.points[0].x);
        });
      }
    });
  }

  function alertsView(r) {
    var box = $("inv-alerts");
    box.textContent = "";
    var a = r.alerts;
    if (!a || !a.target) {
      box.appendChild(el("p", { class: "nt-empty", text: t("web.carbon.inventory.no_target") }));
      return;
    }
    var kind = a.status === "ok" ? "ok" : a.status === "above" ? "bad" : "warn";
    box.appendChild(el("p", {}, [NC.badge(NC.label("web.carbon.alert.", a.status), kind), " ",
      t("web.carbon.inventory.target_text", { value: NC.tco2e(a.target.tco2e), period: NC.label("web.carbon.target_period.", a.target.period) }),
      el("div", { class: "nt-muted", text: a.target.source || "" })]));
    var above = (a.items || []).filter(function (i) { return i.above; });
    var tb = el("div");
    NT.table(tb, [
      { key: "month", label: t("web.carbon.inventory.month") },
      { key: "cumulative_tco2e", label: t("web.carbon.inventory.cumulative"), fmt: 1 },
      { key: "budget_to_date_tco2e", label: t("web.carbon.inventory.budget_to_date"), fmt: 1 },
      { key: "excess_tco2e", label: t("web.carbon.inventory.excess"), fmt: 1 },
      { key: "excess_pct", label: "%", render: function (i) { return NT.pct(i.excess_pct); }, align: "right" }
    ], above, { empty: t("web.carbon.inventory.never_above") });
    box.appendChild(tb);
  }

  function intensityView(r) {
    var box = $("inv-intensity");
    box.textContent = "";
    var it = r.intensity;
    if (!it) { box.appendChild(el("p", { class: "nt-empty", text: t("web.core.table.empty") })); return; }
    var rows = (it.products || []).map(function (p) {
      return { what: NC.name(p) + " (" + p.product + ")", value: p.tco2e_per_unit, unit: p.unit,
        basis: NC.num(p.output) + " " + p.output_unit };
    });
    [["output_value", "web.carbon.inventory.per_output_value"], ["added_value", "web.carbon.inventory.per_added_value"]].forEach(function (k) {
      var o = it[k[0]];
      if (o) rows.push({ what: t(k[1]), value: o.tco2e_per_10k_cny, unit: o.unit, basis: NT.fmt(o.value_cny / 1e4, 1) + " " + t("web.carbon.inventory.ten_k_cny") });
    });
    NT.table(box, [
      { key: "what", label: t("web.carbon.inventory.intensity_of") },
      { key: "value", label: t("web.carbon.param.value"), align: "right", render: function (x) { return NC.num(x.value); } },
      { key: "unit", label: t("web.carbon.common.unit") },
      { key: "basis", label: t("web.carbon.inventory.denominator") }
    ], rows);
  }

  function extraView(r) {
    var box = $("inv-extra");
    box.textContent = "";
    var any = false;
    if (r.scope3 && r.scope3.categories && r.scope3.categories.length) {
      any = true;
      box.appendChild(el("h3", { text: t("web.carbon.inventory.scope3") }));
      var s3 = el("div");
      NT.table(s3, [
        { key: "category", label: t("web.carbon.inventory.category"), render: NC.plain("category") },
        { key: "tco2e", label: "tCO2e", align: "right", render: function (c) { return NC.figureButton("scope3:" + c.category, c.tco2e); } }
      ], r.scope3.categories);
      box.appendChild(s3);
    }
    if (r.alongside && r.alongside.length) {
      any = true;
      box.appendChild(el("h3", { text: t("web.carbon.inventory.alongside") }));
      var al = el("div");
      NT.table(al, [
        { key: "source", label: t("web.carbon.common.code") },
        { key: "name", label: t("web.carbon.common.name"), render: NC.name },
        { key: "method", label: t("web.carbon.lineage.method"), render: function (s) { return NC.label("web.carbon.method.", s.method); } },
        { key: "tco2e", label: "tCO2e", align: "right", render: function (s) { return NC.figureButton("alongside:" + s.source, s.tco2e); } }
      ], r.alongside);
      box.appendChild(al);
    }
    if (r.renewables) {
      any = true;
      var rn = r.renewables;
      box.appendChild(el("h3", { text: t("web.carbon.inventory.renewables") }));
      box.appendChild(NC.meta([
        [t("web.carbon.inventory.generated"), NC.num(rn.generated_mwh) + " MWh"],
        [t("web.carbon.inventory.exported"), NC.num(rn.exported_mwh) + " MWh"],
        [t("web.carbon.inventory.self_used"), NC.num(rn.self_used_mwh) + " MWh"],
        [t("web.carbon.inventory.avoided"), NC.tco2e(rn.avoided_tco2) + " " + rn.unit]
      ]));
      box.appendChild(el("p", { class: "nt-muted", text: t("web.carbon.inventory.renewables_note") }));
    }
    if (r.base_year_comparison) {
      any = true;
      var b = r.base_year_comparison;
      box.appendChild(el("h3", { text: t("web.carbon.inventory.base_year") }));
      box.appendChild(el("p", { text: b.base_tco2e === null || b.base_tco2e === undefined
        ? t("web.carbon.inventory.base_missing", { year: b.base_year })
        : t("web.carbon.inventory.base_text", { year: b.base_year, base: NC.tco2e(b.base_tco2e), change: NT.pct(b.change_pct) }) }));
    }
    $("inv-extra-panel").hidden = !any;
  }

  function factorsView(r) {
    NT.table($("inv-factors"), [
      { key: "factor_id", label: "ID", render: function (f) { return el("a", { href: NT.url("/carbon/factors", { id: f.factor_id }), class: "nc-factor-link", text: "#" + f.factor_id }); } },
      { key: "parameter", label: t("web.carbon.param.name"), render: function (f) { return NC.label("web.carbon.param.", f.parameter) + " · " + f.subject; } },
      { key: "value", label: t("web.carbon.param.value"), align: "right", render: function (f) { return NC.num(f.value); } },
      { key: "unit", label: t("web.carbon.common.unit") },
      { key: "status", label: t("web.carbon.common.status"), render: function (f) { return NC.valueStatus(f.status); } },
      { key: "document", label: t("web.carbon.factors.document"),
        render: function (f) { return (f.document || "") + (f.clause ? " · " + f.clause : ""); } },
      { key: "year", label: t("web.carbon.common.year"), render: NC.plain("year") },
      { key: "region", label: t("web.carbon.common.region") },
      { key: "used_by", label: t("web.carbon.inventory.used_by"), render: function (f) { return (f.used_by || []).join(", "); } }
    ], r.factor_values || []);
  }

  function warningsView(r) {
    var list = $("inv-warnings");
    list.textContent = "";
    (r.warnings || []).forEach(function (w) { list.appendChild(el("li", { text: NC.lang(w, "message") })); });
    $("inv-warnings-panel").hidden = !(r.warnings || []).length;
  }

  // -- versions and diff ---------------------------------------------------------------------------
  function versionsView() {
    NT.table($("inv-versions"), [
      { key: "version", label: t("web.carbon.inventory.version"),
        render: function (v) { return el("a", { href: NT.url("/carbon/inventory", { id: state.id, version: v.version }), text: "v" + v.version }); } },
      { key: "status", label: t("web.carbon.common.status"), render: function (v) { return NC.invStatus(v.status); } },
      { key: "total_tco2e", label: t("web.carbon.figure.total"), fmt: 1 },
      { key: "scope1_tco2e", label: t("web.carbon.figure.scope1"), fmt: 1 },
      { key: "scope2_tco2e", label: t("web.carbon.figure.scope2"), fmt: 1 },
      { key: "scope2_market_tco2e", label: t("web.carbon.figure.scope2_market"), fmt: 1 },
      { key: "computed", label: t("web.carbon.inventory.computed"), render: function (v) { return NT.fmtTime(v.computed_at) + (v.computed_by ? " · " + v.computed_by : ""); } },
      { key: "locked", label: t("web.carbon.inventory.locked"), render: function (v) { return v.locked_at ? NT.fmtTime(v.locked_at) + " · " + (v.locked_by || "") : "—"; } },
      { key: "digest", label: t("web.carbon.inventory.digest"), render: function (v) { return el("code", { class: "nt-mono", title: v.digest, text: v.digest.slice(0, 16) + "…" }); } }
    ], state.versions.slice().reverse());
    var from = $("diff-from"), to = $("diff-to");
    from.textContent = ""; to.textContent = "";
    state.versions.forEach(function (v) {
      from.appendChild(el("option", { value: v.version, text: "v" + v.version }));
      to.appendChild(el("option", { value: v.version, text: "v" + v.version }));
    });
    var n = state.versions.length;
    $("inv-diff-form").hidden = n < 2;
    if (n >= 2) {
      from.value = state.versions[n - 2].version;
      to.value = state.versions[n - 1].version;
    }
  }

  function whyText(w) {
    var p = function (x) { return x === null || x === undefined ? "—" : typeof x === "number" ? NC.num(x) : String(x); };
    switch (w.what) {
      case "source": return t("web.carbon.diff.source_" + w.change);
      case "definition": return t("web.carbon.diff.definition", { field: w.field, old: p(w.old), new: p(w.new) });
      case "activity": return t("web.carbon.diff.activity", { old: p(w.old), new: p(w.new), unit: w.unit || "" });
      case "activity_link":
        return w.change ? t("web.carbon.diff.link_" + w.change, { link: w.link, quantity: p(w.quantity) })
          : t("web.carbon.diff.link_changed", { link: w.link, old: p(w.old), new: p(w.new), unit: w.unit || "" });
      case "green_certificates": return t("web.carbon.diff.green", { old: p(w.old), new: p(w.new) });
      case "parameter":
        if (w.change) return t("web.carbon.diff.param_" + w.change, { parameter: NC.label("web.carbon.param.", w.parameter), value: p(w.value), unit: w.unit || "", source: w.source || "" });
        return t("web.carbon.diff.param_changed", { parameter: NC.label("web.carbon.param.", w.parameter),
          old: p(w.old.value) + " " + (w.old.unit || "") + " (#" + p(w.old.factor_id) + ", " + p(w.old.source) + ")",
          new: p(w.new.value) + " " + (w.new.unit || "") + " (#" + p(w.new.factor_id) + ", " + p(w.new.source) + ")" });
      case "gwp": return t("web.carbon.diff.gwp", { old: p(w.old.value) + " " + p(w.old.set), new: p(w.new.value) + " " + p(w.new.set) });
      case "methodology": return t("web.carbon.diff.methodology", { old: (w.old || {}).id + " " + (w.old || {}).version, new: (w.new || {}).id + " " + (w.new || {}).version });
      default: return JSON.stringify(w);
    }
  }

  function runDiff() {
    var box = $("inv-diff");
    box.textContent = "";
    return NT.api("/api/inventories/" + state.id + "/diff", { query: { from: $("diff-from").value, to: $("diff-to").value } })
      .then(function (d) {
        var totals = Object.keys(d.totals).map(function (k) { return Object.assign({ what: k }, d.totals[k]); });
        box.appendChild(el("h3", { text: t("web.carbon.diff.title", { from: d.from.version, to: d.to.version }) }));
        var tb = el("div");
        NT.table(tb, [
          { key: "what", label: "", render: function (x) { return t("web.carbon.figure." + x.what.replace(/_tco2e$/, "")); } },
          { key: "old", label: t("web.carbon.diff.old"), fmt: 1 },
          { key: "new", label: t("web.carbon.diff.new"), fmt: 1 },
          { key: "delta", label: t("web.carbon.diff.delta"), fmt: 1 },
          { key: "delta_pct", label: "%", align: "right", render: function (x) { return NT.pct(x.delta_pct, 2); } }
        ], totals);
        box.appendChild(tb);
        if (d.settings.length) {
          box.appendChild(el("ul", { class: "nt-list" }, d.settings.map(function (s) {
            return el("li", { text: t("web.carbon.diff.setting", { field: s.field, old: JSON.stringify(s.old), new: JSON.stringify(s.new) }) });
          })));
        }
        var sb = el("div", { id: "inv-diff-sources" });
        NT.table(sb, [
          { key: "source", label: t("web.carbon.inventory.source"), render: function (s) { return el("span", { class: "nt-mono", text: s.source }); } },
          { key: "status", label: t("web.carbon.common.status"),
            render: function (s) { return NC.badge(NC.label("web.carbon.diff.status_", s.status), s.status === "unchanged" ? "" : "warn"); } },
          { key: "old_tco2e", label: t("web.carbon.diff.old"), fmt: 1 },
          { key: "new_tco2e", label: t("web.carbon.diff.new"), fmt: 1 },
          { key: "delta_tco2e", label: t("web.carbon.diff.delta"), fmt: 1 },
          { key: "why", label: t("web.carbon.diff.why"),
            render: function (s) {
              if (!s.why.length) return "—";
              return el("ul", { class: "nc-why-list" }, s.why.map(function (w) { return el("li", { text: whyText(w) }); }));
            } }
        ], d.sources);
        box.appendChild(sb);
      })
      .catch(function (err) { NT.error(box, err); });
  }

  // -- drill-down ----------------------------------------------------------------------------------
  function openLineage(spec, quiet) {
    var panel = $("inv-lineage");
    var body = $("lin-body");
    panel.hidden = false;
    $("lin-figure").textContent = NC.figureLabel(spec);
    body.textContent = "";
    body.appendChild(el("p", { class: "nt-muted", text: t("web.carbon.common.loading") }));
    NT.setParams({ figure: spec });
    return NT.api("/api/inventories/" + state.id + "/lineage", { query: { figure: spec, version: state.version } })
      .then(function (data) {
        body.textContent = "";
        var tools = el("div", { class: "nt-actions nc-lineage-tools" }, [
          el("button", { type: "button", class: "nt-btn nt-btn-small", text: t("web.carbon.lineage.download"),
            onclick: function () { NC.downloadJson(data.inventory + "-v" + data.version + "-" + spec.replace(/[^A-Za-z0-9_-]+/g, "_") + ".json", data); } })]);
        body.appendChild(tools);
        body.appendChild(NC.lineageView(data));
        panel.dataset.loaded = spec;
        if (!quiet) panel.scrollIntoView({ behavior: "smooth", block: "start" });
      })
      .catch(function (err) { NT.error(body, err); });
  }

  function closeLineage() {
    $("inv-lineage").hidden = true;
    delete $("inv-lineage").dataset.loaded;
    NT.setParams({ figure: null });
  }

  // -- writes (carbon.write) -------------------------------------------------------------------------
  function setUpWrites() {
    if (!NT.can("carbon.write")) return;
    $("inv-write").hidden = false;
    $("inv-compute").addEventListener("click", function () {
      var b = $("inv-compute");
      b.disabled = true;
      NT.api("/api/inventories/" + state.id + "/compute", { method: "POST" })
        .then(function (v) {
          NT.notice(t("web.carbon.inventory.computed_notice", { version: v.version }));
          NT.setParams({ version: v.version, figure: null });
          return load();
        })
        .catch(function (err) { NT.error(message, err); })
        .then(function () { b.disabled = false; });
    });
    var dialog = $("lock-dialog");
    $("inv-lock").addEventListener("click", function () {
      $("lock-note").value = "";
      if (dialog.showModal) dialog.showModal();
    });
    dialog.addEventListener("close", function () {
      if (dialog.returnValue !== "lock") return;
      var b = $("inv-lock");
      b.disabled = true;
      var note = $("lock-note").value.trim();
      NT.api("/api/inventories/" + state.id + "/lock", { method: "POST", body: { note: note || null } })
        .then(function (v) {
          NT.notice(t("web.carbon.inventory.locked_notice", { version: v.version }));
          NT.setParams({ version: v.version, figure: null });
          return load();
        })
        .catch(function (err) { NT.error(message, err); })
        .then(function () { b.disabled = false; });
    });
  }

  // -- loading -----------------------------------------------------------------------------------------
  function showResult(v) {
    var r = v.result;
    state.result = r;
    kpis(r.totals);
    sourcesTable(r);
    alertsView(r);
    intensityView(r);
    extraView(r);
    factorsView(r);
    warningsView(r);
    versionsView();
    return Promise.all([breakdowns(r), trend(r)]);
  }

  function load() {
    var p = NT.params();
    state.id = p.id;
    message.textContent = "";
    return Promise.all([
      NT.api("/api/inventories/" + encodeURIComponent(state.id)),
      NT.api("/api/inventories/" + encodeURIComponent(state.id) + "/versions")
    ]).then(function (answers) {
      state.inventory = answers[0];
      state.versions = answers[1];
      var latest = state.versions.length ? state.versions[state.versions.length - 1].version : null;
      state.version = p.version ? Number(p.version) : latest;
      renderVersionSelect();
      $("inv-body").hidden = false;
      if (!state.version) {
        renderInfo(state.inventory, null);
        message.appendChild(el("div", { class: "nt-info", text: t("web.carbon.inventory.not_computed") }));
        ["inv-kpis", "inv-sources-panel"].forEach(function (id) { $(id).hidden = true; });
        return null;
      }
      return NT.api("/api/inventories/" + state.id + "/results", { query: { version: state.version } })
        .then(function (v) {
          renderInfo(state.inventory, v);
          return showResult(v);
        })
        .then(function () {
          var figure = NT.params().figure;
          if (figure) return openLineage(figure, true);
          return null;
        });
    });
  }

  function start() {
    var p = NT.params();
    if (!p.id || !/^\d+$/.test(p.id)) {
      message.appendChild(el("div", { class: "nt-info" }, [t("web.carbon.inventory.choose") + " ",
        el("a", { href: "/carbon/inventories", text: t("web.carbon.inventories.title") })]));
      return Promise.resolve();
    }
    document.addEventListener("click", function (e) {
      var b = e.target.closest ? e.target.closest(".nc-figure") : null;
      if (b && b.dataset.figure) { e.preventDefault(); openLineage(b.dataset.figure); }
    });
    $("lin-close").addEventListener("click", closeLineage);
    $("inv-version").addEventListener("change", function () {
      NT.setParams({ version: $("inv-version").value, figure: null });
      $("inv-lineage").hidden = true;
      load().catch(function (err) { NT.error(message, err); });
    });
    $("inv-diff-form").addEventListener("submit", function (e) { e.preventDefault(); runDiff(); });
    setUpWrites();
    return load().catch(function (err) {
      $("inv-body").hidden = true;
      if (err.status === 404 || err.status === 403) {
        message.appendChild(el("div", { class: "nt-info", id: "inv-unavailable", text: t("web.carbon.inventory.unavailable") }));
      } else {
        NT.error(message, err);
      }
    });
  }

  start().then(NT.ready, NT.ready);
})();

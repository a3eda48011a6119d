/* 园区碳核算 / Park carbon inventory: GET /api/carbon/park-inventory for a park, period and
 * GWP set — the park formula's terms (E = E_电和热 + E_企业 + E_公共设施与环境 + E_新基建 +
 * E_交通 − E_固碳 − E_碳汇 − E_CCUS, tCO2e) with their parts and lineage, the tenants'
 * inventory versions, the intra-park transfers and whether each is counted once, the
 * provincial-inventory view by sector, the entered park items and the factor values used.
 *
 * Only parks the user may see are offered (GET /api/nodes): a user without a park in their
 * scope (an enterprise manager, a verifier) gets a note instead of a refused request. */
(function () {
  "use strict";
  var t = NT.t;
  var el = NT.el;
  function $(id) { return document.getElementById(id); }
  var message = $("park-message");
  var parkSelect = $("park-select");
  var periodInput = $("park-period");
  var gwpSelect = $("park-gwp");

  function defaultPeriod() { return String(new Date().getFullYear() - 1); }

  function partLineage(p) {
    var lin = p.lineage || {};
    var bits = [];
    if (lin.meter) {
      bits.push(el("div", {}, [t("web.carbon.link.meter") + " ", el("span", { class: "nt-mono", text: lin.meter }),
        ": " + NC.num(lin.quantity) + " " + lin.unit + " · " + t("web.carbon.link.coverage") + " " + NT.fmt((lin.coverage || 0) * 100, 1) + "\u00a0%" +
        (lin.from || lin.to ? " · " + (lin.from || "?") + " → " + (lin.to || "?") : "")]));
    }
    if (lin.tenant) {
      var tn = lin.tenant;
      bits.push(el("div", {}, [
        tn.inventory_id ? el("a", { href: NT.url("/carbon/inventory", { id: tn.inventory_id, version: tn.version }),
          text: (tn.lineage && tn.lineage.inventory ? tn.lineage.inventory : "#" + tn.inventory_id) + " v" + tn.version }) : null,
        " " + NC.label("web.carbon.park.origin.", tn.origin)]));
      if (lin.sources) bits.push(el("div", { class: "nt-muted", text: lin.sources.map(function (s) { return s.source + " " + NC.tco2e(s.tco2e); }).join(" · ") }));
    }
    if (lin.item) {
      bits.push(el("div", {}, [lin.item.source || "", " ", NC.valueStatus(lin.item.status)]));
    }
    var src = lin.source && lin.source.lineage ? lin.source.lineage : null;
    var formula = src ? src.formula : lin.formula;
    if (formula) bits.push(el("div", { class: "nt-mono nc-small", text: formula }));
    if (src && src.parameters && src.parameters.length) {
      bits.push(el("details", {}, [el("summary", { text: t("web.carbon.lineage.parameters") }), NC.parameterTable(src.parameters)]));
    }
    return el("div", { class: "nc-part-lineage" }, bits);
  }

  function termsView(d) {
    $("park-formula").textContent = d.formula;
    var box = $("park-terms");
    box.textContent = "";
    d.terms.forEach(function (term) {
      var parts = el("div");
      NT.table(parts, [
        { key: "label", label: t("web.carbon.park.part"), render: function (p) { return NT.lang === "en" ? (p.label_en || p.label_zh || p.key) : (p.label_zh || p.key); } },
        { key: "tco2e", label: "tCO2e", fmt: 1 },
        { key: "sector", label: t("web.carbon.park.sector"), render: function (p) { return NC.label("web.carbon.sector.", p.sector); } },
        { key: "lineage", label: t("web.carbon.lineage.title"), render: partLineage }
      ], term.parts, { empty: t("web.carbon.park.no_parts") });
      box.appendChild(el("details", { class: "nc-term", dataset: { term: term.term } }, [
        el("summary", {}, [
          el("span", { class: "nc-term-symbol", text: (term.sign < 0 ? "− " : "+ ") + term.symbol }), " ",
          NC.label("web.carbon.term.", term.term), " ",
          el("span", { class: "nc-term-value", text: NC.tco2e(term.tco2e) + " tCO2e" }),
          el("span", { class: "nt-muted", text: " · " + t("web.carbon.park.parts_n", { n: term.parts.length }) })]),
        parts]));
    });
    // the tenants' term is usually orders of magnitude above the others: bars of each term's
    // size on a log axis keep every term readable; removals (subtracted) are green and signed
    var shown = d.terms.filter(function (term) { return term.tco2e > 0; });
    return NT.plot($("park-terms-chart"), [{ type: "bar", orientation: "h",
      y: shown.map(function (term) { return term.symbol; }),
      x: shown.map(function (term) { return term.tco2e; }),
      text: shown.map(function (term) { return (term.sign < 0 ? "−" : "+") + NC.tco2e(term.tco2e); }),
      textposition: "outside", cliponaxis: false,
      marker: { color: shown.map(function (term) { return term.sign < 0 ? "#1f7a52" : "#b8433f"; }) },
      hovertemplate: "%{y}: %{text} tCO2e<extra></extra>" }],
      { xaxis: { title: { text: "tCO2e" }, type: "log" }, yaxis: { autorange: "reversed" }, margin: { l: 150, r: 90 }, showlegend: false });
  }

  function tenantsView(d) {
    NT.table($("park-tenants"), [
      { key: "node", label: t("web.carbon.common.enterprise"), render: function (r) { return NC.name(r) + " (" + r.node + ")"; } },
      { key: "industry_code", label: t("web.carbon.park.industry"), render: function (r) { return (r.industry_section || "") + " " + (r.industry_code || ""); } },
      { key: "origin", label: t("web.carbon.park.origin_label"), render: function (r) { return NC.label("web.carbon.park.origin.", r.origin); } },
      { key: "inventory", label: t("web.carbon.park.inventory"),
        render: function (r) {
          return r.inventory_id ? el("a", { href: NT.url("/carbon/inventory", { id: r.inventory_id, version: r.version }), class: "nc-inv-link",
            text: ((r.lineage || {}).inventory || "#" + r.inventory_id) + " v" + r.version }) : "—";
        } },
      { key: "by_kind", label: t("web.carbon.inventory.by_kind"),
        render: function (r) { return Object.keys(r.by_kind || {}).map(function (k) { return NC.label("web.carbon.kind.", k) + " " + NC.tco2e(r.by_kind[k]); }).join(" · "); } },
      { key: "total_tco2e", label: t("web.carbon.figure.total"), fmt: 1 }
    ], d.tenants);
  }

  function transfersView(d) {
    function yes(v) { return NC.badge(t(v ? "web.carbon.common.yes" : "web.carbon.common.no"), v ? "ok" : "warn"); }
    NT.table($("park-transfers"), [
      { key: "meter", label: t("web.carbon.link.meter"), render: function (r) { return el("span", { class: "nt-mono", text: r.meter }); } },
      { key: "energy", label: t("web.carbon.park.energy"), render: function (r) { return NC.label("web.carbon.kind.", r.energy); } },
      { key: "supplier", label: t("web.carbon.park.supplier"), render: function (r) { return r.supplier === "park" ? t("web.carbon.park.perimeter") : r.supplier; } },
      { key: "receiver", label: t("web.carbon.park.receiver"), render: function (r) { return r.receiver === "park" ? t("web.carbon.park.perimeter") : r.receiver; } },
      { key: "quantity", label: t("web.carbon.lineage.quantity"), align: "right", render: function (r) { return NC.num(r.quantity) + " " + r.unit; } },
      { key: "receiver_counts", label: t("web.carbon.park.receiver_counts"), render: function (r) { return yes(r.receiver_counts); } },
      { key: "supplier_deducts", label: t("web.carbon.park.supplier_deducts"), render: function (r) { return yes(r.supplier_deducts); } },
      { key: "correction_sign", label: t("web.carbon.park.correction"),
        render: function (r) { return r.correction_sign ? NC.badge(t("web.carbon.park.corrected", { sign: r.correction_sign > 0 ? "+" : "−" }), "warn") : NC.badge(t("web.carbon.park.cancels"), "ok"); } }
    ], d.transfers, { empty: t("web.carbon.park.no_transfers") });
  }

  function sectorsView(d) {
    NT.table($("park-sectors"), [
      { key: "group", label: t("web.carbon.park.group"), render: function (s) { return NC.label("web.carbon.sector_group.", s.group); } },
      { key: "sector", label: t("web.carbon.park.sector"), render: function (s) { return NC.label("web.carbon.sector.", s.sector); } },
      { key: "tco2e", label: "tCO2e", fmt: 1 },
      { key: "parts", label: t("web.carbon.park.parts"), align: "right", render: function (s) { return String(s.parts.length); } }
    ], d.sectors.concat([{ group: "", sector: "", tco2e: d.total_tco2e, parts: [], total: true }]).map(function (s) {
      return s.total ? { group: t("web.carbon.park.total"), sector: "", tco2e: s.tco2e, parts: [] } : s;
    }));
    var shown = d.sectors.filter(function (s) { return s.tco2e !== 0; });
    return NT.plot($("park-sector-chart"), [{ type: "bar", orientation: "h",
      y: shown.map(function (s) { return NC.label("web.carbon.sector.", s.sector); }),
      x: shown.map(function (s) { return s.tco2e; }),
      marker: { color: shown.map(function (s) { return s.tco2e < 0 ? "#1f7a52" : "#2f6db5"; }) },
      hovertemplate: "%{y}: %{x:,.1f} tCO2e<extra></extra>" }],
      { xaxis: { title: { text: "tCO2e" } }, margin: { l: 120 }, showlegend: false });
  }

  function itemsView(d) {
    NT.table($("park-items"), [
      { key: "code", label: t("web.carbon.common.code"), render: function (i) { return el("span", { class: "nt-mono", text: i.code }); } },
      { key: "term", label: t("web.carbon.park.term"), render: function (i) { return NC.label("web.carbon.term.", i.term); } },
      { key: "name", label: t("web.carbon.common.name"), render: NC.name },
      { key: "period", label: t("web.carbon.common.period"), render: function (i) { return i.period_start + " – " + i.period_end; } },
      { key: "activity", label: t("web.carbon.inventory.activity"),
        render: function (i) { return i.tco2e !== null && i.tco2e !== undefined ? NC.tco2e(i.tco2e) + " tCO2e" : NC.num(i.quantity) + " " + (i.unit || "") + " · " + (i.carrier || "") + (i.gas ? " · " + i.gas : ""); } },
      { key: "share", label: t("web.carbon.link.share"), align: "right", render: function (i) { return NT.fmt((i.share || 0) * 100, 1) + "\u00a0%"; } },
      { key: "source", label: t("web.carbon.param.source") },
      { key: "status", label: t("web.carbon.common.status"), render: function (i) { return NC.valueStatus(i.status); } },
      { key: "version", label: t("web.carbon.inventory.version"), align: "right", render: NC.plain("version") },
      { key: "evidence_sha256", label: "SHA-256", render: function (i) { return i.evidence_sha256 ? el("code", { class: "nt-mono", text: i.evidence_sha256 }) : "—"; } }
    ], d.items, { empty: t("web.carbon.park.no_items") });
  }

  function factorsView(d) {
    NT.table($("park-factors"), [
      { key: "factor_id", label: "ID", render: function (f) { return el("a", { href: NT.url("/carbon/factors", { id: f.factor_id }), text: "#" + f.factor_id }); } },
      { key: "parameter", label: t("web.carbon.param.name"), render: function (f) { return NC.label("web.carbon.param.", f.parameter) + " · " + f.subject; } },
      { key: "value", label: t("web.carbon.param.value"), align: "right", render: function (f) { return NC.num(f.value); } },
      { key: "unit", label: t("web.carbon.common.unit") },
      { key: "status", label: t("web.carbon.common.status"), render: function (f) { return NC.valueStatus(f.status); } },
      { key: "document", label: t("web.carbon.factors.document") },
      { key: "year", label: t("web.carbon.common.year"), render: NC.plain("year") },
      { key: "region", label: t("web.carbon.common.region") }
    ], d.factors);
  }

  function downloads(park, period, gwp) {
    var box = $("park-downloads");
    box.textContent = "";
    [["pdf", "zh-CN"], ["pdf", "en"], ["xlsx", "zh-CN"], ["xlsx", "en"]].forEach(function (f) {
      box.appendChild(el("a", { class: "nt-btn nt-btn-small nc-report", download: "",
        href: NT.url("/api/carbon/reports/ghg/park", { park: park, period: period, format: f[0], lang: f[1], gwp: gwp }),
        text: t("web.carbon.inventory.report_" + f[0]) + " · " + (f[1] === "en" ? "EN" : "中文") }));
    });
  }

  function load() {
    var park = parkSelect.value;
    var period = periodInput.value.trim() || defaultPeriod();
    var gwp = gwpSelect.value;
    NT.setParams({ park: park, period: period, gwp: gwp === "AR5" ? null : gwp });
    message.textContent = "";
    return NT.api("/api/carbon/park-inventory", { query: { park: park, period: period, gwp: gwp } })
      .then(function (d) {
        $("park-body").hidden = false;
        downloads(park, period, gwp);
        var kp = $("park-kpis");
        kp.textContent = "";
        kp.appendChild(el("div", { class: "nt-card" }, [
          el("div", { class: "nt-kpi-label", text: t("web.carbon.park.total") + " · " + d.unit }),
          el("div", { class: "nt-kpi-value", id: "park-total", text: NC.tco2e(d.total_tco2e) }),
          el("div", { class: "nt-kpi-sub", text: NC.name(d.park) + " · " + d.period.start + " – " + d.period.end + " · " + d.gwp_set })]));
        var removed = d.terms.filter(function (term) { return term.sign < 0; }).reduce(function (a, term) { return a + term.tco2e; }, 0);
        kp.appendChild(el("div", { class: "nt-card" }, [
          el("div", { class: "nt-kpi-label", text: t("web.carbon.park.removals") + " · " + d.unit }),
          el("div", { class: "nt-kpi-value", text: NC.tco2e(removed) }),
          el("div", { class: "nt-kpi-sub", text: t("web.carbon.park.removals_sub") })]));
        kp.appendChild(el("div", { class: "nt-card" }, [
          el("div", { class: "nt-kpi-label", text: t("web.carbon.park.tenants") }),
          el("div", { class: "nt-kpi-value", text: String(d.tenants.length) }),
          el("div", { class: "nt-kpi-sub", text: t("web.carbon.park.transfers_n", { n: d.transfers.length }) })]));
        tenantsView(d);
        transfersView(d);
        itemsView(d);
        factorsView(d);
        var wl = $("park-warnings");
        wl.textContent = "";
        (d.warnings || []).forEach(function (w) { wl.appendChild(el("li", { text: t("web.carbon.park.warning." + w.rule, w) })); });
        $("park-warnings-panel").hidden = !(d.warnings || []).length;
        $("park-method").textContent = d.method + " · " + (d.lineage && d.lineage.rule ? d.lineage.rule : "");
        return Promise.all([termsView(d), sectorsView(d)]);
      })
      .catch(function (err) { $("park-body").hidden = true; NT.error(message, err); });
  }

  function start() {
    var p = NT.params();
    periodInput.value = p.period || defaultPeriod();
    if (p.gwp) gwpSelect.value = p.gwp;
    $("park-form").addEventListener("submit", function (e) { e.preventDefault(); load(); });
    return NT.nodes().then(function (nodes) {
      var parks = nodes.filter(function (n) { return n.kind === "park"; });
      if (!parks.length) {
        $("park-form").hidden = true;
        message.appendChild(el("div", { class: "nt-info", id: "park-unavailable", text: t("web.carbon.park.unavailable") }));
        return null;
      }
      return NT.nodeSelect(parkSelect, { kinds: ["park"], value: p.park, onChange: function () { load(); } }).then(load);
    }).catch(function (err) { NT.error(message, err); });
  }

  start().then(NT.ready, NT.ready);
})();

/* 能流分析 Energy flow: the Sankey of metered flows with explicit losses and imbalances
 * (GET /api/energy/sankey) and the energy balance table by GB/T 28751 stages with the
 * identities' residuals (GET /api/energy/balance; workbook /api/energy/balance.xlsx). */
(function () {
  "use strict";
  var E = window.NTE;
  var $ = function (id) { return document.getElementById(id); };
  var params = NT.params();
  var state = {
    node: params.node || null,
    period: params.period || E.lastMonth(),
    depth: /^[0-4]$/.test(params.depth || "") ? params.depth : "2"
  };
  var carriers = {};
  var nodesByCode = {};
  var errorBox = $("ne-error");
  var SPECIAL_COLORS = { loss: "#b8433f", imbalance: "#d98e04", renewable: "#d9b310", recovered: "#1c9aa6", exported: "#7a5fb0" };

  function nodeName(code) {
    var n = nodesByCode[code];
    return n ? NT.name(n) + " (" + code + ")" : code;
  }
  function amount(a) { return a ? E.qty(a.quantity, a.unit, 2) : "—"; }
  function amountTce(a) { return a && a.tce !== null && a.tce !== undefined ? NT.fmt(a.tce, 3) : "—"; }
  function notMeasured(v, digits) {
    return v === null || v === undefined ? NT.el("span", { class: "ne-reason", text: NT.t("web.energy.flow.not_measured") }) : NT.fmt(v, digits || 3);
  }
  function notesInto(el, notes) {
    el.textContent = "";
    (notes || []).forEach(function (n) {
      el.appendChild(NT.el("p", { class: n.severity === "warning" ? "ne-warn" : "ne-hint", text: E.msg(n) || n.key }));
    });
  }

  /* ---- Sankey --------------------------------------------------------------------------- */
  function nodeColor(n) {
    if (SPECIAL_COLORS[n.id]) return SPECIAL_COLORS[n.id];
    if (n.id.indexOf("purchased:") === 0) return E.color(n.id.slice(10));
    return n.depth === 0 ? "#155a3c" : "#1f7a52";
  }

  function renderSankey(s) {
    var index = {};
    (s.nodes || []).forEach(function (n, i) { index[n.id] = i; });
    var links = (s.links || []).filter(function (l) { return l.value !== null && l.value > 0 && index[l.source] !== undefined && index[l.target] !== undefined; });
    var unit = s.value_unit || "tce";
    var trace = {
      type: "sankey", orientation: "h", arrangement: "snap", valueformat: ",.3f", valuesuffix: " " + unit,
      node: {
        label: s.nodes.map(function (n) { return NT.name(n) || n.id; }),
        color: s.nodes.map(nodeColor),
        pad: 14, thickness: 16, line: { width: 0 },
        hovertemplate: "%{label}<br>%{value:,.3f} " + unit + "<extra></extra>"
      },
      link: {
        source: links.map(function (l) { return index[l.source]; }),
        target: links.map(function (l) { return index[l.target]; }),
        value: links.map(function (l) { return l.value; }),
        color: links.map(function (l, i) {
          if (l.kind === "loss" || l.kind === "conversion_loss") return E.alpha(SPECIAL_COLORS.loss, 0.35);
          if (l.kind === "imbalance") return E.alpha(SPECIAL_COLORS.imbalance, 0.45);
          return E.alpha(E.color(l.carrier, i), 0.4);
        }),
        customdata: links.map(function (l) {
          return [E.carrierName(l.carrier, carriers) + " · " + NT.t("web.energy.flow.kind." + l.kind),
            l.quantity === null ? "" : E.qty(l.quantity, l.unit, 2), (l.meters || []).join(", ")];
        }),
        hovertemplate: "%{source.label} → %{target.label}<br>%{customdata[0]}<br>%{value:,.3f} " + unit +
          "<br>%{customdata[1]}<br>%{customdata[2]}<extra></extra>"
      }
    };
    var height = Math.max(420, Math.min(900, 26 * s.nodes.length + 120));
    var notes = $("ne-sankey-notes");
    notesInto(notes, s.notes);
    if ((s.imbalances || []).length) {
      var box = NT.el("div");
      notes.appendChild(box);
      NT.table(box, [
        { key: "node", label: NT.t("web.energy.node"), fmt: nodeName },
        { key: "carrier", label: NT.t("web.energy.carrier"), fmt: function (v) { return E.carrierName(v, carriers); } },
        { key: "quantity", label: NT.t("web.energy.flow.imbalance"), align: "right", render: function (r) { return E.qty(r.quantity, r.unit, 2); } },
        { key: "tce", label: "tce", fmt: 3 },
        { key: "meters_in", label: NT.t("web.energy.flow.meters_in"), fmt: function (v) { return (v || []).join(", "); } },
        { key: "meters_out", label: NT.t("web.energy.flow.meters_out"), fmt: function (v) { return (v || []).join(", "); } }
      ], s.imbalances);
    }
    NT.table($("ne-links"), [
      { key: "source", label: NT.t("web.energy.flow.from"), fmt: function (v) { return NT.name((s.nodes || [])[index[v]]) || v; } },
      { key: "target", label: NT.t("web.energy.flow.to"), fmt: function (v) { return NT.name((s.nodes || [])[index[v]]) || v; } },
      { key: "carrier", label: NT.t("web.energy.carrier"), fmt: function (v) { return E.carrierName(v, carriers); } },
      { key: "kind", label: NT.t("web.energy.flow.kind"), fmt: function (v) { return NT.t("web.energy.flow.kind." + v); } },
      { key: "quantity", label: NT.t("web.energy.quantity"), align: "right", render: function (l) { return l.quantity === null ? "—" : E.qty(l.quantity, l.unit, 2); } },
      { key: "value_tce", label: "tce", fmt: 3 },
      { key: "meters", label: NT.t("web.energy.meters"), fmt: function (v) { return (v || []).join(", "); } }
    ], s.links || []);
    return E.plot($("ne-sankey"), [trace], { margin: { l: 10, r: 10, t: 10, b: 10 }, height: height });
  }

  /* ---- balance table -------------------------------------------------------------------- */
  function renderBalance(b) {
    var st = b.stages || {};
    var rows = [];
    ["purchase", "conversion", "distribution", "end_use"].forEach(function (key) {
      var s = st[key];
      if (!s) return;
      rows.push({ name: NT.name(s), supplied_tce: s.supplied_tce, effective_tce: s.effective_tce, losses_tce: s.losses_tce,
        utilisation: s.utilisation });
      if (key === "end_use") {
        var cats = s.categories || {};
        Object.keys(cats).forEach(function (c) {
          var cat = cats[c];
          rows.push({ name: NT.name(cat), supplied_tce: cat.supplied_tce, effective_tce: cat.effective_tce, losses_tce: cat.losses_tce,
            utilisation: cat.utilisation, _indent: true, not_assessed: (cat.not_assessed || []).length });
        });
      }
    });
    var ov = b.overall || {};
    rows.push({ name: NT.t("web.energy.flow.overall"), supplied_tce: ov.supplied_tce, effective_tce: ov.effective_tce,
      losses_tce: ov.losses_tce, utilisation: ov.utilisation, _total: true });
    var table = NT.table($("ne-stages"), [
      { key: "name", label: NT.t("web.energy.flow.stage") },
      { key: "supplied_tce", label: NT.t("web.energy.flow.supplied") + " (tce)", fmt: 3 },
      { key: "effective_tce", label: NT.t("web.energy.flow.effective") + " (tce)", align: "right", render: function (r) { return notMeasured(r.effective_tce); } },
      { key: "losses_tce", label: NT.t("web.energy.flow.losses") + " (tce)", align: "right", render: function (r) { return notMeasured(r.losses_tce); } },
      { key: "utilisation", label: NT.t("web.energy.flow.utilisation"), align: "right", fmt: function (v) { return E.share(v); } }
    ], rows);
    if (table) {
      var trs = table.querySelectorAll("tbody tr");
      rows.forEach(function (r, i) {
        if (r._indent) trs[i].classList.add("ne-indent");
        if (r._total) trs[i].classList.add("ne-total-row");
      });
      $("ne-stages").appendChild(NT.el("p", { class: "ne-hint", text: NT.t("web.energy.flow.overall_losses", {
        conversion: NT.fmt(ov.conversion_losses_tce, 3), distribution: NT.fmt(ov.distribution_losses_tce, 3) }) + " " + (ov.note || "") }));
    }
    var rec = b.reconciliation || {};
    $("ne-reconciliation").textContent = E.pick(rec.statement) +
      (rec.difference_tce !== undefined ? " " + NT.t("web.energy.flow.difference", { tce: NT.fmt(rec.difference_tce, 3) }) : "");
    notesInto($("ne-balance-notes"), b.notes);

    NT.table($("ne-purchase"), [
      { key: "carrier", label: NT.t("web.energy.carrier"), render: function (r) { return E.carrierName(r.carrier, carriers, r); } },
      { key: "purchased", label: NT.t("web.energy.flow.purchased"), align: "right", render: function (r) { return amount(r.purchased); } },
      { key: "purchased_tce", label: "tce", align: "right", render: function (r) { return amountTce(r.purchased); } },
      { key: "feedstock", label: NT.t("web.energy.feedstock"), align: "right", render: function (r) { return amount(r.feedstock); } },
      { key: "exported", label: NT.t("web.energy.export"), align: "right", render: function (r) { return amount(r.exported); } },
      { key: "supplied", label: NT.t("web.energy.flow.supplied") + " (tce)", align: "right", render: function (r) { return amountTce(r.supplied); } }
    ], (st.purchase || {}).rows || [], { empty: NT.t("web.energy.no_data") });

    function list(items) {
      return (items || []).map(function (a) {
        var name = a.carrier ? E.carrierName(a.carrier, carriers, a) : NT.t("web.energy.flow.primary." + a.kind);
        return name + " " + E.qty(a.quantity, a.unit, 1) + (a.tce !== null && a.tce !== undefined ? " = " + NT.fmt(a.tce, 3) + " tce" : "");
      }).join("; ");
    }
    NT.table($("ne-conversion"), [
      { key: "node", label: NT.t("web.energy.flow.unit"), render: function (u) { return E.label(u); } },
      { key: "inputs", label: NT.t("web.energy.flow.inputs"), render: function (u) { return list((u.inputs || []).concat(u.primary || [])) || "—"; } },
      { key: "outputs", label: NT.t("web.energy.flow.outputs"), render: function (u) { return list(u.outputs) || "—"; } },
      { key: "losses_tce", label: NT.t("web.energy.flow.losses") + " (tce)", fmt: 3 },
      { key: "utilisation", label: NT.t("web.energy.flow.utilisation"), align: "right", fmt: function (v) { return E.share(v); } }
    ], (st.conversion || {}).units || [], { empty: NT.t("web.energy.flow.no_conversion") });

    NT.table($("ne-distribution"), [
      { key: "node", label: NT.t("web.energy.node"), fmt: nodeName },
      { key: "carrier", label: NT.t("web.energy.carrier"), render: function (p) { return E.carrierName(p.carrier, carriers, p); } },
      { key: "supplied", label: NT.t("web.energy.flow.supplied"), align: "right", render: function (p) { return amount(p.supplied); } },
      { key: "effective", label: NT.t("web.energy.flow.delivered"), align: "right", render: function (p) { return amount(p.effective); } },
      { key: "losses", label: NT.t("web.energy.flow.loss_unmetered"), align: "right", render: function (p) { return amount(p.losses); } },
      { key: "losses_tce", label: NT.t("web.energy.flow.losses") + " (tce)", align: "right", render: function (p) { return amountTce(p.losses); } },
      { key: "utilisation", label: NT.t("web.energy.flow.utilisation"), align: "right", fmt: function (v) { return E.share(v); } },
      { key: "imbalance", label: NT.t("web.energy.flow.imbalance"), render: function (p) {
        return p.imbalance ? E.okBadge(false, null, "web.energy.flow.imbalance") : "";
      } },
      { key: "stage_rule", label: NT.t("web.energy.flow.rule"), render: function (p) {
        var r = p.stage_rule || {};
        return NT.lang === "en" ? r.detail || "" : r.detail_zh || r.detail || "";
      } }
    ], (st.distribution || {}).points || [], { empty: NT.t("web.energy.flow.no_distribution") });

    var eu = st.end_use || {};
    var cats = eu.categories || {};
    NT.table($("ne-end-use"), [
      { key: "node", label: NT.t("web.energy.flow.unit"), render: function (u) { return E.label(u); } },
      { key: "category", label: NT.t("web.energy.flow.category"), fmt: function (v) { return cats[v] ? NT.name(cats[v]) : v; } },
      { key: "rows", label: NT.t("web.energy.flow.supplied"), render: function (u) {
        return (u.rows || []).map(function (r) { return E.carrierName(r.carrier, carriers, r) + " " + amount(r.supplied); }).join("; ") || "—";
      } },
      { key: "supplied_tce", label: NT.t("web.energy.flow.supplied") + " (tce)", fmt: 3 },
      { key: "effective_tce", label: NT.t("web.energy.flow.effective") + " (tce)", align: "right", render: function (u) { return notMeasured(u.effective_tce); } },
      { key: "efficiency", label: NT.t("web.energy.flow.efficiency"), align: "right", render: function (u) {
        var eff = u.efficiency;
        if (eff === null || eff === undefined) return "—";
        var v = typeof eff === "object" ? eff.value : eff;
        return E.share(v) + (eff.source ? " (" + eff.source + ")" : "");
      } },
      { key: "internal_meters", label: NT.t("web.energy.flow.internal_meters"), align: "right", fmt: function (v) { return String((v || []).length); } }
    ], eu.units || [], { empty: NT.t("web.energy.flow.no_end_use") });
  }

  function renderChecks(b, s) {
    var rows = (b.checks || []).map(function (c) { return Object.assign({ source: NT.t("web.energy.flow.balance") }, c); })
      .concat((s.checks || []).map(function (c) { return Object.assign({ source: NT.t("web.energy.flow.sankey") }, c); }));
    NT.table($("ne-checks"), [
      { key: "source", label: NT.t("web.energy.flow.view") },
      { key: "identity", label: NT.t("web.energy.flow.identity") },
      { key: "scope", label: NT.t("web.energy.flow.scope"), fmt: function (v, c) { return nodesByCode[v] ? nodeName(v) : v + (c.measure && c.measure !== "tce" ? " · " + c.measure : ""); } },
      { key: "lhs", label: NT.t("web.energy.flow.lhs"), fmt: 3 },
      { key: "rhs", label: NT.t("web.energy.flow.rhs"), fmt: 3 },
      { key: "residual", label: NT.t("web.energy.flow.residual"), align: "right",
        fmt: function (v) { return v === null || v === undefined ? "—" : Math.abs(v) < 5e-7 ? "0" : Number(v).toExponential(3); } },
      { key: "ok", label: NT.t("web.energy.flow.holds"), render: function (c) { return E.okBadge(c.ok); } }
    ], rows, { empty: NT.t("web.energy.no_data") });
  }

  function renderDownloads() {
    var el = $("ne-downloads");
    el.textContent = "";
    [["zh-CN", "中文"], ["en", "English"]].forEach(function (l) {
      el.appendChild(E.fileLink(NT.url("/api/energy/balance.xlsx", { node: state.node, period: state.period, lang: l[0] }),
        "balance.xlsx · " + l[1], { dataset: { lang: l[0] } }));
    });
  }

  function load() {
    E.loading();
    E.clearError(errorBox);
    NT.setParams(state);
    renderDownloads();
    var q = { node: state.node, period: state.period };
    return Promise.all([
      NT.api("/api/energy/balance", { query: q }),
      NT.api("/api/energy/sankey", { query: Object.assign({ depth: state.depth, unit: "tce" }, q) })
    ]).then(function (res) {
      renderBalance(res[0]);
      renderChecks(res[0], res[1]);
      return renderSankey(res[1]);
    }).catch(function (err) { E.fail(errorBox, err); }).then(function () { NT.ready(); });
  }

  $("ne-depth").value = state.depth;
  $("ne-depth").addEventListener("change", function () { state.depth = this.value; load(); });
  E.start(state, load, errorBox, {
    node: { kinds: ["park", "enterprise", "site", "workshop", "facility", "line", "process"] },
    ready: function (res) {
      res[0].nodes.forEach(function (n) { nodesByCode[n.code] = n; });
      carriers = res[1];
    }
  });
})();

/* 用能策略推荐 Recommendations: measures ranked by yearly saving, each quantified in CNY, tce and
 * tCO2 per year with its calculation steps and the assumptions behind them (source and status),
 * and the measures that could not be assessed with the reason (GET /api/energy/recommendations). */
(function () {
  "use strict";
  var E = window.NTE;
  var $ = function (id) { return document.getElementById(id); };
  var params = NT.params();
  var state = { node: params.node || null, period: params.period || "" };
  var nodesByCode = {};
  var carriers = {};
  var errorBox = $("ne-error");

  function bi(obj, key) { return NT.lang === "en" ? obj[key + "_en"] || obj[key + "_zh"] : obj[key + "_zh"] || obj[key + "_en"]; }
  function nodeName(code) { var n = nodesByCode[code]; return n ? NT.name(n) : code; }
  function codeText(code) {
    var key = "web.energy.reco.code." + code;
    var text = NT.t(key);
    return text === key ? code : text;
  }
  function assumptionName(name) {
    var key = "web.energy.reco.assumption." + name;
    var text = NT.t(key);
    return text === key ? name : text;
  }
  function basisText(value) {
    if (value === null || value === undefined) return "—";
    if (Array.isArray(value)) return value.map(basisText).join(", ");
    if (typeof value === "number") return NT.fmt(value);
    if (typeof value === "object") return Object.keys(value).map(function (k) { return k + ": " + basisText(value[k]); }).join("; ");
    return String(value);
  }

  function figure(value, unit, digits) {
    return NT.el("span", { class: "ne-reco-fig" }, [NT.fmt(value, digits), NT.el("small", { text: unit })]);
  }

  function renderRanked(data) {
    var list = $("ne-ranked");
    list.textContent = "";
    var ranked = data.ranked || [];
    if (!ranked.length) {
      list.appendChild(NT.el("p", { class: "nt-empty", text: NT.t("web.energy.reco.none") }));
      return;
    }
    ranked.forEach(function (r, i) {
      var body = NT.el("div", { class: "ne-reco-body" });
      body.appendChild(NT.el("p", { text: bi(r, "action") || "" }));
      var facts = NT.el("div");
      body.appendChild(facts);
      E.facts(facts, [
        [NT.t("web.energy.reco.enterprise"), nodeName(r.node) + " (" + r.node + ")"],
        [NT.t("web.energy.reco.investment"), r.investment_cny === null ? NT.t("web.energy.reco.not_estimated") : E.qty(r.investment_cny, "CNY", 0)],
        [NT.t("web.energy.reco.payback"), r.payback_years === null ? "—" : E.qty(r.payback_years, NT.t("web.energy.reco.years"), 1)]
      ]);
      body.appendChild(NT.el("h3", { text: NT.t("web.energy.reco.steps") }));
      var steps = NT.el("div");
      body.appendChild(steps);
      NT.table(steps, [
        { key: "label", label: NT.t("web.energy.reco.step"), render: function (s) { return bi(s, "label") || ""; } },
        { key: "formula", label: NT.t("web.energy.bench.formula"), render: function (s) { return NT.el("span", { class: "nt-mono", text: s.formula || "" }); } },
        { key: "value", label: NT.t("web.energy.reco.value"), align: "right", render: function (s) { return E.qty(s.value, s.unit); } }
      ], r.steps || []);
      body.appendChild(NT.el("h3", { text: NT.t("web.energy.reco.assumptions") }));
      var ass = NT.el("div");
      body.appendChild(ass);
      NT.table(ass, [
        { key: "name", label: NT.t("web.energy.reco.assumption"), fmt: assumptionName },
        { key: "value", label: NT.t("web.energy.reco.value"), align: "right", render: function (a) { return E.qty(a.value, a.unit); } },
        { key: "source", label: NT.t("web.energy.source") },
        { key: "status", label: NT.t("web.energy.status"), render: function (a) { return E.badge(a.status); } }
      ], r.assumptions || [], { empty: NT.t("web.energy.reco.no_assumptions") });
      if (r.basis) body.appendChild(NT.el("p", { class: "ne-hint", text: NT.t("web.energy.reco.basis") + ": " + basisText(r.basis) }));
      var item = NT.el("details", { class: "ne-reco", dataset: { code: r.code, node: r.node } }, [
        NT.el("summary", {}, [
          NT.el("span", { class: "ne-reco-rank", text: String(i + 1) }),
          NT.el("span", { class: "ne-reco-title" }, [bi(r, "title") || codeText(r.code),
            NT.el("small", { text: nodeName(r.node) + " · " + codeText(r.code) })]),
          figure(r.cny_per_year, "CNY/a", 0),
          figure(r.tce_per_year, "tce/a", 1),
          figure(r.tco2_per_year, "tCO2/a", 1)
        ]),
        body
      ]);
      list.appendChild(item);
    });
  }

  function renderChart(data) {
    var ranked = (data.ranked || []).filter(function (r) { return r.cny_per_year; }).slice(0, 12);
    if (!ranked.length) {
      $("ne-reco-chart").textContent = "";
      return null;
    }
    var labels = ranked.map(function (r, i) { return (i + 1) + ". " + codeText(r.code) + " · " + r.node; });
    return E.plot($("ne-reco-chart"), [{
      type: "bar", orientation: "h", y: labels.slice().reverse(), x: ranked.map(function (r) { return r.cny_per_year / 1e4; }).reverse(),
      marker: { color: "#1f7a52" }, hovertemplate: "%{y}: %{x:,.1f} 10⁴ CNY/a<extra></extra>"
    }], { height: Math.max(300, 34 * ranked.length + 60), margin: { l: 170 }, xaxis: { title: { text: "10⁴ CNY/a" } } });
  }

  function renderRest(data) {
    var t = data.totals || {};
    E.cards($("ne-totals"), [
      { key: "cny", label: NT.t("web.energy.reco.total_cny"), value: t.cny_per_year, digits: 0, unit: "CNY/a" },
      { key: "tce", label: NT.t("web.energy.reco.total_tce"), value: t.tce_per_year, digits: 1, unit: "tce/a" },
      { key: "tco2", label: NT.t("web.energy.reco.total_tco2"), value: t.tco2_per_year, digits: 1, unit: "tCO2/a" },
      { key: "count", label: NT.t("web.energy.reco.count"), value: (data.ranked || []).length, digits: 0,
        note: data.period ? NT.t("web.energy.reco.period", { period: data.period.label }) : null }
    ]);
    var rows = [];
    var co2 = [];
    (data.enterprises || []).forEach(function (e) {
      (e.not_assessed || []).forEach(function (n) { rows.push(Object.assign({ enterprise: e.node }, n)); });
      ((e.co2_intensity || {}).parts || []).forEach(function (p) {
        co2.push(Object.assign({ enterprise: e.node, tco2_per_tce: e.co2_intensity.tco2_per_tce }, p));
      });
    });
    NT.table($("ne-not-assessed"), [
      { key: "enterprise", label: NT.t("web.energy.reco.enterprise"), fmt: function (v) { return nodeName(v) + " (" + v + ")"; } },
      { key: "code", label: NT.t("web.energy.reco.measure"), fmt: codeText },
      { key: "reason", label: NT.t("web.energy.reco.reason"), render: function (n) { return E.msg(n) || n.reason; } }
    ], rows, { empty: NT.t("web.energy.reco.all_assessed") });
    NT.table($("ne-co2"), [
      { key: "enterprise", label: NT.t("web.energy.reco.enterprise"), fmt: function (v) { return nodeName(v) + " (" + v + ")"; } },
      { key: "carrier", label: NT.t("web.energy.carrier"), fmt: function (v) { return E.carrierName(v, carriers); } },
      { key: "tce", label: "tce", fmt: 1 },
      { key: "tco2", label: "tCO2", fmt: 1 },
      { key: "factor", label: NT.t("web.energy.reco.factor"), render: function (p) {
        var f = p.factor;
        return f ? NT.el("span", { title: f.source || null }, [E.qty(f.value, f.unit, 5) + " ", E.badge(f.status, f.source)]) : "—";
      } },
      { key: "tco2_per_tce", label: NT.t("web.energy.reco.intensity"), fmt: 3 }
    ], co2, { empty: NT.t("web.energy.no_data") });
    $("ne-reco-note").textContent = (data.lineage || {}).note || "";
  }

  function load() {
    E.loading();
    E.clearError(errorBox);
    NT.setParams(state);
    return NT.api("/api/energy/recommendations", { query: { node: state.node, period: state.period || null } })
      .then(function (data) {
        renderRest(data);
        renderRanked(data);
        return renderChart(data);
      })
      .catch(function (err) { E.fail(errorBox, err); })
      .then(function () { NT.ready(); });
  }

  E.start(state, load, errorBox, {
    period: { defaultLabel: NT.t("web.energy.reco.last12"), kinds: ["year", "quarter", "month", "range"] },
    node: { kinds: ["park", "enterprise"] },
    ready: function (res) {
      res[0].nodes.forEach(function (n) { nodesByCode[n.code] = n; });
      carriers = res[1];
    }
  });
})();

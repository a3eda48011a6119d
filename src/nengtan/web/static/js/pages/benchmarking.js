/* 能效对标 Benchmarking: each product line against its linked benchmark and limit levels with
 * the gap and its arithmetic (GET /api/benchmarks/compare), the park ranking
 * (/api/benchmarks/ranking), equipment nameplate grades (/api/benchmarks/equipment) and GB 17167
 * metering compliance (/api/metering/compliance). */
(function () {
  "use strict";
  var E = window.NTE;
  var $ = function (id) { return document.getElementById(id); };
  var params = NT.params();
  var state = { node: params.node || null, period: params.period || E.lastMonthYear() };
  var nodes = [];
  var links = null;
  var carriers = {};
  var errorBox = $("ne-error");

  function byCode(code) { return nodes.filter(function (n) { return n.code === code; })[0] || null; }
  function within(node, ancestorId) { return !!node && (node.path || "").indexOf("/" + ancestorId + "/") >= 0; }
  function bi(obj, key) { return NT.lang === "en" ? obj[key + "_en"] || obj[key + "_zh"] : obj[key + "_zh"] || obj[key + "_en"]; }
  function positionText(code) {
    var key = "web.energy.bench.position." + code;
    var text = NT.t(key);
    return text === key ? code : text;
  }
  function pct(v) { return v === null || v === undefined ? "—" : NT.pct(v, 2); }

  /* The product lines to compare at a node: an enterprise, line ... itself; for a park, every
   * enterprise under it.  A line is a (node, product) that made the product in the period
   * (GET /api/energy/intensity lists the output) and has a benchmark link applying there. */
  function productLines(node) {
    var targets = node.kind === "park"
      ? nodes.filter(function (n) { return n.kind === "enterprise" && within(n, node.id); })
      : [node];
    return Promise.all(targets.map(function (t) {
      return NT.api("/api/energy/intensity", { query: { node: t.code, period: state.period } }).then(function (inten) {
        var made = (inten.products || []).filter(function (p) { return p.output > 0; }).map(function (p) { return p.product; });
        var seen = {};
        return (links || []).filter(function (l) {
          var applies = l.node_id === null || l.node_id === t.id || within(t, l.node_id);
          if (!applies || made.indexOf(l.product) < 0 || seen[l.product]) return false;
          seen[l.product] = true;
          return true;
        }).map(function (l) { return { node: t.code, product: l.product }; });
      });
    })).then(function (lists) { return [].concat.apply([], lists); });
  }

  /* ---- product line comparison -------------------------------------------------------- */
  function renderCompare(results) {
    var el = $("ne-compare");
    el.textContent = "";
    var shown = results;
    if (!shown.length) {
      el.appendChild(NT.el("p", { class: "nt-empty", text: NT.t("web.energy.bench.no_lines") }));
      return null;
    }
    var draws = shown.map(function (r, i) {
      var a = r.actual || {};
      var card = NT.el("div", { class: "ne-compare-line", dataset: { node: r.node, product: r.product } });
      el.appendChild(card);
      card.appendChild(NT.el("h3", { text: E.label(r) + " · " + (bi(r, "product_name") || r.product) }));
      var facts = NT.el("div");
      card.appendChild(facts);
      E.facts(facts, [
        [NT.t("web.energy.bench.actual"), a.value === null ? NT.el("span", { class: "ne-reason", text: a.reason || NT.t("web.energy.no_data") })
          : NT.el("strong", { text: E.qty(a.value, a.unit, 2) })],
        [NT.t("web.energy.output"), E.qty(a.output, a.output_unit, 0)],
        [NT.t("web.energy.bench.annual_output"), E.qty(a.annual_output, a.output_unit ? a.output_unit + "/a" : "", 0)],
        [NT.t("web.energy.bench.energy"), E.qty(a.energy_tce, "tce", 1)],
        [NT.t("web.energy.bench.annual_rule"), (r.lineage || {}).annual_output]
      ]);
      var levelsForChart = [];
      (r.comparisons || []).forEach(function (c) {
        card.appendChild(NT.el("p", { class: "ne-sub" }, [
          (c.document || c.benchmark) + " · " + c.benchmark + " v" + c.version + " ", E.badge(c.status, c.source)]));
        card.appendChild(NT.el("p", {}, [NT.el("strong", { text: bi(c, "position") || positionText(c.position) }),
          bi(c, "action") ? " — " + bi(c, "action") : ""]));
        var box = NT.el("div");
        card.appendChild(box);
        NT.table(box, [
          { key: "name", label: NT.t("web.energy.bench.level"), render: function (l) { return NT.name(l) || l.key; } },
          { key: "value", label: NT.t("web.energy.bench.level_value"), align: "right", render: function (l) { return E.qty(l.value, l.unit, 2); } },
          { key: "reached", label: NT.t("web.energy.bench.reached"), render: function (l) {
            return l.reached === null ? "—" : E.okBadge(l.reached);
          } },
          { key: "gap_pct", label: NT.t("web.energy.bench.gap_pct"), align: "right", fmt: pct },
          { key: "energy_gap", label: NT.t("web.energy.bench.energy_gap"), align: "right", render: function (l) {
            return l.energy_gap ? E.qty(l.energy_gap.tce_per_year, "tce/a", 1) : "—";
          } },
          { key: "formula", label: NT.t("web.energy.bench.formula"), render: function (l) {
            return l.energy_gap ? NT.el("span", { class: "ne-formula", text: l.energy_gap.formula }) : "—";
          } }
        ], c.levels || []);
        (c.levels || []).forEach(function (l) {
          if (l.value !== null && !levelsForChart.some(function (x) { return x.label === (NT.name(l) || l.key); })) {
            levelsForChart.push({ label: NT.name(l) || l.key, value: l.value });
          }
        });
      });
      if (a.value === null || !levelsForChart.length) return null;
      var chart = NT.el("div", { class: "nt-chart ne-chart-small", id: "ne-compare-chart-" + i });
      card.appendChild(chart);
      levelsForChart.sort(function (x, y) { return x.value - y.value; });
      var worst = levelsForChart[levelsForChart.length - 1].value;
      return E.plot(chart, [{
        type: "bar", orientation: "h",
        y: levelsForChart.map(function (l) { return l.label; }).concat([NT.t("web.energy.bench.actual")]),
        x: levelsForChart.map(function (l) { return l.value; }).concat([a.value]),
        marker: { color: levelsForChart.map(function () { return "#b9c6cd"; }).concat([a.value > worst ? "#b8433f" : "#1f7a52"]) },
        hovertemplate: "%{y}: %{x:,.2f} " + a.unit + "<extra></extra>"
      }], { height: 60 + 30 * (levelsForChart.length + 1), margin: { l: 140, t: 10 }, xaxis: { title: { text: a.unit } } });
    });
    return Promise.all(draws);
  }

  /* ---- ranking ------------------------------------------------------------------------- */
  function parkOf(node) {
    if (node.kind === "park") return node;
    var up = E.ancestors(nodes, node.code).filter(function (n) { return n.kind === "park"; });
    return up.length ? up[up.length - 1] : null;
  }

  function renderRanking(rk) {
    var el = $("ne-ranking");
    el.textContent = "";
    if (!rk) {
      el.appendChild(NT.el("p", { class: "nt-empty", text: NT.t("web.energy.bench.no_park") }));
      return;
    }
    el.appendChild(NT.el("h3", { class: "ne-sub", text: NT.t("web.energy.bench.by_gap") }));
    var a = NT.el("div");
    el.appendChild(a);
    NT.table(a, [
      { key: "rank", label: NT.t("web.energy.bench.rank"), align: "right", fmt: function (v) { return String(v); } },
      { key: "enterprise", label: NT.t("web.energy.bench.enterprise"), render: function (r) { return E.label(r, r.enterprise); } },
      { key: "product", label: NT.t("web.energy.product") },
      { key: "actual", label: NT.t("web.energy.bench.actual"), align: "right", render: function (r) { return E.qty(r.actual, r.unit, 2); } },
      { key: "position", label: NT.t("web.energy.bench.position"), fmt: positionText },
      { key: "best_level_value", label: NT.t("web.energy.bench.best_level"), align: "right",
        render: function (r) { return positionText(r.best_level) + " " + E.qty(r.best_level_value, r.unit, 2); } },
      { key: "gap_to_best_pct", label: NT.t("web.energy.bench.gap_pct"), align: "right", fmt: pct },
      { key: "energy_gap_tce_per_year", label: NT.t("web.energy.bench.energy_gap"), align: "right",
        fmt: function (v) { return E.qty(v, "tce/a", 1); } },
      { key: "status", label: NT.t("web.energy.status"), render: function (r) { return E.badge(r.status, r.benchmark + " v" + r.version); } }
    ], rk.by_gap || [], { empty: NT.t("web.energy.bench.no_lines") });
    el.appendChild(NT.el("h3", { class: "ne-sub", text: NT.t("web.energy.bench.by_intensity") }));
    var b = NT.el("div");
    el.appendChild(b);
    NT.table(b, [
      { key: "rank", label: NT.t("web.energy.bench.rank"), align: "right", fmt: function (v) { return String(v); } },
      { key: "enterprise", label: NT.t("web.energy.bench.enterprise"), render: function (r) { return E.label(r, r.enterprise); } },
      { key: "tce_per_10k_cny_output", label: NT.t("web.energy.totals.per_output"), align: "right",
        render: function (r) { return E.qty(r.tce_per_10k_cny_output, r.unit, 4); } }
    ], rk.by_intensity || [], { empty: NT.t("web.energy.totals.no_economics") });
    (rk.notes || []).forEach(function (n) { el.appendChild(NT.el("p", { class: "ne-hint", text: E.msg(n) || String(n) })); });
  }

  /* ---- equipment grades ---------------------------------------------------------------- */
  function bestSaving(g) {
    var best = null;
    (g.levels || []).forEach(function (l) {
      if (l.saving_kwh_per_year !== null && l.saving_kwh_per_year !== undefined && l.reached === false &&
          (!best || l.saving_kwh_per_year > best.saving_kwh_per_year)) best = l;
    });
    return best;
  }

  function renderEquipment(eq) {
    var s = eq.summary || {};
    E.cards($("ne-equipment-summary"), [
      { key: "nameplates", label: NT.t("web.energy.bench.nameplates"), value: s.nameplates, digits: 0 },
      { key: "graded", label: NT.t("web.energy.bench.graded"), value: s.graded, digits: 0 },
      { key: "meets_limit", label: NT.t("web.energy.bench.meets_limit"), value: s.meets_limit, digits: 0 },
      { key: "below_limit", label: NT.t("web.energy.bench.below_limit"), value: s.below_limit, digits: 0 },
      { key: "not_gradable", label: NT.t("web.energy.bench.not_gradable"), value: s.not_gradable, digits: 0 }
    ]);
    var rows = [];
    (eq.items || []).forEach(function (item) {
      (item.grades || []).forEach(function (g) { rows.push(Object.assign({ item: item }, g)); });
    });
    NT.table($("ne-equipment"), [
      { key: "item", label: NT.t("web.energy.bench.unit"), render: function (r) { return E.label(r.item); } },
      { key: "equipment", label: NT.t("web.energy.bench.equipment_kind"), fmt: function (v) { return NT.t("web.energy.bench.kind." + v); } },
      { key: "inputs", label: NT.t("web.energy.bench.nameplate"), fmt: function (v) {
        return Object.keys(v || {}).map(function (k) { return k + " = " + v[k]; }).join(", ");
      } },
      { key: "actual", label: NT.t("web.energy.bench.actual"), align: "right", render: function (r) { return E.qty(r.actual, r.unit, 2); } },
      { key: "position", label: NT.t("web.energy.bench.grade"), render: function (r) {
        return NT.el("span", { class: r.meets_limit === false ? "nt-badge nt-badge-bad" : r.grade ? "nt-badge nt-badge-ok" : "nt-badge",
          text: bi(r, "position") || positionText(r.position) });
      } },
      { key: "action", label: NT.t("web.energy.bench.action"), render: function (r) { return bi(r, "action") || "—"; } },
      { key: "saving", label: NT.t("web.energy.bench.saving"), align: "right", render: function (r) {
        var l = bestSaving(r);
        return l ? NT.el("span", { title: l.saving_formula || null, text: E.qty(l.saving_kwh_per_year, "kWh/a", 0) }) : "—";
      } },
      { key: "row", label: NT.t("web.energy.source"), render: function (r) {
        return r.row ? NT.el("span", {}, [r.row.code + " ", E.badge(r.row.status, r.row.source)]) : "—";
      } }
    ], rows, { empty: NT.t("web.energy.bench.no_nameplates") });
  }

  /* ---- metering compliance ------------------------------------------------------------- */
  function renderMetering(mc) {
    var el = $("ne-metering");
    el.textContent = "";
    el.appendChild(NT.el("p", {}, [NT.t("web.energy.bench.overall") + " ", E.okBadge(mc.pass, "web.energy.pass", "web.energy.fail")]));
    (mc.units || []).forEach(function (u) {
      el.appendChild(NT.el("h3", { class: "ne-sub" }, [E.label(u.unit) + " ", E.okBadge(u.pass, "web.energy.pass", "web.energy.fail")]));
      var rows = [];
      (u.levels || []).forEach(function (lv) {
        (lv.groups || []).forEach(function (g) { rows.push(Object.assign({ level: lv.level, level_name: NT.name(lv) }, g)); });
      });
      var box = NT.el("div");
      el.appendChild(box);
      NT.table(box, [
        { key: "level", label: NT.t("web.energy.bench.level_no"), align: "left", render: function (r) { return r.level + " · " + r.level_name; } },
        { key: "group", label: NT.t("web.energy.carrier"), render: function (r) { return NT.name(r) || r.group; } },
        { key: "required", label: NT.t("web.energy.bench.required"), fmt: 0 },
        { key: "metered", label: NT.t("web.energy.bench.metered"), fmt: 0 },
        { key: "rate_pct", label: NT.t("web.energy.bench.rate"), align: "right", fmt: function (v) { return v === null ? "—" : NT.fmt(v, 1) + " %"; } },
        { key: "requirement_pct", label: NT.t("web.energy.bench.requirement"), align: "right",
          fmt: function (v) { return v === null || v === undefined ? NT.t("web.energy.bench.not_rated") : NT.fmt(v, 0) + " %"; } },
        { key: "pass", label: NT.t("web.energy.bench.result"), render: function (r) { return E.okBadge(r.pass, "web.energy.pass", "web.energy.fail"); } },
        { key: "formula", label: NT.t("web.energy.bench.formula"), render: function (r) { return NT.el("span", { class: "nt-mono", text: r.formula || "" }); } }
      ], rows);
      var extra = [];
      (u.gaps || []).forEach(function (g) { extra.push(NT.t("web.energy.bench.gap") + ": " + (E.msg(g) || g.node + " " + g.carrier)); });
      (u.meters_without_flow_edge || []).forEach(function (m) {
        extra.push(NT.t("web.energy.bench.no_flow_edge", { meter: m.meter, node: m.node || "" }));
      });
      (u.virtual_only || []).forEach(function (v) {
        extra.push(NT.t("web.energy.bench.virtual_only", { node: v.node, carrier: E.carrierName(v.carrier, carriers) }));
      });
      (u.not_main || []).forEach(function (n) {
        extra.push(NT.t("web.energy.bench.not_main", { node: n.node, basis: n.basis || "" }));
      });
      if (extra.length) el.appendChild(NT.el("ul", { class: "ne-list" }, extra.map(function (x) { return NT.el("li", { text: x }); })));
    });
  }

  function load() {
    E.loading();
    E.clearError(errorBox);
    NT.setParams(state);
    var node = byCode(state.node);
    var park = parkOf(node);
    var compare = productLines(node).then(function (lines) {
      return Promise.all(lines.map(function (l) {
        return NT.api("/api/benchmarks/compare", { query: { node: l.node, product: l.product, period: state.period } });
      }));
    }).then(renderCompare);
    var ranking = (park ? NT.api("/api/benchmarks/ranking", { query: { park: park.code, period: state.period } }) : Promise.resolve(null))
      .then(renderRanking);
    var equipment = NT.api("/api/benchmarks/equipment", { query: { node: state.node } }).then(renderEquipment);
    var metering = NT.api("/api/metering/compliance", { query: { node: state.node } }).then(renderMetering);
    return Promise.all([compare, ranking, equipment, metering]).catch(function (err) { E.fail(errorBox, err); })
      .then(function () { NT.ready(); });
  }

  $("ne-controls").addEventListener("submit", function (e) { e.preventDefault(); });
  E.periodControl($("ne-period"), { value: state.period, kinds: ["year", "quarter", "month", "range"],
    onChange: function (p) { state.period = p; load(); } });
  Promise.all([
    E.nodeSelect($("ne-node"), { value: state.node, kinds: ["park", "enterprise", "site", "workshop", "line", "process", "facility"],
      onChange: function (code) { state.node = code; load(); } }),
    NT.api("/api/benchmarks/links"),
    E.carriers()
  ]).then(function (res) {
    state.node = res[0].code;
    nodes = res[0].nodes;
    links = res[1] || [];
    carriers = res[2];
    if (!state.node) throw new Error(NT.t("web.energy.no_nodes"));
    return load();
  }).catch(function (err) { E.fail(errorBox, err); NT.ready(); });
})();

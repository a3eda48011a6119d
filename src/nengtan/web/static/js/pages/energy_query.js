/* 能耗查询 Energy query: a node's consumption by carrier and period (GET /api/energy/query),
 * its children and the unattributed remainder (/api/energy/drilldown), the last meter values
 * (/api/energy/realtime), and the trace of any figure down to the readings (/api/energy/trace).
 * The page state (node, carrier, grain, period, compare) lives in the URL. */
(function () {
  "use strict";
  var E = window.NTE;
  var $ = function (id) { return document.getElementById(id); };
  var GRAINS = ["hour", "day", "month", "year", "custom"];
  var REALTIME_EVERY_MS = 60000;  // the wall of a control room refreshes about once a minute

  var params = NT.params();
  var state = {
    node: params.node || null,
    carrier: params.carrier || "",
    grain: GRAINS.indexOf(params.grain) >= 0 ? params.grain : "day",
    period: params.period || E.lastMonth(),
    compare: params.compare || "yoy,mom"
  };
  var nodes = [];
  var carriers = {};
  var errorBox = $("ne-error");

  function compareList() {
    return state.compare.split(",").filter(function (c) { return c === "yoy" || c === "mom"; });
  }

  function queryUrl(extra) {
    var q = Object.assign({}, state, extra || {});
    if (!q.carrier) delete q.carrier;
    return NT.url("/energy/query", q);
  }

  /* ---- rendering ------------------------------------------------------------------------- */

  function kindText(kind) { return kind ? NT.t("web.energy.kind." + kind) : ""; }

  function renderCrumbs() {
    var el = $("ne-crumbs");
    el.textContent = "";
    var here = nodes.filter(function (n) { return n.code === state.node; })[0];
    E.ancestors(nodes, state.node).forEach(function (n) {
      el.appendChild(NT.el("a", { href: queryUrl({ node: n.code }), text: NT.name(n) }));
      el.appendChild(NT.el("span", { class: "ne-sep", "aria-hidden": "true", text: "›" }));
    });
    if (here) el.appendChild(NT.el("span", { "aria-current": "page", text: NT.name(here) }));
  }

  function carrierOf(figure) {
    if (!state.carrier) return null;
    return (figure.carriers || []).filter(function (c) { return c.carrier === state.carrier; })[0] || null;
  }

  function renderSummary(data) {
    $("ne-summary").textContent = E.pick(data.summary);
    var total = data.total;
    var one = carrierOf(total);
    var cards = [];
    if (one) {
      cards.push({ key: "quantity", label: NT.t("web.energy.quantity_of", { carrier: E.carrierName(one.carrier, carriers, one) }),
        value: one.quantity, unit: one.unit });
    }
    cards.push({ key: "tce", label: NT.t("web.energy.tce_equivalent"), value: total.tce, unit: "tce" });
    cards.push({ key: "tce_equal_value", label: NT.t("web.energy.tce_equal_value"), value: total.tce_equal_value, unit: "tce" });
    cards.push({ key: "control_total", label: NT.t("web.energy.control_total"), value: total.control_total_tce, unit: "tce" });
    cards.push({ key: "renewable", label: NT.t("web.energy.renewable"), value: total.renewable_tce, unit: "tce" });
    if (total.export_tce) cards.push({ key: "export", label: NT.t("web.energy.export"), value: total.export_tce, unit: "tce" });
    if (total.feedstock_tce) cards.push({ key: "feedstock", label: NT.t("web.energy.feedstock"), value: total.feedstock_tce, unit: "tce" });
    cards.push({ key: "coverage", label: NT.t("web.energy.coverage"), text: E.share(total.coverage),
      note: total.complete ? NT.t("web.energy.complete") : NT.t("web.energy.incomplete") });
    var head = one || total;
    compareList().forEach(function (c) {
      var cmp = head[c];
      cards.push({ key: c, label: NT.t("web.energy." + c), node: E.change(cmp),
        note: cmp && cmp.period ? NT.t("web.energy.compared_with", { period: cmp.period.label }) : null });
    });
    E.cards($("ne-kpis"), cards);
    var traceButton = NT.el("button", { type: "button", class: "nt-btn nt-btn-small", text: NT.t("web.energy.trace.open"),
      onclick: function () { openTrace(state.node, state.carrier, state.period); } });
    $("ne-kpis").appendChild(NT.el("div", { class: "nt-card ne-kpi ne-kpi-action" }, [traceButton]));
    if ((total.missing_coefficients || []).length) {
      $("ne-kpis").appendChild(NT.el("p", { class: "ne-warn", text: NT.t("web.energy.missing_coefficients", {
        carriers: total.missing_coefficients.join(", ") }) }));
    }
  }

  function bucketLabel(bucket) {
    var label = bucket.period.label || "";
    return state.grain === "hour" ? label.slice(0, 16).replace("T", " ") : label;
  }

  /* The API period of a bucket, for its trace: whole local days only. */
  function bucketPeriod(bucket) {
    if (state.grain === "hour") return null;
    var p = bucket.period;
    return p.start + "/" + p.end;
  }

  function renderChart(data) {
    var series = data.series || [];
    var x = series.map(bucketLabel);
    var traces = [];
    var unit = "tce";
    if (state.carrier) {
      var first = null;
      var y = series.map(function (b) {
        var c = carrierOf(b);
        if (c && !first) first = c;
        return c ? c.quantity : null;
      });
      unit = first ? first.unit : (carriers[state.carrier] || {}).unit || "";
      traces.push({ type: "bar", x: x, y: y, name: E.carrierName(state.carrier, carriers, first),
        marker: { color: E.color(state.carrier) }, hovertemplate: "%{x}<br>%{y:,.2f} " + unit + "<extra></extra>" });
    } else {
      var codes = [];
      var names = {};
      series.forEach(function (b) {
        (b.carriers || []).forEach(function (c) {
          if (codes.indexOf(c.carrier) < 0) { codes.push(c.carrier); names[c.carrier] = E.carrierName(c.carrier, carriers, c); }
        });
      });
      codes.forEach(function (code, i) {
        traces.push({ type: "bar", x: x, name: names[code], marker: { color: E.color(code, i) },
          y: series.map(function (b) {
            var c = (b.carriers || []).filter(function (cc) { return cc.carrier === code; })[0];
            return c ? c.tce : null;
          }),
          hovertemplate: "%{x}<br>" + names[code] + ": %{y:,.3f} tce<extra></extra>" });
      });
    }
    return E.plot($("ne-chart"), traces, {
      barmode: "relative", xaxis: { type: "category", nticks: 16 },
      yaxis: { title: { text: unit } }, showlegend: traces.length > 1, height: 340
    });
  }

  function traceButton(node, carrier, period) {
    if (!period) return "—";
    return NT.el("button", { type: "button", class: "ne-link-button", text: NT.t("web.energy.trace.open"),
      onclick: function () { openTrace(node, carrier, period); } });
  }

  function renderSeries(data) {
    var columns = [{ key: "label", label: NT.t("web.energy.period"), render: bucketLabel }];
    if (state.carrier) {
      columns.push({ key: "quantity", label: NT.t("web.energy.quantity"), align: "right",
        render: function (b) { var c = carrierOf(b); return c ? E.qty(c.quantity, c.unit) : "—"; } });
    }
    columns = columns.concat([
      { key: "tce", label: NT.t("web.energy.tce_equivalent") + " (tce)", fmt: 3 },
      { key: "tce_equal_value", label: NT.t("web.energy.tce_equal_value") + " (tce)", fmt: 3 },
      { key: "coverage", label: NT.t("web.energy.coverage"), align: "right", fmt: function (v) { return E.share(v); } }
    ]);
    compareList().forEach(function (c) {
      columns.push({ key: c, label: NT.t("web.energy." + c), align: "right",
        render: function (b) { return E.change(state.carrier ? (carrierOf(b) || {})[c] : b[c]); } });
    });
    columns.push({ key: "trace", label: NT.t("web.energy.trace.title"),
      render: function (b) { return traceButton(state.node, state.carrier, bucketPeriod(b)); } });
    NT.table($("ne-series"), columns, data.series || [], { empty: NT.t("web.energy.no_data") });
  }

  function renderCarriers(data) {
    var columns = [
      { key: "carrier", label: NT.t("web.energy.carrier"), render: function (c) { return E.carrierName(c.carrier, carriers, c); } },
      { key: "unit", label: NT.t("web.energy.unit") },
      { key: "in", label: NT.t("web.energy.flow_in"), fmt: 2 },
      { key: "out", label: NT.t("web.energy.flow_out"), fmt: 2 },
      { key: "generated", label: NT.t("web.energy.generated"), fmt: 2 },
      { key: "quantity", label: NT.t("web.energy.quantity"), fmt: 2 },
      { key: "tce", label: NT.t("web.energy.tce_equivalent") + " (tce)", fmt: 3 },
      { key: "tce_equal_value", label: NT.t("web.energy.tce_equal_value") + " (tce)", fmt: 3 },
      { key: "coverage", label: NT.t("web.energy.coverage"), align: "right", fmt: function (v) { return E.share(v); } }
    ];
    compareList().forEach(function (c) {
      columns.push({ key: c, label: NT.t("web.energy." + c), align: "right", render: function (row) { return E.change(row[c]); } });
    });
    columns.push({ key: "trace", label: NT.t("web.energy.trace.title"), render: function (c) {
      var b = traceButton(state.node, c.carrier, state.period);
      if (b instanceof Node) b.title = NT.t("web.energy.meters") + ": " + (c.meters || []).join(", ");
      return b;
    } });
    NT.table($("ne-carriers"), columns, data.total.carriers || [], { empty: NT.t("web.energy.no_data") });
  }

  function renderChildren(dd) {
    var el = $("ne-children");
    el.textContent = "";
    var rows = (dd.children || []).map(function (c) { return Object.assign({ _child: true }, c); });
    var u = dd.unattributed;
    if (u) rows.push(Object.assign({ _unattributed: true }, u));
    var columns = [
      { key: "node", label: NT.t("web.energy.node"), render: function (r) {
        if (r._unattributed) return NT.el("span", { class: "ne-remainder", text: E.pick(r.label) });
        return NT.el("a", { href: queryUrl({ node: r.node }), class: "ne-drill", dataset: { node: r.node }, text: E.label(r) });
      } },
      { key: "kind", label: NT.t("web.energy.kind"), fmt: function (v, r) { return r._unattributed ? "" : kindText(v); } }
    ];
    if (state.carrier) {
      columns.push({ key: "quantity", label: NT.t("web.energy.quantity"), align: "right", render: function (r) {
        var c = carrierOf(r);
        return c ? E.qty(c.quantity, c.unit) : "—";
      } });
    }
    columns = columns.concat([
      { key: "tce", label: NT.t("web.energy.tce_equivalent") + " (tce)", fmt: 3 },
      { key: "share_pct", label: NT.t("web.energy.share"), align: "right",
        fmt: function (v) { return v === null || v === undefined ? "—" : NT.fmt(v, 2) + " %"; } },
      { key: "coverage", label: NT.t("web.energy.coverage"), align: "right", fmt: function (v) { return E.share(v); } }
    ]);
    compareList().forEach(function (c) {
      columns.push({ key: c, label: NT.t("web.energy." + c), align: "right", render: function (r) { return E.change(r[c]); } });
    });
    columns.push({ key: "trace", label: NT.t("web.energy.trace.title"), render: function (r) {
      return r._unattributed ? "—" : traceButton(r.node, state.carrier, state.period);
    } });
    var box = NT.el("div");
    el.appendChild(box);
    var table = NT.table(box, columns, rows, { empty: NT.t("web.energy.query.no_children") });
    if (table && u) table.querySelector("tbody tr:last-child").classList.add("ne-row-remainder");
    if (u) {
      var lines = [];
      if (u.electricity) {
        lines.push(E.pick(u.electricity.label) + ": " + E.qty(u.electricity.quantity, u.electricity.unit));
      }
      (u.carriers || []).forEach(function (c) {
        lines.push(E.carrierName(c.carrier, carriers, c) + ": " + E.qty(c.quantity, c.unit) + " (" + E.qty(c.tce, "tce", 3) + ")");
      });
      if (lines.length) {
        el.appendChild(NT.el("details", { class: "ne-more" }, [
          NT.el("summary", { text: NT.t("web.energy.query.remainder_by_carrier") }),
          NT.el("ul", { class: "ne-list" }, lines.map(function (l) { return NT.el("li", { text: l }); }))
        ]));
      }
    }
    var kids = (dd.children || []).filter(function (c) { return c.tce !== null; });
    if (kids.length) {
      var chart = NT.el("div", { class: "nt-chart ne-chart-small", id: "ne-children-chart" });
      el.appendChild(chart);
      var ys = kids.map(function (c) { return NT.name(c) || c.node; });
      var xs = kids.map(function (c) { return c.tce; });
      if (u && u.tce !== null && u.tce !== undefined) { ys.push(NT.t("web.energy.query.remainder")); xs.push(u.tce); }
      return E.plot(chart, [{ type: "bar", orientation: "h", x: xs.reverse(), y: ys.reverse(), marker: { color: "#1f7a52" },
        hovertemplate: "%{y}: %{x:,.3f} tce<extra></extra>" }],
      { height: Math.max(160, 28 * ys.length + 60), margin: { l: 160 }, xaxis: { title: { text: "tce" } } });
    }
    return null;
  }

  function renderRealtime(rt) {
    $("ne-realtime-now").textContent = NT.t("web.energy.realtime.as_of", { time: NT.fmtTime(rt.now, true) });
    NT.table($("ne-realtime-net"), [
      { key: "carrier", label: NT.t("web.energy.carrier"), render: function (r) { return E.carrierName(r.carrier, carriers); } },
      { key: "rate", label: NT.t("web.energy.realtime.net"), align: "right",
        render: function (r) { return r.rate === null ? NT.t("web.energy.realtime.net_unknown") : E.qty(r.rate, r.rate_unit, 1); } },
      { key: "meters", label: NT.t("web.energy.meters"), fmt: function (v) { return (v || []).join(", "); } }
    ], rt.net || [], { empty: "" });
    NT.table($("ne-realtime"), [
      { key: "meter", label: NT.t("web.energy.meter"), render: function (m) { return m.meter + " " + NT.name(m); } },
      { key: "carrier", label: NT.t("web.energy.carrier"), render: function (m) { return E.carrierName(m.carrier, carriers); } },
      { key: "role", label: NT.t("web.energy.role"), fmt: function (v) { return NT.t("web.energy.role." + v); } },
      { key: "last_reading", label: NT.t("web.energy.realtime.last_reading"), fmt: function (v) { return NT.fmtTime(v); } },
      { key: "last_value", label: NT.t("web.energy.realtime.last_value"), align: "right",
        render: function (m) { return E.qty(m.last_value, m.meter_unit, 2); } },
      { key: "rate", label: NT.t("web.energy.realtime.rate"), align: "right", render: function (m) { return E.qty(m.rate, m.rate_unit, 1); } },
      { key: "age_s", label: NT.t("web.energy.realtime.age"), align: "right",
        fmt: function (v) { return v === null || v === undefined ? "—" : NT.fmt(v / 60, 0) + " min"; } },
      { key: "status", label: NT.t("web.energy.status"), render: function (m) { return E.badge(m.status, E.pick(m.status_text)); } }
    ], rt.meters || [], { empty: NT.t("web.energy.realtime.no_meters") });
  }

  /* ---- trace side panel -------------------------------------------------------------------- */

  function openTrace(node, carrier, period) {
    var panel = $("ne-trace");
    var body = $("ne-trace-body");
    panel.hidden = false;
    document.body.classList.add("ne-panel-open");
    body.textContent = NT.t("web.energy.loading");
    delete panel.dataset.ready;
    NT.api("/api/energy/trace", { query: { node: node, carrier: carrier || null, period: period } }).then(function (tr) {
      renderTrace(body, tr);
      panel.dataset.ready = "1";
    }).catch(function (err) { E.fail(body, err); panel.dataset.ready = "1"; });
  }

  function renderTrace(body, tr) {
    body.textContent = "";
    var head = E.label(tr) + " · " + (tr.carrier ? E.carrierName(tr.carrier, carriers) + " · " : "") + tr.period.label;
    body.appendChild(NT.el("p", { class: "ne-trace-head", text: head }));
    body.appendChild(NT.el("p", { class: "ne-summary", text: E.pick(tr.summary) }));
    var arith = (tr.figure.carriers || []).filter(function (c) { return c.arithmetic; });
    if (arith.length) {
      body.appendChild(NT.el("h3", { text: NT.t("web.energy.trace.arithmetic") }));
      arith.forEach(function (c) {
        body.appendChild(NT.el("p", { class: "ne-formula" }, [
          NT.el("strong", { text: E.carrierName(c.carrier, carriers, c) + ": " }), c.arithmetic]));
      });
    }
    body.appendChild(NT.el("h3", { text: NT.t("web.energy.trace.meters") }));
    var box = NT.el("div");
    body.appendChild(box);
    NT.table(box, [
      { key: "meter", label: NT.t("web.energy.meter"), render: function (m) {
        return NT.el("span", {}, [NT.el("strong", { text: m.meter }), " " + NT.name(m)]);
      } },
      { key: "role", label: NT.t("web.energy.role"), fmt: function (v, m) {
        return NT.t("web.energy.role." + v) + " (" + (m.sign > 0 ? "+" : m.sign < 0 ? "−" : "0") + ")";
      } },
      { key: "quantity", label: NT.t("web.energy.quantity"), align: "right", render: function (m) { return E.qty(m.quantity, m.unit); } },
      { key: "coefficient", label: NT.t("web.energy.coefficient"), render: function (m) {
        var c = m.coefficient;
        if (!c) return "—";
        return NT.el("span", {}, [E.qty(c.kgce_per_unit, "kgce/" + c.unit, 4) + " ", E.badge(c.status, c.source)]);
      } },
      { key: "tce", label: "tce", fmt: 3 },
      { key: "rollups", label: NT.t("web.energy.trace.rollups"), align: "right", fmt: function (v) { return String((v || []).length); } },
      { key: "batches", label: NT.t("web.energy.trace.batches"), align: "right", fmt: function (v) { return String((v || []).length); } }
    ], tr.meters || [], { empty: NT.t("web.energy.no_data") });
    (tr.meters || []).forEach(function (m) {
      var links = m.links || {};
      var list = NT.el("ul", { class: "ne-list" }, ["readings", "intervals", "rollups_day", "rollups_month", "gaps", "revisions"]
        .filter(function (k) { return links[k]; })
        .map(function (k) {
          return NT.el("li", {}, [NT.el("a", { href: links[k], target: "_blank", rel: "noopener", text: NT.t("web.energy.trace.link." + k) })]);
        }));
      var c = m.coefficient || {};
      var conv = m.conversion || {};
      body.appendChild(NT.el("details", { class: "ne-more" }, [
        NT.el("summary", { text: m.meter + " · " + NT.t("web.energy.role." + m.role) }),
        NT.el("p", { text: NT.t("web.energy.trace.conversion", { multiplier: NT.fmt(conv.multiplier, 2),
          factor: NT.fmt(conv.unit_factor, 4), meter_unit: conv.meter_unit || "", unit: conv.carrier_unit || "" }) }),
        NT.el("p", { text: NT.t("web.energy.trace.coefficient_source", { method: c.method || "—", source: c.source || "—" }) }),
        NT.el("p", { text: NT.t("web.energy.trace.batch_sources", { list: (m.batches || []).map(function (b) {
          return "#" + b.batch_id + " " + (b.source_detail || b.source) + " (" + b.readings + ")";
        }).join("; ") || "—" }) }),
        list
      ]));
    });
    body.appendChild(NT.el("h3", { text: NT.t("web.energy.trace.steps") }));
    body.appendChild(NT.el("p", { class: "ne-hint", text: E.pick(tr.steps) }));
  }

  function closeTrace() {
    $("ne-trace").hidden = true;
    document.body.classList.remove("ne-panel-open");
  }

  /* ---- loading ------------------------------------------------------------------------------ */

  function loadRealtime() {
    return NT.api("/api/energy/realtime", { query: { node: state.node, carrier: state.carrier || null } })
      .then(renderRealtime);
  }

  function load() {
    E.loading();
    E.clearError(errorBox);
    NT.setParams({ node: state.node, carrier: state.carrier, grain: state.grain, period: state.period,
      compare: state.compare === "yoy,mom" ? null : state.compare });
    renderCrumbs();
    var compare = compareList().join(",") || null;
    var base = { node: state.node, carrier: state.carrier || null, period: state.period, compare: compare };
    var query = NT.api("/api/energy/query", { query: Object.assign({ grain: state.grain }, base) }).then(function (data) {
      renderSummary(data);
      renderSeries(data);
      renderCarriers(data);
      return renderChart(data);
    });
    var drill = NT.api("/api/energy/drilldown", { query: base }).then(renderChildren);
    return Promise.all([query, drill, loadRealtime()]).catch(function (err) { E.fail(errorBox, err); })
      .then(function () { NT.ready(); });
  }

  function fillCarriers() {
    var select = $("ne-carrier");
    Object.keys(carriers).map(function (k) { return carriers[k]; })
      .filter(function (c) { return c.is_energy; })
      .sort(function (a, b) { return NT.name(a).localeCompare(NT.name(b), NT.lang); })
      .forEach(function (c) { select.appendChild(NT.el("option", { value: c.code, text: NT.name(c) + " (" + c.unit + ")" })); });
    select.value = carriers[state.carrier] ? state.carrier : "";
    state.carrier = select.value;
  }

  function init() {
    $("ne-grain").value = state.grain;
    $("ne-yoy").checked = compareList().indexOf("yoy") >= 0;
    $("ne-mom").checked = compareList().indexOf("mom") >= 0;
    $("ne-controls").addEventListener("submit", function (e) { e.preventDefault(); });
    E.periodControl($("ne-period"), { value: state.period, onChange: function (p) { state.period = p; load(); } });
    $("ne-grain").addEventListener("change", function () { state.grain = this.value; load(); });
    $("ne-carrier").addEventListener("change", function () { state.carrier = this.value; load(); });
    [$("ne-yoy"), $("ne-mom")].forEach(function (box) {
      box.addEventListener("change", function () {
        var list = [$("ne-yoy"), $("ne-mom")].filter(function (b) { return b.checked; }).map(function (b) { return b.value; });
        state.compare = list.join(",") || "none";
        load();
      });
    });
    $("ne-realtime-refresh").addEventListener("click", function () {
      loadRealtime().catch(function (err) { E.fail(errorBox, err); });
    });
    $("ne-trace-close").addEventListener("click", closeTrace);
    document.addEventListener("keydown", function (e) { if (e.key === "Escape") closeTrace(); });
    Promise.all([
      E.nodeSelect($("ne-node"), { value: state.node, onChange: function (code) { state.node = code; load(); } }),
      E.carriers()
    ]).then(function (res) {
      state.node = res[0].code;
      nodes = res[0].nodes;
      carriers = res[1];
      fillCarriers();
      if (!state.node) throw new Error(NT.t("web.energy.no_nodes"));
      setInterval(function () {
        if (!document.hidden) loadRealtime().catch(function () { /* shown on the next full load */ });
      }, REALTIME_EVERY_MS);
      return load();
    }).catch(function (err) { E.fail(errorBox, err); NT.ready(); });
  }

  init();
})();

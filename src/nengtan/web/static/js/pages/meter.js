/* 表计详情 One meter: GET /api/meters/{id}; the chart from GET .../intervals (interval values,
 * gaps kept whole) or GET .../rollups?grain=hour|day|month; raw readings (GET .../readings,
 * 200 at most), gap spans, pipeline findings (GET /api/quality-events?meter=), register events
 * (GET /api/meter-events?meter=), revisions; PATCH /api/meters/{id} for users with org.write.
 * Times are shown in the site's timezone, which the rollup answer names. */
(function () {
  "use strict";

  var DAY = 86400000;          // ms
  var MAX_INTERVAL_DAYS = 31;  // longer windows are drawn from daily rollups (readable, light)
  var RAW_LIMIT = 200;         // raw readings listed at most
  var TICKS = { hour: "%m-%d %H:%M", day: "%Y-%m-%d", month: "%Y-%m" };  // no month names: both languages
  var FIELDS = [
    { name: "name_zh", type: "text", required: true }, { name: "name_en", type: "text" },
    { name: "node", type: "text", list: "meter-node-codes", required: true },
    { name: "unit", type: "text", required: true },
    { name: "kind", type: "select", choices: ["physical", "virtual", "manual"], prefix: "web.data.meter_kind." },
    { name: "register", type: "select", choices: ["cumulative", "interval"], prefix: "web.data.register." },
    { name: "interval_s", type: "int" }, { name: "multiplier", type: "float" },
    { name: "level", type: "select", choices: [1, 2, 3], number: true },
    { name: "energy_use", type: "select", choices: ["fuel", "feedstock"], prefix: "web.data.energy_use." },
    { name: "flow_from", type: "text", list: "meter-node-codes" }, { name: "flow_to", type: "text", list: "meter-node-codes" },
    { name: "parent_meter", type: "text" }, { name: "formula", type: "text" },
    { name: "rollover_at", type: "float" }, { name: "gap_threshold_s", type: "int" },
    { name: "estimate_gaps", type: "bool" }, { name: "tariff", type: "text" },
    { name: "serial_no", type: "text" }, { name: "installed_on", type: "date" }, { name: "removed_on", type: "date" },
    { name: "active", type: "bool" }, { name: "description", type: "textarea" }
  ];

  var $ = function (id) { return document.getElementById(id); };
  var meterId = Number(location.pathname.split("/").pop());
  var meter = null;
  var tz = "Asia/Shanghai";

  function label(name) { return NT.t("web.data.meter.f." + name); }

  /* "YYYY-MM-DD HH:MM" of an instant in the site's timezone (what the plant's clocks show). */
  function local(iso) {
    if (!iso) return "—";
    var parts = {};
    new Intl.DateTimeFormat("en-CA", { timeZone: tz, year: "numeric", month: "2-digit", day: "2-digit",
      hour: "2-digit", minute: "2-digit", hourCycle: "h23" }).formatToParts(new Date(iso))
      .forEach(function (p) { parts[p.type] = p.value; });
    return parts.year + "-" + parts.month + "-" + parts.day + " " + parts.hour + ":" + parts.minute;
  }

  /* The browser's local calendar date (YYYY-MM-DD) of a Date. */
  function isoDate(d) {
    function two(n) { return (n < 10 ? "0" : "") + n; }
    return d.getFullYear() + "-" + two(d.getMonth() + 1) + "-" + two(d.getDate());
  }

  // -- facts -----------------------------------------------------------------------------
  function card(labelText, value, href) {
    var v = href ? NT.el("a", { href: href, text: value }) : value;
    return NT.el("div", { class: "nt-card" }, [NT.el("div", { class: "nt-kpi-label", text: labelText }),
      NT.el("div", { class: "dt-card-value" }, [v])]);
  }

  function drawFacts(m, carrier) {
    $("meter-title").textContent = NT.name(m) + " · " + m.code;
    document.title = m.code + " · " + document.title;
    var box = $("meter-cards");
    box.textContent = "";
    box.appendChild(card(label("node"), m.node, NT.url("/data/org", { node: m.node })));
    box.appendChild(card(label("carrier"), carrier ? NT.name(carrier) : m.carrier));
    box.appendChild(card(label("unit") + " / " + label("multiplier"), m.unit + " × " + NT.fmt(m.multiplier)));
    box.appendChild(card(label("kind") + " / " + label("register"),
      NT.t("web.data.meter_kind." + m.kind) + " · " + NT.t("web.data.register." + m.register)));
    box.appendChild(card(label("interval_s") + " / " + label("level"),
      NT.fmt(m.interval_s, 0) + " s · " + NT.t("web.data.meters.level_n", { n: m.level })));
    if (m.parent_meter) box.appendChild(card(label("parent_meter"), m.parent_meter));
    if (m.formula) box.appendChild(card(label("formula"), m.formula));
    if (m.tariff) box.appendChild(card(label("tariff"), m.tariff));
    box.appendChild(card(label("active"), NT.t(m.active ? "web.data.common.yes" : "web.data.common.no")));
    $("meter-quality-link").href = NT.url("/data/quality", { meter: m.code, tab: "findings" });
  }

  // -- chart -----------------------------------------------------------------------------
  function window_() {
    return { view: $("meter-view").value, start: $("meter-start").value, end: $("meter-end").value };
  }

  function chartIntervals(w) {
    return NT.api("/api/meters/" + meterId + "/intervals", { query: { start: w.start, end: w.end } }).then(function (ans) {
      var ok = ans.intervals.filter(function (i) { return !i.gap; });
      var gaps = ans.intervals.filter(function (i) { return i.gap; });
      // a gap's total is known, not its course: the line breaks there (null) and a marker says so
      var traces = [{ type: "scatter", mode: "lines", line: { shape: "hv", width: 1.5 }, name: NT.t("web.data.meter.value"),
        x: ans.intervals.map(function (i) { return local(i.start); }),
        y: ans.intervals.map(function (i) { return i.gap ? null : i.value; }), connectgaps: false }];
      if (gaps.length) {
        traces.push({ type: "scatter", mode: "markers", marker: { symbol: "x", size: 10, color: "#b8433f" },
          name: NT.t("web.data.meter.gap_marker"), x: gaps.map(function (g) { return local(g.start); }),
          y: gaps.map(function () { return 0; }),
          text: gaps.map(function (g) { return NT.t("web.data.meter.gap_hover", { from: local(g.start), to: local(g.end), value: NT.fmt(g.value), unit: ans.unit }); }),
          hoverinfo: "text" });
      }
      $("meter-chart-unit").textContent = ans.unit;
      $("meter-summary").textContent = NT.t("web.data.meter.interval_summary", { n: ok.length, gaps: gaps.length });
      $("meter-lineage").textContent = JSON.stringify(ans.lineage, null, 2);
      return NT.plot($("meter-chart"), traces, { xaxis: { tickformat: "%m-%d %H:%M" }, yaxis: { title: { text: ans.unit } } });
    });
  }

  function chartRollups(w) {
    return NT.api("/api/meters/" + meterId + "/rollups", { query: { grain: w.view, start: w.start, end: w.end } }).then(function (ans) {
      var x = ans.points.map(function (p) { return p.period.slice(0, w.view === "hour" ? 16 : 10).replace("T", " "); });
      var traces = [{ type: "bar", name: NT.t("web.data.meter.complete"), x: x, y: ans.points.map(function (p) { return p.value; }) },
        { type: "bar", name: NT.t("web.data.meter.partial"), x: x, marker: { color: "#d98e04", opacity: 0.6 },
          y: ans.points.map(function (p) { return p.value === null ? p.partial_value : null; }) }];
      $("meter-chart-unit").textContent = ans.unit + " · " + ans.timezone;
      $("meter-summary").textContent = NT.t("web.data.meter.rollup_summary", {
        complete: ans.summary.complete_periods, periods: ans.summary.periods,
        sum: NT.fmt(ans.summary.sum_complete), unit: ans.unit });
      $("meter-lineage").textContent = JSON.stringify(ans.lineage, null, 2);
      return NT.plot($("meter-chart"), traces, { barmode: "stack", xaxis: { tickformat: TICKS[w.view] }, yaxis: { title: { text: ans.unit } } });
    });
  }

  // -- tables ----------------------------------------------------------------------------
  function flags(list) { return (list || []).join(", ") || "—"; }

  function loadTables(w) {
    var q = { start: w.start, end: w.end };
    return Promise.all([
      NT.api("/api/meters/" + meterId + "/gaps", { query: q }).then(function (rows) {
        NT.table($("meter-gaps"), [
          { key: "start", label: NT.t("web.data.common.from"), fmt: local },
          { key: "end", label: NT.t("web.data.common.to"), fmt: local },
          { key: "value", label: NT.t("web.data.meter.value") },
          { key: "unit", label: label("unit") },
          { key: "flags", label: NT.t("web.data.meter.flags"), fmt: flags }
        ], rows, { empty: NT.t("web.data.meter.no_gaps") });
      }),
      NT.api("/api/quality-events", { query: { meter: meter.code, start: w.start, end: w.end } }).then(function (rows) {
        NT.table($("meter-findings"), [
          { key: "rule", label: NT.t("web.data.quality.rule"), fmt: function (v) { return NT.t("web.data.rule." + v); } },
          { key: "severity", label: NT.t("web.data.quality.severity"), render: function (r) {
            return NT.el("span", { class: "nt-badge " + (r.severity === "error" ? "nt-badge-bad" : r.severity === "warning" ? "nt-badge-warn" : ""), text: NT.t("web.data.severity." + r.severity) });
          } },
          { key: "start", label: NT.t("web.data.common.from"), fmt: local },
          { key: "end", label: NT.t("web.data.common.to"), fmt: local },
          { key: "status", label: NT.t("web.data.quality.status"), fmt: function (v) { return v ? NT.t("web.data.fstatus." + v) : "—"; } }
        ], rows, { empty: NT.t("web.data.meter.no_findings") });
      }),
      NT.api("/api/meter-events", { query: { meter: meter.code } }).then(function (page) {
        NT.table($("meter-events"), [
          { key: "ts", label: NT.t("web.data.meter.time"), fmt: local },
          { key: "kind", label: label("kind"), fmt: function (v) { return NT.t("web.data.event." + v); } },
          { key: "old_final_value", label: NT.t("web.data.meter.old_final") },
          { key: "new_initial_value", label: NT.t("web.data.meter.new_initial") },
          { key: "new_multiplier", label: label("multiplier") },
          { key: "note", label: NT.t("web.data.meter.note") }
        ], page.items, { empty: NT.t("web.data.meter.no_events") });
      }),
      NT.api("/api/meters/" + meterId + "/revisions").then(function (rows) {
        NT.table($("meter-revisions"), [
          { key: "ts", label: NT.t("web.data.meter.time"), fmt: local },
          { key: "old_value", label: NT.t("web.data.meter.old_value") },
          { key: "new_value", label: NT.t("web.data.meter.new_value") },
          { key: "new_quality", label: NT.t("web.data.meter.quality"), fmt: function (v) { return NT.t("web.data.reading_quality." + v); } },
          { key: "revised_at", label: NT.t("web.data.meter.revised_at"), fmt: local }
        ], rows, { empty: NT.t("web.data.meter.no_revisions") });
      }),
      NT.api("/api/meters/" + meterId + "/readings", { query: { start: w.start, end: w.end, limit: RAW_LIMIT } }).then(function (ans) {
        $("meter-readings-note").textContent = (ans.truncated ? NT.t("web.data.meter.truncated", { n: RAW_LIMIT }) + " · " : "") +
          NT.t("web.data.meter.raw_unit", { unit: ans.unit });
        NT.table($("meter-readings"), [
          { key: "ts", label: NT.t("web.data.meter.time"), fmt: local },
          { key: "value", label: NT.t("web.data.meter.reading") , fmt: function (v) { return NT.fmt(v, 2); }, align: "right" },
          { key: "quality", label: NT.t("web.data.meter.quality"), fmt: function (v) { return NT.t("web.data.reading_quality." + v); } },
          { key: "reason", label: NT.t("web.data.meter.reason") },
          { key: "source", label: NT.t("web.data.meter.source") },
          { key: "batch_id", label: NT.t("web.data.meter.batch"), fmt: 0 },
          { key: "ingested_at", label: NT.t("web.data.meter.ingested_at"), fmt: local }
        ], ans.readings, { empty: NT.t("web.data.meter.no_readings") });
      })
    ]);
  }

  function load() {
    var w = window_();
    var days = (new Date(w.end) - new Date(w.start)) / DAY;
    if (w.view === "intervals" && days > MAX_INTERVAL_DAYS) {
      $("meter-view").value = w.view = "day";
      NT.notice(NT.t("web.data.meter.switched_to_day", { n: MAX_INTERVAL_DAYS }));
    }
    NT.setParams({ view: w.view, start: w.start, end: w.end });
    $("meter-export").href = NT.url("/api/export/readings", { meters: meter.code, start: w.start, end: w.end, format: "csv", lang: NT.lang });
    $("meter-chart-error").textContent = "";
    var chart = (w.view === "intervals" ? chartIntervals(w) : chartRollups(w))
      .catch(function (err) { NT.error($("meter-chart-error"), err); });
    var tables = loadTables(w).catch(function (err) { NT.error($("meter-chart-error"), err); });
    return Promise.all([chart, tables]);
  }

  // -- edit ------------------------------------------------------------------------------
  function field(f) {
    var id = "meter-edit-" + f.name, value = meter[f.name], el;
    if (f.type === "bool") {
      el = NT.el("input", { id: id, type: "checkbox", checked: !!value });
      return NT.el("label", { class: "nt-check dt-check" }, [el, " " + label(f.name)]);
    }
    if (f.type === "select") {
      el = NT.el("select", { id: id }, f.choices.map(function (c) {
        return NT.el("option", { value: String(c), text: f.prefix ? NT.t(f.prefix + c) : NT.t("web.data.meters.level_n", { n: c }) });
      }));
      el.value = String(value);
    } else if (f.type === "textarea") {
      el = NT.el("textarea", { id: id, rows: 2 });
      el.value = value || "";
    } else {
      el = NT.el("input", { id: id, type: f.type === "int" || f.type === "float" ? "number" : f.type === "date" ? "date" : "text",
        step: f.type === "int" ? "1" : f.type === "float" ? "any" : null, list: f.list || null });
      el.value = value === null || value === undefined ? "" : value;
    }
    return NT.el("label", {}, [label(f.name) + (f.required ? " *" : ""), el]);
  }

  function read(f) {
    var el = $("meter-edit-" + f.name);
    if (f.type === "bool") return el.checked;
    var v = el.value.trim();
    if (v === "") return null;
    if (f.type === "int" || f.type === "float" || f.number) return Number(v);
    return v;
  }

  function openEdit() {
    var box = $("meter-edit-fields");
    box.textContent = "";
    FIELDS.forEach(function (f) { box.appendChild(field(f)); });
    $("meter-edit-error").textContent = "";
    $("meter-edit-form").hidden = false;
    $("meter-edit-name_zh").focus();
    if (!$("meter-node-codes")) {
      var list = document.body.appendChild(NT.el("datalist", { id: "meter-node-codes" }));
      NT.nodes().then(function (nodes) { nodes.forEach(function (n) { list.appendChild(NT.el("option", { value: n.code })); }); });
    }
  }

  function saveEdit(ev) {
    ev.preventDefault();
    var body = {};
    FIELDS.forEach(function (f) {
      var v = read(f), old = meter[f.name];
      if (JSON.stringify(v) !== JSON.stringify(old === undefined ? null : old)) body[f.name] = v;
    });
    if (!Object.keys(body).length) { $("meter-edit-form").hidden = true; return; }
    $("meter-edit-save").disabled = true;
    NT.api("/api/meters/" + meterId, { method: "PATCH", body: body }).then(function (saved) {
      meter = saved;
      NT.notice(NT.t("web.data.common.saved"));
      $("meter-edit-form").hidden = true;
      return NT.api("/api/carriers/" + encodeURIComponent(saved.carrier)).catch(function () { return null; })
        .then(function (c) { drawFacts(saved, c); return load(); });
    }).catch(function (err) { NT.issues($("meter-edit-error"), err); })
      .then(function () { $("meter-edit-save").disabled = false; });
  }

  // -- start -----------------------------------------------------------------------------
  function start() {
    var params = NT.params();
    var end = params.end || isoDate(new Date(Date.now() + DAY));
    var startDay = params.start || isoDate(new Date(new Date(end + "T00:00").getTime() - 7 * DAY));
    $("meter-view").value = ["intervals", "hour", "day", "month"].indexOf(params.view) >= 0 ? params.view : "intervals";
    $("meter-start").value = startDay;
    $("meter-end").value = end;
    $("meter-window").addEventListener("submit", function (ev) { ev.preventDefault(); load(); });
    $("meter-view").addEventListener("change", load);
    $("meter-edit-open").addEventListener("click", openEdit);
    $("meter-edit-cancel").addEventListener("click", function () { $("meter-edit-form").hidden = true; });
    $("meter-edit-form").addEventListener("submit", saveEdit);
    NT.api("/api/meters/" + meterId).then(function (m) {
      meter = m;
      $("meter-edit-open").hidden = !NT.can("org.write");
      return Promise.all([
        NT.api("/api/carriers/" + encodeURIComponent(m.carrier)).catch(function () { return null; }),
        // the site's timezone: the rollup answer names it
        NT.api("/api/meters/" + meterId + "/rollups", { query: { grain: "day", start: startDay, end: end } })
          .then(function (r) { tz = r.timezone || tz; }).catch(function () { return null; })
      ]).then(function (answers) { drawFacts(m, answers[0]); return load(); });
    }).catch(function (err) { NT.error($("meter-error"), err); }).then(NT.ready);
  }

  start();
})();

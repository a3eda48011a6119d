/* 数据质量 Data quality page, four tabs over one window (period, start, end; end exclusive):
 *
 *   completeness  GET /api/quality/completeness?node=&carrier=&period=&start=&end= — % of the
 *                 expected intervals present, per period and per meter (worst first);
 *   findings      GET /api/quality/findings?origin=&status=&severity=&meter=[&start&end], and
 *                 PATCH /api/quality-events/{id} to acknowledge, close or reopen with a comment
 *                 (quality.write);
 *   rules         GET /api/quality/rules, and POST /api/quality/run over the window;
 *   balance       GET /api/quality/balance?meter=&period=&start=&end=[&tolerance_pct] — the
 *                 parent meter against the sum of its sub-meters.
 *
 * Only display here: every figure and status comes from the API. */
(function () {
  "use strict";

  var DAY = 86400000;  // ms
  var TABS = ["completeness", "findings", "rules", "balance"];
  var FINDINGS_LIMIT = 500;
  var TICKS = { hour: "%m-%d %H:%M", day: "%Y-%m-%d", month: "%Y-%m" };  // no month names: both languages
  var $ = function (id) { return document.getElementById(id); };
  var loaded = {}, tab = "completeness", rules = [], pending = null;
  var SEVERITY = { error: "nt-badge-bad", warning: "nt-badge-warn" };
  var BALANCE = { ok: "nt-badge-ok", imbalance: "nt-badge-bad", not_assessable: "nt-badge-warn" };

  /* The browser's local calendar date (YYYY-MM-DD) of a Date. */
  function isoDate(d) {
    function two(n) { return (n < 10 ? "0" : "") + n; }
    return d.getFullYear() + "-" + two(d.getMonth() + 1) + "-" + two(d.getDate());
  }
  function win() { return { period: $("q-period").value, start: $("q-start").value, end: $("q-end").value }; }
  function label(key, value) { var k = key + value, t = NT.t(k); return t === k ? value : t; }
  function badge(cls, text) { return NT.el("span", { class: "nt-badge " + (cls || ""), text: text }); }
  function pctBar(pct) {
    var v = pct === null || pct === undefined ? 0 : Math.max(0, Math.min(100, pct));
    return NT.el("div", { class: "dt-pct" }, [NT.el("div", { class: "nt-bar" }, [NT.el("span", { style: "width:" + v + "%" })]),
      NT.el("span", { text: pct === null || pct === undefined ? "—" : NT.fmt(pct, 1) + " %" })]);
  }
  function kpi(labelText, value, sub) {
    return NT.el("div", { class: "nt-card" }, [NT.el("div", { class: "nt-kpi-label", text: labelText }),
      NT.el("div", { class: "nt-kpi-value", text: value }), sub ? NT.el("div", { class: "nt-kpi-sub", text: sub }) : null]);
  }
  function meterLink(code, id) {
    return id ? NT.el("a", { href: "/data/meters/" + id, class: "dt-nowrap", text: code }) : NT.el("span", { text: code || "—" });
  }
  /* A number of intervals: whole numbers as such, a part of an interval with two decimals. */
  function count(v) { return NT.fmt(v, v === null || Number.isInteger(v) ? 0 : 2); }
  function when(v) { return NT.el("span", { class: "dt-nowrap", text: NT.fmtTime(v) }); }

  // -- completeness ----------------------------------------------------------------------
  function loadCompleteness() {
    var w = win(), node = $("q-node").value;
    $("q-completeness-error").textContent = "";
    if (!node) return Promise.resolve();
    NT.setParams({ node: node, carrier: $("q-carrier").value || null });
    return NT.api("/api/quality/completeness", { query: { node: node, carrier: $("q-carrier").value || null,
      period: w.period, start: w.start, end: w.end } }).then(function (ans) {
      var cards = $("q-completeness-cards");
      cards.textContent = "";
      cards.appendChild(kpi(NT.t("web.data.quality.total_pct"), ans.total.pct === null ? "—" : NT.fmt(ans.total.pct, 2) + " %"));
      // hours, the measure the percentage is computed on (meters of different intervals added up)
      cards.appendChild(kpi(NT.t("web.data.quality.expected"), NT.t("web.data.quality.hours", { h: NT.fmt(ans.total.expected_s / 3600, 0) }),
        NT.t("web.data.quality.intervals", { n: count(ans.total.expected) })));
      cards.appendChild(kpi(NT.t("web.data.quality.present"), NT.t("web.data.quality.hours", { h: NT.fmt(ans.total.covered_s / 3600, 0) }),
        NT.t("web.data.quality.intervals", { n: count(ans.total.present) })));
      cards.appendChild(kpi(NT.t("web.data.quality.meters_counted"), NT.fmt(ans.meters.length, 0),
        ans.excluded_virtual.length ? NT.t("web.data.quality.excluded_virtual", { list: ans.excluded_virtual.join(", ") }) : null));
      var traces = [{ type: "bar", name: "%", x: ans.points.map(function (p) { return p.period.slice(0, 16).replace("T", " "); }),
        y: ans.points.map(function (p) { return p.pct; }), marker: { color: "#1f7a52" },
        hovertemplate: "%{x}: %{y:.2f} %<extra></extra>" }];
      var meters = ans.meters.slice().sort(function (a, b) {
        return (a.pct === null ? 101 : a.pct) - (b.pct === null ? 101 : b.pct) || (a.meter < b.meter ? -1 : 1);
      });
      NT.table($("q-completeness-meters"), [
        { key: "meter", label: NT.t("web.data.quality.meter"), render: function (m) { return meterLink(m.meter, m.meter_id); } },
        { key: "interval_s", label: NT.t("web.data.meter.f.interval_s"), fmt: 0 },
        { key: "expected", label: NT.t("web.data.quality.expected_n"), fmt: count, align: "right" },
        { key: "present", label: NT.t("web.data.quality.present_n"), fmt: count, align: "right" },
        { key: "pct", label: NT.t("web.data.quality.pct"), render: function (m) { return pctBar(m.pct); } }
      ], meters, { empty: NT.t("web.data.quality.no_meters") });
      return NT.plot($("q-completeness-chart"), traces, { xaxis: { tickformat: TICKS[w.period] }, yaxis: { range: [0, 100], title: { text: "%" } }, showlegend: false });
    }).catch(function (err) { NT.error($("q-completeness-error"), err); });
  }

  // -- findings --------------------------------------------------------------------------
  function findingDetail(f) {
    var d = f.detail || {}, parts = [];
    if (d.rule_name) parts.push(d.rule_name);
    if (d.measured !== undefined && d.limit !== undefined) {
      parts.push(NT.t("web.data.quality.measured_limit", { measured: NT.fmt(d.measured), limit: NT.fmt(d.limit), unit: d.unit || "" }));
    } else if (d.duration_s !== undefined) {
      parts.push(NT.t("web.data.quality.duration", { h: NT.fmt(d.duration_s / 3600, 1) }));
    } else if (d.previous !== undefined && d.next !== undefined) {
      parts.push(NT.fmt(d.previous) + " → " + NT.fmt(d.next));
    }
    return parts.join(" · ") || "—";
  }

  function findingActions(f) {
    if (!NT.can("quality.write")) return "";
    var next = { open: ["acknowledged", "closed"], acknowledged: ["closed", "open"], closed: ["open"] }[f.status] || [];
    return NT.el("div", { class: "nt-actions dt-nowrap" }, next.map(function (status) {
      return NT.el("button", { type: "button", class: "nt-btn nt-btn-small", "data-action": status,
        text: NT.t("web.data.quality.set." + status), onclick: function () { openDialog(f, status); } });
    }));
  }

  function loadFindings() {
    var w = win(), q = {
      status: $("q-f-status").value || null, origin: $("q-f-origin").value, severity: $("q-f-severity").value || null,
      meter: $("q-f-meter").value.trim() || null, limit: FINDINGS_LIMIT
    };
    if ($("q-f-window").checked) { q.start = w.start; q.end = w.end; }
    $("q-findings-error").textContent = "";
    NT.setParams({ status: q.status, origin: q.origin, severity: q.severity, meter: q.meter });
    return NT.api("/api/quality/findings", { query: q }).then(function (rows) {
      rows = rows.slice().reverse();  // newest first
      $("q-findings-count").textContent = NT.t(rows.length >= FINDINGS_LIMIT ? "web.data.quality.first_n" : "web.data.common.total",
        { n: rows.length });
      NT.table($("q-findings-table"), [
        { key: "meter", label: NT.t("web.data.quality.meter"), render: function (f) { return meterLink(f.meter, f.meter_id); } },
        { key: "rule", label: NT.t("web.data.quality.rule"), fmt: function (v) { return label("web.data.rule.", v); } },
        { key: "severity", label: NT.t("web.data.quality.severity"), render: function (f) { return badge(SEVERITY[f.severity], label("web.data.severity.", f.severity)); } },
        { key: "start", label: NT.t("web.data.common.from"), render: function (f) { return when(f.start); } },
        { key: "end", label: NT.t("web.data.common.to"), render: function (f) { return when(f.end); } },
        { key: "detail", label: NT.t("web.data.quality.detail"), fmt: function (v, f) { return findingDetail(f); } },
        { key: "origin", label: NT.t("web.data.quality.origin"), fmt: function (v) { return label("web.data.quality.origin.", v); } },
        { key: "status", label: NT.t("web.data.quality.status"), render: function (f) {
          var h = (f.detail && f.detail.history) || [], last = h[h.length - 1];
          return NT.el("span", { title: last ? (last.by || "") + " " + (last.comment || "") : null }, [
            badge(f.status === "open" ? "nt-badge-warn" : f.status === "closed" ? "nt-badge-ok" : "", label("web.data.fstatus.", f.status))]);
        } },
        { key: "id", label: "", render: findingActions }
      ], rows, { empty: NT.t("web.data.quality.no_findings") });
    }).catch(function (err) { NT.error($("q-findings-error"), err); });
  }

  function openDialog(finding, status) {
    pending = { finding: finding, status: status };
    $("q-dialog-title").textContent = NT.t("web.data.quality.set." + status);
    $("q-dialog-what").textContent = finding.meter + " · " + label("web.data.rule.", finding.rule) + " · " + NT.fmtTime(finding.start);
    $("q-dialog-confirm").textContent = NT.t("web.data.quality.set." + status);
    $("q-dialog-comment").value = "";
    $("q-dialog-error").textContent = "";
    $("q-dialog").showModal();
  }

  function confirmDialog(ev) {
    ev.preventDefault();
    var p = pending;
    NT.api("/api/quality-events/" + p.finding.id, { method: "PATCH",
      body: { status: p.status, comment: $("q-dialog-comment").value.trim() || null } }).then(function () {
      $("q-dialog").close();
      NT.notice(NT.t("web.data.quality.status_set", { status: label("web.data.fstatus.", p.status) }));
      return loadFindings();
    }).catch(function (err) { NT.error($("q-dialog-error"), err); });
  }

  // -- rules -----------------------------------------------------------------------------
  function params(p) {
    return Object.keys(p || {}).map(function (k) { return k + "=" + (typeof p[k] === "object" ? JSON.stringify(p[k]) : p[k]); }).join(", ");
  }

  function loadRules() {
    $("q-rules-error").textContent = "";
    $("q-run-bar").hidden = !NT.can("quality.write");
    return NT.api("/api/quality/rules", { query: { limit: 1000 } }).then(function (page) {
      rules = page.items;
      $("q-rules-count").textContent = NT.t("web.data.common.total", { n: page.total });
      NT.table($("q-rules-table"), [
        { key: "name", label: NT.t("web.data.quality.rule_name") },
        { key: "kind", label: NT.t("web.data.quality.rule"), fmt: function (v) { return label("web.data.rule.", v); } },
        { key: "meter", label: NT.t("web.data.quality.scope"), fmt: function (v, r) {
          if (r.meter) return r.meter;
          return (r.node || "—") + (r.carrier ? " · " + r.carrier : "") + (r.subtree ? " · " + NT.t("web.data.meters.subtree") : "");
        } },
        { key: "params", label: NT.t("web.data.quality.params"), render: function (r) { return NT.el("span", { class: "nt-mono", text: params(r.params) }); } },
        { key: "severity", label: NT.t("web.data.quality.severity"), render: function (r) { return badge(SEVERITY[r.severity], label("web.data.severity.", r.severity)); } },
        { key: "enabled", label: NT.t("web.data.quality.enabled"), fmt: function (v) { return NT.t(v ? "web.data.common.yes" : "web.data.common.no"); } },
        { key: "created_by", label: NT.t("web.data.entries.created_by") }
      ], rules, { empty: NT.t("web.data.quality.no_rules") });
    }).catch(function (err) { NT.error($("q-rules-error"), err); });
  }

  function runRules() {
    var w = win();
    $("q-run").disabled = true;
    $("q-run-result").textContent = "";
    NT.api("/api/quality/run", { method: "POST", body: { start: w.start, end: w.end } }).then(function (r) {
      $("q-run-result").appendChild(NT.el("div", { class: "nt-info", text: NT.t("web.data.quality.run_result", {
        rules: r.rules, checks: r.checks, inserted: r.inserted, unchanged: r.unchanged, removed: r.removed,
        kept: r.kept_acknowledged }) }));
      loaded.findings = false;
    }).catch(function (err) { NT.error($("q-run-result"), err); }).then(function () { $("q-run").disabled = false; });
  }

  // -- balance ---------------------------------------------------------------------------
  function loadBalance() {
    var w = win(), meter = $("q-b-meter").value.trim();
    $("q-balance-error").textContent = "";
    if (!meter) return Promise.resolve();
    NT.setParams({ balance: meter });
    var tol = $("q-b-tolerance").value;
    return NT.api("/api/quality/balance", { query: { meter: meter, period: w.period, start: w.start, end: w.end,
      tolerance_pct: tol || null } }).then(function (ans) {
      var s = ans.summary, cards = $("q-balance-cards");
      cards.textContent = "";
      cards.appendChild(kpi(NT.t("web.data.bstatus.ok"), NT.fmt(s.ok, 0)));
      cards.appendChild(kpi(NT.t("web.data.bstatus.imbalance"), NT.fmt(s.imbalance, 0)));
      cards.appendChild(kpi(NT.t("web.data.bstatus.not_assessable"), NT.fmt(s.not_assessable, 0)));
      cards.appendChild(kpi(NT.t("web.data.quality.tolerance"), NT.fmt(ans.tolerance_pct, 1) + " %",
        NT.t("web.data.quality.children", { list: ans.children.map(function (c) { return c.meter; }).join(", ") || "—" })));
      $("q-balance-title").firstChild.textContent = NT.t("web.data.quality.balance_of", { meter: ans.meter }) + " ";
      $("q-balance-unit").textContent = ans.unit;
      var x = ans.points.map(function (p) { return p.period.slice(0, 16).replace("T", " "); });
      var traces = [
        { type: "bar", name: NT.t("web.data.quality.parent"), x: x, y: ans.points.map(function (p) { return p.parent; }) },
        { type: "bar", name: NT.t("web.data.quality.children_sum"), x: x, y: ans.points.map(function (p) { return p.children_sum; }) },
        { type: "scatter", mode: "lines+markers", name: NT.t("web.data.quality.difference_pct"), yaxis: "y2", x: x,
          y: ans.points.map(function (p) { return p.pct; }) }
      ];
      NT.table($("q-balance-table"), [
        { key: "period", label: NT.t("web.data.quality.period"), fmt: function (v) { return v.slice(0, 16).replace("T", " "); } },
        { key: "parent", label: NT.t("web.data.quality.parent") },
        { key: "children_sum", label: NT.t("web.data.quality.children_sum") },
        { key: "difference", label: NT.t("web.data.quality.difference") },
        { key: "pct", label: NT.t("web.data.quality.difference_pct"), fmt: function (v) { return v === null ? "—" : NT.fmt(v, 2) + " %"; }, align: "right" },
        { key: "status", label: NT.t("web.data.quality.status"), render: function (p) { return badge(BALANCE[p.status], label("web.data.bstatus.", p.status)); } },
        { key: "incomplete", label: NT.t("web.data.quality.incomplete"), fmt: function (v) { return (v || []).join(", ") || "—"; } }
      ], ans.points, { empty: NT.t("web.data.quality.no_points") });
      return NT.plot($("q-balance-chart"), traces, { barmode: "group", margin: { r: 56 }, xaxis: { tickformat: TICKS[w.period] }, yaxis: { title: { text: ans.unit } },
        yaxis2: { overlaying: "y", side: "right", title: { text: "%" }, showgrid: false } });
    }).catch(function (err) { NT.error($("q-balance-error"), err); });
  }

  // -- tabs ------------------------------------------------------------------------------
  var LOADERS = { completeness: loadCompleteness, findings: loadFindings, rules: loadRules, balance: loadBalance };

  function show(name) {
    tab = name;
    TABS.forEach(function (t) {
      $("q-" + t).hidden = t !== name;
      $("q-tab-" + t).setAttribute("aria-selected", t === name ? "true" : "false");
    });
    NT.setParams({ tab: name });
    if (loaded[name]) return Promise.resolve();
    loaded[name] = true;
    return LOADERS[name]();
  }

  function start() {
    var p = NT.params();
    var end = p.end || isoDate(new Date());  // default: the last 7 whole days (today is not over)
    $("q-start").value = p.start || isoDate(new Date(new Date(end + "T00:00").getTime() - 7 * DAY));
    $("q-end").value = end;
    $("q-period").value = ["hour", "day", "month"].indexOf(p.period) >= 0 ? p.period : "day";
    $("q-f-status").value = p.status === undefined ? "open" : p.status;
    $("q-f-origin").value = p.origin || "all";
    $("q-f-severity").value = p.severity || "";
    $("q-f-meter").value = p.meter || "";
    $("q-window").addEventListener("submit", function (ev) {
      ev.preventDefault();
      var w = win();
      NT.setParams(w);
      loaded = {};
      show(tab);
    });
    TABS.forEach(function (t) { $("q-tab-" + t).addEventListener("click", function () { show(t); }); });
    ["q-f-status", "q-f-origin", "q-f-severity", "q-f-window", "q-f-meter"].forEach(function (id) {
      $(id).addEventListener("change", loadFindings);
    });
    $("q-carrier").addEventListener("change", loadCompleteness);
    $("q-balance-form").addEventListener("submit", function (ev) { ev.preventDefault(); loadBalance(); });
    $("q-run").addEventListener("click", runRules);
    $("q-dialog-form").addEventListener("submit", confirmDialog);
    $("q-dialog-cancel").addEventListener("click", function () { $("q-dialog").close(); });
    var scope = NT.scope && NT.scope[0] ? NT.scope[0].code : null;
    Promise.all([
      NT.nodeSelect($("q-node"), { value: p.node || scope, onChange: loadCompleteness }),
      NT.api("/api/carriers", { query: { limit: 1000 } }).then(function (page) {
        page.items.forEach(function (c) { $("q-carrier").appendChild(NT.el("option", { value: c.code, text: NT.name(c) })); });
        $("q-carrier").value = p.carrier || "";
      }),
      NT.api("/api/meters", { query: { limit: 1000 } }).then(function (page) {
        page.items.forEach(function (m) { $("q-meter-codes").appendChild(NT.el("option", { value: m.code, label: NT.name(m) })); });
      }),
      // the default parent meter: the first balance rule's
      NT.api("/api/quality/rules", { query: { kind: "balance", limit: 1 } }).then(function (page) {
        $("q-b-meter").value = p.balance || (page.items[0] && page.items[0].meter) || "";
      })
    ]).then(function () {
      return show(TABS.indexOf(p.tab) >= 0 ? p.tab : "completeness");
    }).catch(function (err) { NT.error($("q-completeness-error"), err); }).then(NT.ready);
  }

  start();
})();

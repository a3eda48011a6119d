/* 碳盘查列表 / Carbon inventories: every inventory the user may see (GET /api/inventories),
 * with its status, versions and figures (tCO2e) of the latest version, and a chart of the
 * totals split by scope.  Filters (enterprise code, year) are kept in the URL. */
(function () {
  "use strict";
  var t = NT.t;
  var table = document.getElementById("inv-table");
  var chart = document.getElementById("inv-chart");
  var message = document.getElementById("inv-message");
  var enterprise = document.getElementById("inv-enterprise");
  var year = document.getElementById("inv-year");

  function statusBadge(status) {
    var cls = status === "locked" ? "nt-badge nt-badge-ok" : status === "draft" ? "nt-badge nt-badge-warn" : "nt-badge";
    return NT.el("span", { class: cls, text: t("web.carbon.status." + (status || "new")) });
  }

  function figure(row, key) {
    var v = row.latest_version;
    return v ? v[key] : null;
  }

  function enterpriseName(row) {
    return NT.lang === "en" ? (row.enterprise_name_en || row.enterprise_name_zh) : row.enterprise_name_zh;
  }

  function draw(rows) {
    NT.table(table, [
      { key: "code", label: t("web.carbon.common.code"),
        render: function (r) { return NT.el("a", { href: NT.url("/carbon/inventory", { id: r.id }), class: "nc-inv-link nc-nowrap", text: r.code }); } },
      { key: "name", label: t("web.carbon.common.name"),
        render: function (r) { return NT.el("span", { title: enterpriseName(r) + " (" + r.enterprise + ")", text: NT.name(r) }); } },
      { key: "period", label: t("web.carbon.common.period"),
        render: function (r) { return NT.el("span", { class: "nc-nowrap", title: r.period_start + " – " + r.period_end, text: r.period }); } },
      { key: "methodology", label: t("web.carbon.common.methodology"),
        render: function (r) { return t("web.carbon.methodology." + r.methodology); } },
      { key: "status", label: t("web.carbon.common.status"), render: function (r) { return statusBadge(r.status); } },
      { key: "versions", label: t("web.carbon.inventories.versions"), align: "right",
        render: function (r) { return r.latest_version ? String(r.latest_version.version) : "—"; } },
      { key: "total", label: t("web.carbon.figure.total"), align: "right",
        render: function (r) { return NT.el("span", { class: "nc-total", text: NT.fmt(figure(r, "total_tco2e"), 1) }); } },
      { key: "scope1", label: t("web.carbon.figure.scope1"), align: "right",
        render: function (r) { return NT.fmt(figure(r, "scope1_tco2e"), 1); } },
      { key: "scope2", label: t("web.carbon.figure.scope2"), align: "right",
        render: function (r) { return NT.fmt(figure(r, "scope2_tco2e"), 1); } },
      { key: "scope2m", label: t("web.carbon.figure.scope2_market"), align: "right",
        render: function (r) { return NT.fmt(figure(r, "scope2_market_tco2e"), 1); } },
      { key: "locked", label: t("web.carbon.inventories.locked_at"),
        render: function (r) {
          var l = r.locked_version;
          return l ? NT.el("span", { class: "nc-nowrap", title: NT.fmtTime(l.locked_at),
            text: "v" + l.version + " · " + (l.locked_at || "").slice(0, 10) + " · " + (l.locked_by || "") }) : "—";
        } }
    ], rows, { empty: t("web.carbon.inventories.empty") });

    var shown = rows.filter(function (r) { return r.latest_version; });
    if (!shown.length) { chart.hidden = true; return Promise.resolve(); }
    chart.hidden = false;
    var x = shown.map(function (r) { return r.code; });
    var s1 = shown.map(function (r) { return figure(r, "scope1_tco2e"); });
    var s2 = shown.map(function (r) { return figure(r, "scope2_tco2e"); });
    // enterprises of a park differ by orders of magnitude: a log axis keeps the small ones
    // readable, as long as no bar is negative (deductions can make a scope negative; a zero bar is simply not drawn)
    var positive = s1.concat(s2).every(function (v) { return v >= 0; });
    return NT.plot(chart, [
      { type: "bar", name: t("web.carbon.figure.scope1"), x: x, y: s1 },
      { type: "bar", name: t("web.carbon.figure.scope2"), x: x, y: s2 }
    ], { barmode: "group", yaxis: { title: { text: "tCO2e" }, type: positive ? "log" : "linear" } });
  }

  function load() {
    var p = NT.params();
    message.textContent = "";
    return NT.api("/api/inventories", { query: { enterprise: p.enterprise, year: p.year, limit: 500 } })
      .then(function (page) { return draw(page.items); })
      .catch(function (err) { NT.error(message, err); });
  }

  function start() {
    var p = NT.params();
    year.value = p.year || "";
    year.addEventListener("change", function () {
      NT.setParams({ year: year.value });
      load();
    });
    document.getElementById("inv-filter").addEventListener("submit", function (e) { e.preventDefault(); });
    return NT.nodeSelect(enterprise, {
      kinds: ["enterprise"], value: p.enterprise, blank: t("web.carbon.common.all"),
      onChange: function (code) { NT.setParams({ enterprise: code }); load(); }
    }).catch(function (err) { NT.error(message, err); }).then(load);
  }

  start().then(NT.ready, NT.ready);
})();

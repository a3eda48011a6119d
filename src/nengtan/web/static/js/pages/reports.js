/* 报表下载 Reports: download links of the monthly / annual energy report (GET /api/reports/energy),
 * the energy balance workbook, and — for users who may read carbon data — the GHG report of an
 * inventory version, its verification package and the park GHG report.  The links are plain
 * anchors: the browser fetches them with the session cookie, the API checks the permission. */
(function () {
  "use strict";
  var E = window.NTE;
  var $ = function (id) { return document.getElementById(id); };
  var params = NT.params();
  var lastYear = String(Number(E.lastMonthYear()) - 1);
  var state = {
    node: params.node || null,
    period: params.period || E.lastMonth(),
    inventory: params.inventory || null,
    version: params.version || null,
    park: params.park || null,
    park_period: params.park_period || lastYear
  };
  var errorBox = $("ne-error");
  var LANGS = [["zh-CN", "中文"], ["en", "English"]];
  var FORMATS = [["pdf", "PDF"], ["xlsx", "Excel"]];
  var hasCarbon = !!$("ne-ghg-reports");

  function links(el, path, query, name) {
    el.textContent = "";
    FORMATS.forEach(function (f) {
      LANGS.forEach(function (l) {
        var q = Object.assign({}, query, { format: f[0], lang: l[0] });
        el.appendChild(E.fileLink(NT.url(path, q), name + " · " + f[1] + " · " + l[1],
          { dataset: { format: f[0], lang: l[0] } }));
      });
    });
  }

  function energyLinks() {
    if (!state.node || !state.period) return;
    var kind = /^\d{4}$/.test(state.period) ? "annual" : "monthly";
    links($("ne-energy-links"), "/api/reports/energy", { node: state.node, period: state.period },
      NT.t("web.energy.reports." + kind) + " " + state.node + " " + state.period);
    var el = $("ne-balance-links");
    el.textContent = "";
    LANGS.forEach(function (l) {
      el.appendChild(E.fileLink(NT.url("/api/energy/balance.xlsx", { node: state.node, period: state.period, lang: l[0] }),
        NT.t("web.energy.reports.balance") + " · Excel · " + l[1], { dataset: { lang: l[0] } }));
    });
  }

  function sync() {
    NT.setParams({ node: state.node, period: state.period, inventory: state.inventory, version: state.version,
      park: state.park, park_period: state.park_period === lastYear ? null : state.park_period });
  }

  /* ---- GHG reports of inventory versions ------------------------------------------------ */
  var inventories = [];

  function inventoryOf(code) { return inventories.filter(function (i) { return i.code === code; })[0] || null; }

  function ghgLinks() {
    var inv = inventoryOf(state.inventory);
    var el = $("ne-ghg-links");
    var pkg = $("ne-package-links");
    if (!inv) {
      el.textContent = "";
      pkg.textContent = "";
      return;
    }
    var q = { inventory: inv.code, version: state.version };
    links(el, "/api/carbon/reports/ghg", q, NT.t("web.energy.reports.ghg_report") + " " + inv.code +
      (state.version ? " v" + state.version : ""));
    pkg.textContent = "";
    pkg.appendChild(E.fileLink(NT.url("/api/carbon/verification-package", q),
      NT.t("web.energy.reports.package") + " " + inv.code + (state.version ? " v" + state.version : "") + " · zip",
      { dataset: { format: "zip" } }));
  }

  function loadVersions() {
    var inv = inventoryOf(state.inventory);
    var select = $("ne-version");
    select.textContent = "";
    if (!inv) return Promise.resolve();
    return NT.api("/api/inventories/" + inv.id + "/versions").then(function (versions) {
      versions = versions || [];
      versions.forEach(function (v) {
        select.appendChild(NT.el("option", { value: String(v.version), text: "v" + v.version + " · " +
          NT.t("web.energy.reports.status." + v.status) + " · " + E.qty(v.total_tco2e, v.unit || "tCO2e", 0) }));
      });
      var wanted = versions.filter(function (v) { return String(v.version) === String(state.version); })[0];
      var locked = versions.filter(function (v) { return v.status === "locked"; });
      var pick = wanted || locked[locked.length - 1] || versions[versions.length - 1];
      state.version = pick ? String(pick.version) : null;
      select.value = state.version || "";
      E.facts($("ne-inventory-info"), [
        [NT.t("web.energy.reports.enterprise"), (NT.lang === "en" ? inv.enterprise_name_en : inv.enterprise_name_zh) + " (" + inv.enterprise + ")"],
        [NT.t("web.energy.period"), inv.period],
        [NT.t("web.energy.reports.versions"), String(versions.length)]
      ]);
      ghgLinks();
      sync();
    });
  }

  function initGhg() {
    var select = $("ne-inventory");
    return NT.api("/api/inventories", { query: { limit: 1000 } }).then(function (page) {
      inventories = page.items || page || [];
      inventories.forEach(function (i) {
        select.appendChild(NT.el("option", { value: i.code, text: NT.name(i) + " (" + i.code + ")" }));
      });
      if (!inventories.length) {
        $("ne-ghg-links").appendChild(NT.el("p", { class: "nt-empty", text: NT.t("web.energy.reports.no_inventories") }));
        return null;
      }
      state.inventory = inventoryOf(state.inventory) ? state.inventory : inventories[0].code;
      select.value = state.inventory;
      select.addEventListener("change", function () { state.inventory = select.value; state.version = null; loadVersions(); });
      $("ne-version").addEventListener("change", function () { state.version = this.value; ghgLinks(); sync(); });
      return loadVersions();
    });
  }

  function parkLinks() {
    if (!state.park || !state.park_period) return;
    links($("ne-park-links"), "/api/carbon/reports/ghg/park", { park: state.park, period: state.park_period },
      NT.t("web.energy.reports.park_report") + " " + state.park + " " + state.park_period);
  }

  function initPark() {
    return E.nodeSelect($("ne-park"), { value: state.park, kinds: ["park"], onChange: function (code) {
      state.park = code; parkLinks(); sync();
    } }).then(function (res) {
      state.park = res.code || null;
      if (!state.park) {
        $("ne-park-form").hidden = true;
        $("ne-park-links").appendChild(NT.el("p", { class: "nt-empty", text: NT.t("web.energy.reports.no_park") }));
        return;
      }
      E.periodControl($("ne-park-period"), { value: state.park_period, kinds: ["year", "quarter", "month"],
        onChange: function (p) { state.park_period = p; parkLinks(); sync(); } });
      parkLinks();
    });
  }

  ["ne-energy-form", "ne-ghg-form", "ne-park-form"].forEach(function (id) {
    if ($(id)) $(id).addEventListener("submit", function (e) { e.preventDefault(); });
  });
  E.periodControl($("ne-period"), { value: state.period, kinds: ["month", "year"],
    onChange: function (p) { state.period = p; energyLinks(); sync(); } });
  var energy = E.nodeSelect($("ne-node"), {
    value: state.node, kinds: ["park", "enterprise", "site", "workshop", "facility", "line", "process"],
    onChange: function (code) { state.node = code; energyLinks(); sync(); }
  }).then(function (res) {
    state.node = res.code;
    if (!state.node) throw new Error(NT.t("web.energy.no_nodes"));
    energyLinks();
  });
  var parts = [energy];
  if (hasCarbon) parts.push(initGhg(), initPark());
  Promise.all(parts).then(sync).catch(function (err) { E.fail(errorBox, err); }).then(function () { NT.ready(); });
})();

/* Audit log (auditor): filters kept in the URL, newest entries first, and the hash-chain check
 * of the whole log.  The API lists oldest first: a page from the end is asked by offset. */
(function () {
  "use strict";
  var $ = function (id) { return document.getElementById(id); };
  var SIZE = 50;
  var FIELDS = { user: "audit-user", action: "audit-action", object_type: "audit-object-type",
    from: "audit-from", to: "audit-to" };
  var page = 1, total = 0;

  function filters() {
    var out = {};
    Object.keys(FIELDS).forEach(function (k) { out[k] = $(FIELDS[k]).value.trim() || null; });
    return out;
  }

  function detail(row) {
    if (!row.detail) return "";
    var text = JSON.stringify(row.detail);
    return NT.el("span", { class: "nt-mono", title: text, text: text.length > 120 ? text.slice(0, 117) + "…" : text });
  }

  function load() {
    var query = filters();
    NT.setParams(Object.assign({ page: page > 1 ? page : null }, query));
    // the total first (one row), then the page counted from the end
    return NT.api("/api/audit-log", { query: Object.assign({ limit: 1, offset: 0 }, query) }).then(function (head) {
      total = head.total;
      var end = Math.max(0, total - (page - 1) * SIZE);
      var start = Math.max(0, end - SIZE);
      if (end === 0) return { items: [] };
      return NT.api("/api/audit-log", { query: Object.assign({ limit: end - start, offset: start }, query) });
    }).then(function (data) {
      var rows = data.items.slice().reverse();
      $("audit-count").textContent = NT.t("web.core.audit.count", { n: NT.fmt(total, 0) });
      var pages = Math.max(1, Math.ceil(total / SIZE));
      $("audit-page").textContent = NT.t("web.core.audit.page", { page: page, pages: pages });
      $("audit-newer").disabled = page <= 1;
      $("audit-older").disabled = page >= pages;
      NT.table($("audit-table"), [
        { key: "id", label: "#", align: "right", fmt: 0 },
        { key: "ts", label: NT.t("web.core.audit.time"), fmt: function (v) { return NT.fmtTime(v, true); } },
        { key: "user", label: NT.t("web.core.audit.user") },
        { key: "action", label: NT.t("web.core.audit.action"), render: function (r) { return NT.el("span", { class: "nt-mono", text: r.action }); } },
        { key: "object_type", label: NT.t("web.core.audit.object"), fmt: function (v, r) { return (v || "—") + (r.object_id ? " " + r.object_id : ""); } },
        { key: "source", label: NT.t("web.core.audit.source") },
        { key: "detail", label: NT.t("web.core.audit.detail"), render: detail },
        { key: "hash", label: NT.t("web.core.audit.hash"), render: function (r) { return NT.el("span", { class: "nt-mono", title: r.hash, text: r.hash.slice(0, 12) + "…" }); } }
      ], rows, { empty: NT.t("web.core.audit.none") });
    });
  }

  function verify() {
    var box = $("audit-verify-result");
    box.hidden = false;
    box.textContent = NT.t("web.core.loading");
    return NT.api("/api/audit-log/verify").then(function (r) {
      box.textContent = "";
      var text = r.ok ? NT.t("web.core.audit.chain_ok", { n: NT.fmt(r.checked, 0), hash: r.last_hash.slice(0, 16) })
        : NT.t("web.core.audit.chain_broken", { id: r.first_bad_id, problem: NT.t("web.core.audit.problem." + r.problem) });
      box.appendChild(NT.el("div", { class: r.ok ? "nt-info" : "nt-error", role: "status", dataset: { ok: r.ok ? "1" : "0" }, text: text }));
    });
  }

  function fail(err) { NT.error($("audit-error"), err); }

  var p = NT.params();
  Object.keys(FIELDS).forEach(function (k) { if (p[k]) $(FIELDS[k]).value = p[k]; });
  page = Math.max(1, parseInt(p.page, 10) || 1);
  $("audit-filters").addEventListener("submit", function (event) {
    event.preventDefault(); page = 1; load().catch(fail);
  });
  $("audit-newer").addEventListener("click", function () { page = Math.max(1, page - 1); load().catch(fail); });
  $("audit-older").addEventListener("click", function () { page += 1; load().catch(fail); });
  $("audit-verify").addEventListener("click", function () { verify().catch(fail); });
  load().catch(fail).then(NT.ready);
})();

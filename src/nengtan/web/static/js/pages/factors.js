/* 排放因子库 / Emission factor library: values of the current dataset versions (or every
 * version) with document, clause, year, region, validity and status (GET /api/factors);
 * datasets and their versions with the changes between them (GET /api/factor-datasets);
 * one value in detail with its history and ledger digest (GET /api/factors/{id}, opened by
 * ?id= — inventory lineage links here); the selection tool (GET /api/factors/select) with
 * the rule that chose the value in the page language and every candidate; GWP sets
 * (GET /api/gwp).  Read-only: datasets are added through the API. */
(function () {
  "use strict";
  var t = NT.t;
  var el = NT.el;
  function $(id) { return document.getElementById(id); }
  var PAGE = 50;  // values per page
  var message = $("fac-message");
  var filterIds = { parameter: "f-parameter", subject: "f-subject", region: "f-region", year: "f-year", dataset: "f-dataset", status: "f-status" };

  function validity(v) {
    if (!v.valid_from && !v.valid_to) return "—";
    return (v.valid_from || "…") + " – " + (v.valid_to || "…");
  }

  function subjectText(v) { return v.subject + (v.gwp_set ? " · " + v.gwp_set : ""); }

  // -- values -----------------------------------------------------------------------------------
  function filters() {
    var out = {};
    Object.keys(filterIds).forEach(function (k) { out[k] = $(filterIds[k]).value.trim(); });
    out.all_versions = $("f-all").checked ? "true" : "";
    return out;
  }

  function loadValues(offset) {
    var f = filters();
    NT.setParams(Object.assign({}, f, { offset: offset || null }));
    var box = $("fac-values");
    var query = Object.assign({}, f, { limit: PAGE, offset: offset || 0 });
    delete box.dataset.loaded;
    return NT.api("/api/factors", { query: query })
      .then(function (page) {
        box.dataset.loaded = NT.url("", query);  // which question the table answers (tests wait on it)
        NT.table(box, [
          { key: "id", label: "ID", render: function (v) {
            return el("button", { type: "button", class: "nt-btn nt-btn-small nc-factor-open", dataset: { id: v.id }, text: "#" + v.id }); } },
          { key: "dataset", label: t("web.carbon.factors.dataset"), render: function (v) { return v.dataset + " v" + v.version + (v.current ? "" : " · " + t("web.carbon.factors.old")); } },
          { key: "parameter", label: t("web.carbon.param.name"), render: function (v) { return el("span", { class: "nc-nowrap", text: NC.label("web.carbon.param.", v.parameter) }); } },
          { key: "subject", label: t("web.carbon.factors.subject"), render: subjectText },
          { key: "value", label: t("web.carbon.param.value"), align: "right", render: function (v) { return NC.num(v.value); } },
          { key: "unit", label: t("web.carbon.common.unit") },
          { key: "document", label: t("web.carbon.factors.document"),
            render: function (v) { return el("span", { class: "nc-doc" }, [v.document || "—", v.clause ? el("div", { class: "nt-muted nc-small", text: v.clause }) : null]); } },
          { key: "year", label: t("web.carbon.common.year"), render: NC.plain("year") },
          { key: "region", label: t("web.carbon.common.region") },
          { key: "validity", label: t("web.carbon.factors.validity"), render: validity },
          { key: "status", label: t("web.carbon.common.status"), render: function (v) { return NC.valueStatus(v.status); } }
        ], page.items, { empty: t("web.carbon.factors.none") });
        pager(page);
      })
      .catch(function (err) { NT.error(box, err); });
  }

  function pager(page) {
    var box = $("fac-pager");
    box.textContent = "";
    var from = page.total ? page.offset + 1 : 0;
    var to = Math.min(page.offset + page.limit, page.total);
    box.appendChild(el("span", { class: "nt-muted", text: t("web.carbon.common.range", { from: from, to: to, total: page.total }) }));
    if (page.offset > 0) {
      box.appendChild(el("button", { type: "button", class: "nt-btn nt-btn-small", text: t("web.carbon.common.previous"),
        onclick: function () { loadValues(Math.max(0, page.offset - page.limit)); } }));
    }
    if (to < page.total) {
      box.appendChild(el("button", { type: "button", class: "nt-btn nt-btn-small", id: "fac-next", text: t("web.carbon.common.next"),
        onclick: function () { loadValues(page.offset + page.limit); } }));
    }
  }

  // -- one value -----------------------------------------------------------------------------------
  function openValue(id, quiet) {
    var panel = $("fac-detail-panel");
    var box = $("fac-detail");
    panel.hidden = false;
    $("fac-detail-id").textContent = "#" + id;
    box.textContent = "";
    NT.setParams({ id: id });
    return NT.api("/api/factors/" + encodeURIComponent(id)).then(function (v) {
      $("fac-detail-id").textContent = "#" + v.id + " · " + v.key;
      box.appendChild(NC.meta([
        [t("web.carbon.param.name"), NC.label("web.carbon.param.", v.parameter) + " (" + v.parameter + ")"],
        [t("web.carbon.factors.subject"), subjectText(v)],
        [t("web.carbon.param.value"), NC.num(v.value) + " " + v.unit],
        [t("web.carbon.common.status"), NC.valueStatus(v.status)],
        [t("web.carbon.factors.document"), v.document],
        [t("web.carbon.factors.clause"), v.clause],
        [t("web.carbon.common.year"), v.year],
        [t("web.carbon.common.region"), v.region],
        [t("web.carbon.factors.validity"), validity(v)],
        [t("web.carbon.factors.note"), v.note],
        [t("web.carbon.factors.dataset"), v.dataset + " v" + v.version + " · " + NC.label("web.carbon.factors.origin.", v.origin) +
          (v.dataset_info && v.dataset_info.title ? " — " + v.dataset_info.title : "")],
        [t("web.carbon.factors.ledger_digest"), el("code", { class: "nt-mono", text: v.sha256 })]
      ]));
      var hist = el("div");
      NT.table(hist, [
        { key: "version", label: t("web.carbon.factors.dataset_version"), render: function (h) { return "v" + h.version; } },
        { key: "id", label: "ID", render: function (h) { return h.id ? "#" + h.id : "—"; } },
        { key: "value", label: t("web.carbon.param.value"), align: "right",
          render: function (h) { return h.value === null || h.value === undefined ? t("web.carbon.factors.not_in_version") : NC.num(h.value) + " " + (h.unit || ""); } },
        { key: "status", label: t("web.carbon.common.status"), render: function (h) { return h.status ? NC.valueStatus(h.status) : "—"; } },
        { key: "created_at", label: t("web.carbon.factors.created"), render: function (h) { return NT.fmtTime(h.created_at); } }
      ], v.history || []);
      box.appendChild(el("h3", { text: t("web.carbon.factors.history") }));
      box.appendChild(hist);
      if (!quiet) panel.scrollIntoView({ behavior: "smooth", block: "start" });
    }).catch(function (err) { NT.error(box, err); });
  }

  // -- datasets -------------------------------------------------------------------------------------
  function loadDatasets() {
    return NT.api("/api/factor-datasets").then(function (list) {
      var sel = $("f-dataset");
      list.forEach(function (d) { sel.appendChild(el("option", { value: d.code, text: d.code })); });
      var p = NT.params();
      if (p.dataset) sel.value = p.dataset;
      NT.table($("fac-datasets"), [
        { key: "code", label: t("web.carbon.common.code"), render: function (d) {
          return el("button", { type: "button", class: "nt-btn nt-btn-small nc-dataset-open", dataset: { code: d.code }, text: d.code }); } },
        { key: "title", label: t("web.carbon.factors.title_col") },
        { key: "document", label: t("web.carbon.factors.document") },
        { key: "origin", label: t("web.carbon.factors.origin_col"), render: function (d) { return NC.label("web.carbon.factors.origin.", d.origin) + (d.tenant ? " · " + d.tenant : ""); } },
        { key: "version", label: t("web.carbon.factors.dataset_version"), render: function (d) { return "v" + d.version + (d.reference_version ? " (" + d.reference_version + ")" : ""); } },
        { key: "values_count", label: t("web.carbon.factors.values_count"), fmt: 0 },
        { key: "content_sha256", label: "SHA-256", render: function (d) { return d.content_sha256 ? el("code", { class: "nt-mono", title: d.content_sha256, text: d.content_sha256.slice(0, 12) + "…" }) : "—"; } },
        { key: "created_at", label: t("web.carbon.factors.created"), render: function (d) { return NT.fmtTime(d.created_at) + (d.created_by ? " · " + d.created_by : ""); } }
      ], list);
    });
  }

  function openDataset(code, version) {
    var box = $("fac-dataset");
    box.textContent = "";
    return NT.api("/api/factor-datasets/" + encodeURIComponent(code), { query: { version: version } }).then(function (d) {
      var sel = el("select", { id: "fac-dataset-version", "aria-label": t("web.carbon.factors.dataset_version") },
        d.versions.map(function (n) { return el("option", { value: n, text: "v" + n }); }));
      sel.value = d.version;
      sel.addEventListener("change", function () { openDataset(code, sel.value); });
      box.appendChild(el("h3", {}, [d.code + " — " + d.title + " ", sel]));
      if (d.changes) {
        box.appendChild(el("p", { text: t("web.carbon.factors.changes", { from: d.changes.from_version, added: d.changes.added.length,
          removed: d.changes.removed.length, changed: d.changes.changed.length }) }));
        var keys = [];
        ["added", "removed", "changed"].forEach(function (k) { d.changes[k].forEach(function (key) { keys.push({ change: k, key: key }); }); });
        if (keys.length) {
          var ch = el("div");
          NT.table(ch, [
            { key: "change", label: "", render: function (c) { return NC.label("web.carbon.factors.change.", c.change); } },
            { key: "key", label: t("web.carbon.factors.key"), render: function (c) { return el("span", { class: "nt-mono", text: c.key }); } }
          ], keys);
          box.appendChild(ch);
        }
      }
      box.appendChild(el("button", { type: "button", class: "nt-btn nt-btn-small", text: t("web.carbon.factors.show_values"),
        onclick: function () {
          $("f-dataset").value = code;
          $("f-all").checked = !d.current;
          loadValues(0).then(function () { $("fac-values-panel").scrollIntoView({ behavior: "smooth" }); });
        } }));
    }).catch(function (err) { NT.error(box, err); });
  }

  // -- selection tool -------------------------------------------------------------------------------
  function runSelection() {
    var q = {
      parameter: $("s-parameter").value, subject: $("s-subject").value.trim(), year: $("s-year").value,
      region: $("s-region").value.trim(), gwp_set: $("s-gwp").value, grid_basis: $("s-basis").value, tenant: $("s-tenant").value
    };
    var box = $("fac-selection");
    box.textContent = "";
    return NT.api("/api/factors/select", { query: q }).then(function (s) {
      if (!s.value) {
        box.appendChild(el("div", { class: "nt-info", id: "fac-selected-none", text: t("web.carbon.factors.no_value") }));
      } else {
        var v = s.value;
        box.appendChild(el("div", { class: "nc-selected", id: "fac-selected" }, [
          el("p", {}, [el("strong", { text: t("web.carbon.factors.chosen") + " " }),
            el("a", { href: NT.url("/carbon/factors", { id: v.factor_id }), class: "nc-factor-link", text: "#" + v.factor_id }), " ",
            el("span", { class: "nc-big", text: NC.num(v.value) }), " " + v.unit + " ", NC.valueStatus(v.status)]),
          el("p", { class: "nc-rule", id: "fac-rule" }, [el("strong", { text: t("web.carbon.factors.rule") + " " }),
            NC.lang(s, "why"), " ", el("code", { class: "nt-mono nt-muted", text: s.rule + " · " + s.tier })]),
          NC.meta([
            [t("web.carbon.factors.document"), v.document + (v.clause ? " · " + v.clause : "")],
            [t("web.carbon.common.year"), v.year], [t("web.carbon.common.region"), v.region],
            [t("web.carbon.factors.validity"), validity(v)],
            [t("web.carbon.factors.dataset"), v.dataset + " v" + v.version]
          ], "nc-meta-inline")]));
      }
      box.appendChild(el("p", { class: "nt-muted", text: t("web.carbon.factors.considered", {
        tenant: s.considered.tenant || 0, installation: s.considered.installation || 0, shipped: s.considered.shipped || 0 }) }));
      var cand = el("div", { id: "fac-candidates" });
      NT.table(cand, [
        { key: "factor_id", label: "ID", render: function (c) { return el("a", { href: NT.url("/carbon/factors", { id: c.factor_id }), text: "#" + c.factor_id }); } },
        { key: "tier", label: t("web.carbon.factors.tier"), render: function (c) { return NC.label("web.carbon.factors.tier_name.", c.tier); } },
        { key: "subject", label: t("web.carbon.factors.subject"), render: function (c) { return c.subject + (c.gwp_set ? " · " + c.gwp_set : ""); } },
        { key: "value", label: t("web.carbon.param.value"), align: "right", render: function (c) { return NC.num(c.value) + " " + c.unit; } },
        { key: "year", label: t("web.carbon.common.year"), render: NC.plain("year") },
        { key: "region", label: t("web.carbon.common.region") },
        { key: "validity", label: t("web.carbon.factors.validity"), render: validity },
        { key: "status", label: t("web.carbon.common.status"), render: function (c) { return NC.valueStatus(c.status); } },
        { key: "eligible", label: t("web.carbon.factors.eligible"),
          render: function (c) {
            if (c.chosen) return NC.badge(t("web.carbon.factors.chosen_badge"), "ok");
            return c.eligible ? NC.badge(t("web.carbon.factors.eligible_yes"), "") : NC.badge(NC.label("web.carbon.factors.excluded.", c.excluded_by), "bad");
          } }
      ], s.candidates, { empty: t("web.carbon.factors.no_candidates") });
      box.appendChild(cand);
    }).catch(function (err) { NT.error(box, err); });
  }

  // -- GWP -------------------------------------------------------------------------------------------
  function loadGwp() {
    var set = $("g-set").value;
    return NT.api("/api/gwp", { query: { set: set } }).then(function (g) {
      NT.table($("fac-gwp"), [
        { key: "gas", label: t("web.carbon.common.gas") },
        { key: "value", label: g.unit, align: "right", render: function (r) { return NC.num(r.value); } },
        { key: "factor_id", label: "ID", render: function (r) { return r.factor_id ? el("a", { href: NT.url("/carbon/factors", { id: r.factor_id }), text: "#" + r.factor_id }) : "—"; } },
        { key: "document", label: t("web.carbon.factors.document"), render: function (r) { return (r.document || "") + (r.clause ? " · " + r.clause : ""); } },
        { key: "tier", label: t("web.carbon.factors.tier"), render: function (r) { return NC.label("web.carbon.factors.tier_name.", r.tier); } },
        { key: "status", label: t("web.carbon.common.status"), render: function (r) { return NC.valueStatus(r.status); } }
      ], g.values);
    }).catch(function (err) { NT.error($("fac-gwp"), err); });
  }

  function start() {
    var p = NT.params();
    Object.keys(filterIds).forEach(function (k) { if (p[k] && k !== "dataset") $(filterIds[k]).value = p[k]; });
    $("f-all").checked = p.all_versions === "true";
    $("s-year").value = String(new Date().getFullYear() - 1);
    $("fac-filter").addEventListener("submit", function (e) { e.preventDefault(); loadValues(0); });
    $("fac-select-form").addEventListener("submit", function (e) { e.preventDefault(); runSelection(); });
    $("g-set").addEventListener("change", loadGwp);
    $("fac-detail-close").addEventListener("click", function () { $("fac-detail-panel").hidden = true; NT.setParams({ id: null }); });
    document.addEventListener("click", function (e) {
      var b = e.target.closest ? e.target.closest(".nc-factor-open, .nc-dataset-open") : null;
      if (!b) return;
      if (b.dataset.id) openValue(b.dataset.id);
      else if (b.dataset.code) openDataset(b.dataset.code);
    });
    var tenants = NT.nodeSelect($("s-tenant"), { kinds: ["park", "enterprise"], blank: t("web.carbon.factors.no_tenant") })
      .catch(function () { return null; });
    return Promise.all([loadDatasets(), tenants]).then(function () {
      var work = [loadValues(Number(p.offset) || 0), runSelection(), loadGwp()];
      if (p.id) work.push(openValue(p.id, true).then(function () { $("fac-detail-panel").scrollIntoView(); }));
      return Promise.all(work);
    }).catch(function (err) { NT.error(message, err); });
  }

  start().then(NT.ready, NT.ready);
})();

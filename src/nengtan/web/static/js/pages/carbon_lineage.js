/* Shared display helpers of the carbon pages, as the global NC: labels, badges and the
 * drill-down view of a figure's lineage (数字溯源) — a source's formula with its numbers, its
 * parameters (value, unit, source, status, factor id), its activity data (meters, manual
 * entries, fuel deliveries, production, CEMS, entered values) and the evidence files under
 * them (name, SHA-256, uploader, time, download).
 *
 * Display only: every figure and every link comes from the API answer (GET
 * /api/inventories/{id}/lineage, /api/carbon/park-inventory); nothing is computed here. */
(function () {
  "use strict";
  var t = NT.t;
  var el = NT.el;
  var NC = {};
  window.NC = NC;

  /* The text of prefix+code, or the code itself when the catalogue has no such key. */
  NC.label = function (prefix, code) {
    if (code === null || code === undefined || code === "") return "—";
    var key = prefix + code;
    var text = t(key);
    return text === key ? String(code) : text;
  };

  /* tCO2e with one decimal (the precision reports use). */
  NC.tco2e = function (v) { return NT.fmt(v, 1); };

  /* A parameter or activity value: about six significant digits, never rounded to zero. */
  NC.num = function (v) {
    if (v === null || v === undefined || v === "" || isNaN(Number(v))) return "—";
    var a = Math.abs(Number(v));
    if (a === 0) return NT.fmt(0, 0);
    var digits = a >= 1e5 ? 0 : a >= 100 ? 2 : a >= 1 ? 4 : Math.min(8, 3 - Math.floor(Math.log10(a)) + 2);
    var text = NT.fmt(v, digits);
    return digits > 0 ? text.replace(/(\.\d*?)0+$/, "$1").replace(/\.$/, "") : text;
  };

  /* A column render showing a field as plain text: years, versions and categories are
   * numbers that must not get thousands separators or decimals. */
  NC.plain = function (key) {
    return function (row) { var v = row[key]; return v === null || v === undefined ? "—" : String(v); };
  };

  NC.badge = function (text, kind) {
    return el("span", { class: "nt-badge" + (kind ? " nt-badge-" + kind : ""), text: text });
  };

  /* Status of a factor value or parameter: verified / measured (ok), unverified (warn) ... */
  NC.valueStatus = function (status) {
    var kind = status === "verified" || status === "measured" ? "ok"
      : status === "unverified" || status === "demo" || status === "estimated" ? "warn" : "";
    return el("span", { class: "nt-badge nc-status" + (kind ? " nt-badge-" + kind : ""),
      dataset: { status: status || "" }, text: NC.label("web.carbon.value_status.", status) });
  };

  NC.invStatus = function (status) {
    var kind = status === "locked" ? "ok" : status === "draft" ? "warn" : "";
    return NC.badge(NC.label("web.carbon.status.", status || "new"), kind);
  };

  /* Text in the page language from an object with text/text_zh pairs (message, why, label). */
  NC.lang = function (obj, field) {
    if (!obj) return "";
    if (NT.lang === "en") return obj[field] || obj[field + "_zh"] || "";
    return obj[field + "_zh"] || obj[field] || "";
  };

  NC.name = function (obj) {
    if (!obj) return "";
    return NT.lang === "en" ? (obj.name_en || obj.name_zh || "") : (obj.name_zh || obj.name_en || "");
  };

  /* "Scope 1", "Source CEM-COAL", "Month 2025-03" ... for a figure spec of the lineage API. */
  NC.figureLabel = function (spec) {
    var i = spec.indexOf(":");
    if (i < 0) return NC.label("web.carbon.figure.", spec);
    var kind = spec.slice(0, i);
    var key = spec.slice(i + 1);
    var what = kind === "kind" ? NC.label("web.carbon.kind.", key)
      : kind === "facility" && (key === "none" || key === "") ? t("web.carbon.inventory.no_facility") : key;
    return NC.label("web.carbon.figure_kind.", kind) + " " + what;
  };

  /* A figure that opens its lineage: a button carrying the spec (the page listens for clicks). */
  NC.figureButton = function (spec, value, text) {
    return el("button", { type: "button", class: "nc-figure", dataset: { figure: spec },
      title: t("web.carbon.lineage.open"), text: text === undefined ? NC.tco2e(value) : text });
  };

  /* Does the user hold a grant on a whole park (a root of the tree)?  The ledger's entries and
   * proofs, and signing a checkpoint, name records of every tenant and need one.  Uses the
   * page context's root_scope when the console provides it, else a park among the scope nodes. */
  NC.rootScope = function () {
    var ctx = {};
    try { ctx = JSON.parse(document.getElementById("nt-context").textContent) || {}; } catch (e) { ctx = {}; }
    if (typeof ctx.root_scope === "boolean") return ctx.root_scope;
    return (NT.scope || []).some(function (n) { return n.kind === "park"; });
  };

  /* Save obj as a JSON file (a proof, a lineage) from the browser. */
  NC.downloadJson = function (filename, obj) {
    var blob = new Blob([JSON.stringify(obj, null, 2)], { type: "application/json" });
    var url = URL.createObjectURL(blob);
    var a = el("a", { href: url, download: filename });
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(function () { URL.revokeObjectURL(url); }, 1000);
  };

  /* key: value pairs as a definition list; values may be nodes. */
  NC.meta = function (pairs, cls) {
    var dl = el("dl", { class: "nc-meta" + (cls ? " " + cls : "") });
    pairs.forEach(function (p) {
      if (p[1] === null || p[1] === undefined || p[1] === "") return;
      var dd = el("dd");
      dd.appendChild(p[1] instanceof Node ? p[1] : document.createTextNode(String(p[1])));
      dl.appendChild(el("div", {}, [el("dt", { text: p[0] }), dd]));  // a pair stays together
    });
    return dl;
  };

  function apiLink(href, text) {
    return href ? el("a", { href: href, class: "nc-api-link", target: "_blank", rel: "noopener", text: text || t("web.carbon.common.json") }) : null;
  }

  /* Query parameter of an API URL given in lineage (start/end of a readings link). */
  function queryOf(url, name) {
    try { return new URL(url, location.origin).searchParams.get(name); } catch (e) { return null; }
  }

  // -- evidence files ---------------------------------------------------------------------
  NC.evidenceTable = function (files) {
    var box = el("div", { class: "nc-evidence" });
    NT.table(box, [
      { key: "filename", label: t("web.carbon.evidence.file"),
        render: function (f) { return el("span", { class: "nc-evidence-name", text: f.filename }); } },
      { key: "sha256", label: "SHA-256",
        render: function (f) { return el("code", { class: "nt-mono nc-sha", text: f.sha256 }); } },
      { key: "size", label: t("web.carbon.evidence.size"), align: "right",
        render: function (f) { return NT.fmt(f.size, 0); } },
      { key: "uploaded_by", label: t("web.carbon.evidence.uploader") },
      { key: "uploaded_at", label: t("web.carbon.evidence.uploaded_at"),
        render: function (f) { return NT.fmtTime(f.uploaded_at); } },
      { key: "download", label: "",
        render: function (f) {
          var id = f.evidence_id || f.id;
          return el("a", { href: "/api/evidence/" + id + "/content", download: f.filename,
            class: "nt-btn nt-btn-small nc-evidence-download", dataset: { evidence: id, sha256: f.sha256 },
            text: t("web.carbon.evidence.download") });
        } }
    ], files, { empty: t("web.carbon.evidence.none") });
    return box;
  };

  // -- one manual entry (who entered, submitted and reviewed it) with its evidence ------------
  function entryBlock(e) {
    var head = el("div", { class: "nc-entry-head" }, [
      el("a", { href: NT.url("/data/entry", { id: e.manual_entry }), text: t("web.carbon.link.manual_entry") + " #" + e.manual_entry }),
      " v" + (e.version || "?") + " ",
      e.status ? NC.badge(NC.label("web.carbon.entry_status.", e.status), e.status === "approved" ? "ok" : "warn") : null
    ]);
    var meta = NC.meta([
      [t("web.carbon.entry.kind"), e.entry_kind ? NC.label("web.carbon.entry_kind.", e.entry_kind) : null],
      [t("web.carbon.entry.reading_ts"), e.reading_ts ? NT.fmtTime(e.reading_ts) : null],
      [t("web.carbon.entry.entered_by"), e.entered_by],
      [t("web.carbon.entry.submitted_by"), e.submitted_by],
      [t("web.carbon.entry.reviewed_by"), e.reviewed_by],
      [t("web.carbon.entry.reviewed_at"), e.reviewed_at ? NT.fmtTime(e.reviewed_at) : null],
      [t("web.carbon.entry.quantity"), e.quantity !== undefined && e.quantity !== null ? NC.num(e.quantity) + " " + (e.quantity_unit || "") : null],
      [t("web.carbon.entry.record"), e.record ? e.record.table + " #" + e.record.id : null]
    ], "nc-meta-inline");
    var kids = [head, meta];
    if (e.evidence) kids.push(NC.evidenceTable(e.evidence));
    return el("div", { class: "nc-entry" }, kids);
  }

  // -- one activity-data link ----------------------------------------------------------------
  function linkBlock(l) {
    var kind = l.kind;
    var title = [el("strong", { text: NC.label("web.carbon.link.", kind) })];
    var pairs = [];
    var extra = [];
    if (kind === "meter") {
      title.push(" ", el("a", { href: "/data/meters/" + l.meter_id, class: "nc-meter-link", text: l.meter }));
      pairs.push([t("web.carbon.link.meter_value"), NC.num(l.value) + " " + l.unit]);
      if (l.sign === -1) pairs.push([t("web.carbon.link.sign"), t("web.carbon.link.subtracted")]);
      pairs.push([t("web.carbon.link.coverage"), NT.fmt((l.coverage || 0) * 100, 1) + "\u00a0%"]);
      if (!l.has_data) pairs.push([t("web.carbon.link.data"), NC.badge(t("web.carbon.link.no_data"), "bad")]);
      var start = queryOf(l.readings, "start"), end = queryOf(l.readings, "end");
      pairs.push([t("web.carbon.link.readings"), el("span", {}, [
        el("a", { href: NT.url("/data/meters/" + l.meter_id, { start: start, end: end, view: "day" }), class: "nc-readings-link",
          text: t("web.carbon.link.readings_of", { start: start || "", end: end || "" }) }), " · ",
        apiLink(l.readings, t("web.carbon.link.readings_json")), " · ",
        apiLink(l.rollups, t("web.carbon.link.rollups_json"))])]);
      (l.manual_entries || []).forEach(function (e) { extra.push(entryBlock(e)); });
    } else if (kind === "manual_entry") {
      extra.push(entryBlock(l));
      if (l.counted === false) pairs.push([t("web.carbon.link.data"), NC.badge(t("web.carbon.link.not_counted"), "bad")]);
    } else if (kind === "fuel_deliveries") {
      pairs.push([t("web.carbon.link.deliveries"), NT.fmt(l.deliveries, 0)]);
      pairs.push([t("web.carbon.link.list"), apiLink(l.url)]);
      if (l.records && l.records.length) extra.push(deliveriesTable(l.records, false));
    } else if (kind === "production") {
      title.push(" ", l.product);
      pairs.push([t("web.carbon.link.output"), NC.num(l.output) + " " + l.unit]);
      pairs.push([t("web.carbon.link.records"), NT.fmt(l.records, 0) + (l.prorated_records ? " (" + t("web.carbon.link.prorated", { n: l.prorated_records }) + ")" : "")]);
      pairs.push([t("web.carbon.link.list"), apiLink(l.url)]);
    } else if (kind === "cems") {
      title.push(" ", l.monitor);
      var s = l.summary || {};
      pairs.push([t("web.carbon.link.cems_co2"), NC.num(l.co2_t) + " t"]);
      pairs.push([t("web.carbon.link.cems_hours"), t("web.carbon.link.cems_hours_text", { valid: s.valid_hours || 0, hours: s.hours || 0 })]);
      pairs.push([t("web.carbon.link.cems_capture"), s.data_capture_pct === null || s.data_capture_pct === undefined ? "—" : NT.fmt(s.data_capture_pct, 1) + "\u00a0%"]);
      if (l.method) pairs.push([t("web.carbon.lineage.method"), l.method.method]);
      pairs.push([t("web.carbon.link.list"), apiLink(l.hours)]);
    } else {  // value, green_certificate
      pairs.push([t("web.carbon.link.entered"), NC.num(l.value) + " " + (l.unit || "")]);
      if (l.share !== undefined && l.share !== 1) pairs.push([t("web.carbon.link.share"), NT.fmt((l.share || 0) * 100, 1) + "\u00a0%"]);
      pairs.push([t("web.carbon.link.source"), l.source]);
      pairs.push([t("web.carbon.link.reference"), l.reference]);
      if (l.period_start) pairs.push([t("web.carbon.common.period"), l.period_start + " – " + l.period_end]);
      if (l.evidence) extra.push(NC.evidenceTable(l.evidence));
    }
    var qty = l.quantity !== undefined && l.quantity !== null
      ? el("span", { class: "nc-link-qty", text: "→ " + NC.num(l.quantity) + " " + (l.quantity_unit || "") }) : null;
    return el("li", { class: "nc-link", dataset: { kind: kind } },
      [el("div", { class: "nc-link-head" }, title.concat([" ", qty])), NC.meta(pairs, "nc-meta-inline")].concat(extra));
  }

  function deliveriesTable(records, withLab) {
    var box = el("div");
    var cols = [
      { key: "delivered_on", label: t("web.carbon.delivery.date") },
      { key: "lot_no", label: t("web.carbon.delivery.lot") },
      { key: "quantity", label: t("web.carbon.delivery.quantity"), align: "right",
        render: function (r) { return NC.num(r.quantity) + " " + (r.unit || ""); } }
    ];
    if (withLab) {
      cols.push({ key: "ncv", label: t("web.carbon.delivery.ncv"), align: "right",
        render: function (r) { return r.ncv === null || r.ncv === undefined ? "—" : NC.num(r.ncv) + " " + (r.ncv_unit || ""); } });
      cols.push({ key: "carbon_content_pct", label: t("web.carbon.delivery.carbon"), align: "right",
        render: function (r) { return r.carbon_content_pct === null || r.carbon_content_pct === undefined ? "—" : NT.fmt(r.carbon_content_pct, 2) + "\u00a0%"; } });
      cols.push({ key: "lab", label: t("web.carbon.delivery.lab") });
      cols.push({ key: "report_no", label: t("web.carbon.delivery.report") });
      cols.push({ key: "test_method", label: t("web.carbon.delivery.method") });
    }
    cols.push({ key: "url", label: "", render: function (r) { return apiLink(r.url); } });
    NT.table(box, cols, records);
    var details = el("details", { class: "nc-records" }, [
      el("summary", { text: t("web.carbon.delivery.records", { n: records.length }) }), box]);
    return details;
  }

  // -- parameters ----------------------------------------------------------------------------
  function factorLink(p) {
    if (p.origin === "library" && p.factor_id && p.factor_id !== "given") {
      return el("a", { href: NT.url("/carbon/factors", { id: p.factor_id }), class: "nc-factor-link", text: "#" + p.factor_id });
    }
    return el("span", { class: "nt-muted", text: NC.label("web.carbon.param_origin.", p.origin || "given") });
  }

  NC.parameterTable = function (params) {
    var box = el("div", { class: "nc-params" });
    NT.table(box, [
      { key: "parameter", label: t("web.carbon.param.name"),
        render: function (p) { return NC.label("web.carbon.param.", p.parameter); } },
      { key: "value", label: t("web.carbon.param.value"), align: "right", render: function (p) { return NC.num(p.value); } },
      { key: "unit", label: t("web.carbon.common.unit") },
      { key: "status", label: t("web.carbon.common.status"), render: function (p) { return NC.valueStatus(p.status); } },
      { key: "source", label: t("web.carbon.param.source"),
        render: function (p) {
          var why = NC.lang(p, "why");
          return el("span", {}, [p.source || "—", p.clause ? el("span", { class: "nt-muted", text: " · " + p.clause }) : null,
            why ? el("div", { class: "nt-muted nc-why", text: why }) : null]);
        } },
      { key: "factor_id", label: t("web.carbon.param.factor"), render: factorLink }
    ], params, { empty: t("web.carbon.param.none") });
    return box;
  };

  // -- one source with its whole lineage -------------------------------------------------------
  NC.sourceCard = function (s) {
    var lin = s.lineage || {};
    var head = el("h3", { class: "nc-source-head" }, [
      el("span", { class: "nt-mono", text: s.source }), " ", NC.name(s), " ",
      el("span", { class: "nt-muted", text: NC.label("web.carbon.kind.", s.kind) + " · " + t("web.carbon.common.scope_n", { n: s.scope }) }),
      el("span", { class: "nc-source-value", text: NC.tco2e(s.tco2e) + " tCO2e" })
    ]);
    var kids = [head];
    var meth = lin.methodology || {};
    kids.push(NC.meta([
      [t("web.carbon.lineage.methodology"), meth.id ? NC.label("web.carbon.methodology.", meth.id) + " " + meth.version + " — " + (meth.document || "") : null],
      [t("web.carbon.lineage.method"), lin.method ? NC.label("web.carbon.method.", lin.method) : null],
      [t("web.carbon.common.gas"), s.gas],
      [t("web.carbon.lineage.market"), s.tco2e_market !== undefined && s.tco2e_market !== s.tco2e ? NC.tco2e(s.tco2e_market) + " tCO2e" : null],
      [t("web.carbon.lineage.definition"), lin.source_definition ? t("web.carbon.lineage.definition_text", { id: lin.source_definition.source_id, revision: lin.source_definition.revision }) : null]
    ], "nc-meta-inline"));
    if (lin.formula) {
      kids.push(el("h4", { text: t("web.carbon.lineage.formula") }));
      kids.push(el("pre", { class: "nc-formula", text: lin.formula }));
    }
    kids.push(el("h4", { text: t("web.carbon.lineage.parameters") }));
    kids.push(NC.parameterTable(lin.parameters || []));
    if (lin.gwp) {
      kids.push(el("p", { class: "nt-muted nc-gwp", text: t("web.carbon.lineage.gwp_text", {
        gas: lin.gwp.gas || s.gas, set: lin.gwp.set || lin.gwp.gwp_set || "", value: NC.num(lin.gwp.value),
        document: lin.gwp.document || "" }) }, [" ", factorLink(lin.gwp)]));
    }
    (lin.given_parameters || []).forEach(function (g) {
      if (!g.lab_records || !g.lab_records.length) return;
      kids.push(el("div", { class: "nc-given" }, [
        el("p", {}, [el("strong", { text: NC.label("web.carbon.param.", g.parameter) }), " = " + NC.num(g.value) + " " + g.unit + " · ",
          el("span", { class: "nt-muted", text: (g.formula || "") + " · " + (g.source || "") })]),
        deliveriesTable(g.lab_records, true)]));
    });
    var ad = lin.activity_data;
    if (ad) {
      kids.push(el("h4", { text: t("web.carbon.lineage.activity") }));
      kids.push(NC.meta([
        [t("web.carbon.lineage.quantity"), NC.num(ad.quantity) + " " + (ad.unit || "")],
        [t("web.carbon.link.coverage"), ad.coverage === undefined ? null : NT.fmt((ad.coverage || 0) * 100, 1) + "\u00a0%"],
        [t("web.carbon.lineage.green"), ad.green_mwh ? NC.num(ad.green_mwh) + " MWh" : null]
      ], "nc-meta-inline"));
      kids.push(el("ul", { class: "nc-links" }, (ad.links || []).map(linkBlock)));
    }
    return el("article", { class: "nc-source", dataset: { source: s.source } }, kids);
  };

  /* The answer of GET /api/inventories/{id}/lineage as a view. */
  NC.lineageView = function (data) {
    var out = el("div", { class: "nc-lineage-view", dataset: { figure: data.figure } });
    out.appendChild(el("p", { class: "nc-lineage-value" }, [
      el("strong", { text: NC.figureLabel(data.figure) }), " = ",
      el("span", { class: "nc-big", text: NC.tco2e(data.value) }), " " + data.unit + " · ",
      el("span", { class: "nt-muted", text: data.inventory + " v" + data.version + " · " }),
      NC.invStatus(data.status)]));
    var lin = data.lineage || {};
    if (lin.sum_of) {
      out.appendChild(el("p", { class: "nc-sum" }, [t("web.carbon.lineage.sum_of") + " "].concat(
        lin.sum_of.map(function (code) { return NC.figureButton("source:" + code, null, code); }))));
      if (lin.formula || lin.method) out.appendChild(el("pre", { class: "nc-formula", text: lin.formula || lin.method }));
    }
    if (data.month) {
      var m = data.month;
      out.appendChild(el("h4", { text: t("web.carbon.lineage.month_sources", { month: m.month }) }));
      var box = el("div");
      NT.table(box, [
        { key: "source", label: t("web.carbon.inventory.source"),
          render: function (p) { return NC.figureButton("source:" + p.source, null, p.source); } },
        { key: "quantity", label: t("web.carbon.lineage.quantity"), align: "right",
          render: function (p) { return NC.num(p.quantity) + " " + (p.unit || ""); } },
        { key: "tco2e", label: "tCO2e", fmt: 1 },
        { key: "formula", label: t("web.carbon.lineage.formula"),
          render: function (p) { return el("span", { class: "nt-mono", text: (p.lineage || {}).formula || "" }); } }
      ], m.sources || []);
      out.appendChild(box);
      out.appendChild(el("p", { class: "nt-muted", text: t("web.carbon.lineage.month_note") }));
    }
    out.appendChild(el("p", { class: "nt-muted nc-digest" }, [t("web.carbon.inventory.digest") + ": ", el("code", { class: "nt-mono", text: data.digest })]));
    (data.sources || []).forEach(function (s) { out.appendChild(NC.sourceCard(s)); });
    return out;
  };
})();

/* 手工填报 Manual entry list and new-entry form.
 *
 * window.NTData: helpers shared with the entry page (entry.html loads this file first):
 * the field catalogue (GET /api/manual-entries/fields), a payload form built from it, payload
 * summaries, status badges and the table of an API 422 answer.  The list itself starts only
 * on the entries page.
 *
 * List: GET /api/manual-entries?status=&kind=&tenant=&created_by=&limit=&offset=, newest
 * first; status=submitted is the review queue.  New entry: POST /api/manual-entries as a
 * draft, then the evidence file (POST /api/manual-entries/{id}/evidence, multipart), then, if
 * asked, POST .../submit — each step answered by the API, which also applies the four-eyes
 * rule at review. */
(function () {
  "use strict";

  var $ = function (id) { return document.getElementById(id); };
  var catalogue = null;
  var refLists = {};

  /* Where a field's suggestions come from (codes of what the user may see). */
  var REFS = {
    meter: function () { return NT.api("/api/meters", { query: { limit: 1000 } }).then(function (p) { return p.items; }); },
    node: function () { return NT.nodes(); },
    product: function () { return NT.api("/api/products", { query: { limit: 1000 } }).then(function (p) { return p.items; }); },
    carrier: function () { return NT.api("/api/carriers", { query: { limit: 1000 } }).then(function (p) { return p.items; }); }
  };

  var BADGE = { approved: "nt-badge-ok", submitted: "nt-badge-warn", rejected: "nt-badge-bad", retracted: "nt-badge-bad" };

  var D = window.NTData = {};

  D.fields = function () {
    if (!catalogue) catalogue = NT.api("/api/manual-entries/fields");
    return catalogue;
  };

  D.fieldLabel = function (f) {
    var text = NT.lang === "en" ? f.label_en : f.label_zh;
    return f.unit ? text + " (" + f.unit + ")" : text;
  };

  D.statusBadge = function (status) {
    return NT.el("span", { class: "nt-badge " + (BADGE[status] || ""), "data-status": status,
      text: NT.t("web.data.status." + status) });
  };

  function refList(ref) {
    var id = "dt-ref-" + ref;
    if (!refLists[ref] && REFS[ref]) {
      var list = document.body.appendChild(NT.el("datalist", { id: id }));
      refLists[ref] = REFS[ref]().then(function (items) {
        items.forEach(function (o) { list.appendChild(NT.el("option", { value: o.code, label: NT.name(o) })); });
      }).catch(function () { /* suggestions only: the API still checks the code */ });
    }
    return REFS[ref] ? id : null;
  }

  /* "2026-01-01T00:00:00+08:00" → "2026-01-01T00:00" for a datetime-local input (the API reads
   * a time without offset in the site's timezone, which is the offset shown). */
  function inputValue(f, value) {
    if (value === null || value === undefined) return f.default === null || f.default === undefined ? "" : String(f.default);
    if (f.kind === "datetime") return String(value).slice(0, 16);
    return String(value);
  }

  /* Inputs for the payload fields of `kind` into `box`, filled from `payload`. */
  D.payloadForm = function (box, kind, payload, prefix) {
    return D.fields().then(function (all) {
      box.textContent = "";
      (all[kind] || []).forEach(function (f) {
        var id = prefix + "-" + f.name, value = payload ? payload[f.name] : null, el;
        if (f.kind === "bool") {
          el = NT.el("input", { id: id, type: "checkbox", "data-field": f.name, checked: value === null || value === undefined ? !!f.default : !!value });
          box.appendChild(NT.el("label", { class: "dt-field dt-check", title: f.help || null }, [el, " " + D.fieldLabel(f)]));
          return;
        }
        if (f.choices) {
          el = NT.el("select", { id: id, class: "nt-input", "data-field": f.name }, [NT.el("option", { value: "", text: "—" })].concat(
            f.choices.map(function (c) { return NT.el("option", { value: String(c), text: String(c) }); })));
        } else {
          var type = { float: "number", int: "number", date: "date", datetime: "datetime-local" }[f.kind] || "text";
          el = NT.el("input", { id: id, type: type, class: "nt-input", "data-field": f.name,
            step: f.kind === "float" ? "any" : f.kind === "int" ? "1" : null,
            min: f.minimum !== null && f.minimum !== undefined ? f.minimum : null,
            maxlength: f.max_length || null, required: f.required || null,
            list: f.ref ? refList(f.ref) : null });
        }
        el.value = inputValue(f, value);
        box.appendChild(NT.el("label", { class: "dt-field", title: f.help || null }, [D.fieldLabel(f) + (f.required ? " *" : ""), el]));
      });
    });
  };

  /* The payload typed into a form made by payloadForm; empty inputs are left out. */
  D.readPayload = function (kind, prefix) {
    return D.fields().then(function (all) {
      var out = {};
      (all[kind] || []).forEach(function (f) {
        var el = $(prefix + "-" + f.name);
        if (!el) return;
        if (f.kind === "bool") { out[f.name] = el.checked; return; }
        var v = el.value.trim();
        if (v === "") return;
        out[f.name] = f.kind === "float" || f.kind === "int" ? Number(v) : v;
      });
      return out;
    });
  };

  /* One line saying what an entry is about: its required fields' values. */
  D.summary = function (fields, kind, payload) {
    if (!payload) return NT.t("web.data.entry.retract_summary");
    return (fields[kind] || []).filter(function (f) { return f.required && payload[f.name] !== undefined && payload[f.name] !== null; })
      .map(function (f) {
        var v = payload[f.name];
        if (typeof v === "number") return NT.fmt(v);
        if (f.kind === "datetime") return String(v).slice(0, 16).replace("T", " ");
        return String(v);
      }).join(" · ");
  };

  // -- the list page ---------------------------------------------------------------------
  var PAGE = 50;
  var offset = 0;

  function filters() {
    return {
      status: $("entries-status").value || null, kind: $("entries-kind").value || null,
      tenant: $("entries-tenant").value || null,
      created_by: $("entries-mine").checked ? NT.user : null
    };
  }

  function load() {
    var f = filters();
    NT.setParams({ status: f.status, kind: f.kind, tenant: f.tenant, mine: f.created_by ? "1" : null, offset: offset || null });
    $("entries-error").textContent = "";
    return Promise.all([D.fields(), NT.api("/api/manual-entries", { query: Object.assign({ limit: PAGE, offset: offset }, f) })])
      .then(function (answers) { draw(answers[0], answers[1]); })
      .catch(function (err) { NT.error($("entries-error"), err); });
  }

  function draw(fields, page) {
    $("entries-total").textContent = NT.t("web.data.common.total", { n: page.total });
    NT.table($("entries-table"), [
      { key: "id", label: NT.t("web.data.entries.number"), render: function (e) {
        return NT.el("a", { href: NT.url("/data/entry", { id: e.id }), class: "dt-entry-link", text: "#" + e.id });
      } },
      { key: "kind", label: NT.t("web.data.entries.kind"), fmt: function (v) { return NT.t("web.data.entry_kind." + v); } },
      { key: "tenant", label: NT.t("web.data.entries.tenant") },
      { key: "status", label: NT.t("web.data.entries.status"), render: function (e) { return D.statusBadge(e.status); } },
      { key: "latest_version", label: NT.t("web.data.entries.version"), align: "left", fmt: function (v, e) {
        return "v" + v + (e.approved_version ? " (" + NT.t("web.data.entries.in_force", { v: e.approved_version }) + ")" : "");
      } },
      { key: "payload", label: NT.t("web.data.entries.subject"), fmt: function (v, e) { return D.summary(fields, e.kind, v); } },
      { key: "created_by", label: NT.t("web.data.entries.created_by") },
      { key: "submitted_by", label: NT.t("web.data.entries.submitted_by") },
      { key: "updated_at", label: NT.t("web.data.entries.updated_at"), fmt: function (v) { return NT.fmtTime(v); } }
    ], page.items, { empty: NT.t("web.data.entries.empty") });
    var last = Math.min(page.offset + page.items.length, page.total);
    $("entries-range").textContent = page.total ? NT.t("web.data.common.range", { from: page.offset + 1, to: last, total: page.total }) : "";
    $("entries-prev").disabled = page.offset <= 0;
    $("entries-next").disabled = last >= page.total;
  }

  function queueCount() {
    return NT.api("/api/manual-entries", { query: { status: "submitted", limit: 1 } }).then(function (p) {
      $("entries-queue-count").textContent = String(p.total);
    });
  }

  function openForm() {
    $("entries-form-panel").hidden = false;
    $("entries-form-error").textContent = "";
    return D.payloadForm($("entries-form-fields"), $("entries-form-kind").value, null, "entries-form-p");
  }

  /* Create the draft, attach the file, submit if asked; then open the entry.  A step that
   * fails after the draft exists says so and links the draft (nothing typed is lost). */
  function create(ev) {
    ev.preventDefault();
    var submit = ev.submitter ? ev.submitter.value === "submit" : false;
    var kind = $("entries-form-kind").value;
    var file = $("entries-form-file").files[0];
    var errBox = $("entries-form-error");
    var created = null;
    errBox.textContent = "";
    $("entries-save").disabled = $("entries-submit").disabled = true;
    D.readPayload(kind, "entries-form-p").then(function (payload) {
      return NT.api("/api/manual-entries", { method: "POST", body: {
        kind: kind, payload: payload, note: $("entries-form-note").value.trim() || null, submit: false } });
    }).then(function (entry) {
      created = entry;
      if (!file) return entry;
      var form = new FormData();
      form.append("file", file);
      var description = $("entries-form-file-description").value.trim();
      if (description) form.append("description", description);
      return NT.api("/api/manual-entries/" + entry.id + "/evidence", { method: "POST", form: form });
    }).then(function (entry) {
      if (!submit) return entry;
      return NT.api("/api/manual-entries/" + entry.id + "/submit", { method: "POST", body: { version: entry.latest_version } });
    }).then(function (entry) {
      location.assign(NT.url("/data/entry", { id: entry.id, created: "1" }));
    }).catch(function (err) {
      NT.issues(errBox, err);
      if (created) {
        errBox.appendChild(NT.el("p", {}, [NT.t("web.data.entries.draft_kept") + " ",
          NT.el("a", { href: NT.url("/data/entry", { id: created.id }), text: "#" + created.id })]));
      }
      $("entries-save").disabled = $("entries-submit").disabled = false;
    });
  }

  function start() {
    var params = NT.params();
    offset = Number(params.offset) || 0;
    $("entries-status").value = params.status || "";
    $("entries-kind").value = params.kind || "";
    $("entries-mine").checked = params.mine === "1";
    ["entries-status", "entries-kind", "entries-tenant", "entries-mine"].forEach(function (id) {
      $(id).addEventListener("change", function () { offset = 0; load(); });
    });
    $("entries-filter").addEventListener("submit", function (ev) { ev.preventDefault(); offset = 0; load(); });
    $("entries-prev").addEventListener("click", function () { offset = Math.max(0, offset - PAGE); load(); });
    $("entries-next").addEventListener("click", function () { offset += PAGE; load(); });
    var canApprove = NT.can("data.approve"), canSubmit = NT.can("data.submit");
    $("entries-queue").hidden = !canApprove;
    $("entries-new").hidden = !canSubmit;
    $("entries-queue").addEventListener("click", function () {
      $("entries-status").value = "submitted"; offset = 0; load();
    });
    $("entries-new").addEventListener("click", openForm);
    $("entries-cancel").addEventListener("click", function () { $("entries-form-panel").hidden = true; });
    $("entries-form-kind").addEventListener("change", openForm);
    $("entries-form").addEventListener("submit", create);
    var waits = [NT.nodeSelect($("entries-tenant"), { kinds: ["park", "enterprise"], blank: NT.t("web.data.common.all"), value: params.tenant })];
    if (canApprove) waits.push(queueCount());
    if (params["new"] === "1" && canSubmit) waits.push(openForm());
    Promise.all(waits).then(load).catch(function (err) { NT.error($("entries-error"), err); }).then(NT.ready);
  }

  if (NT.page === "entries") start();
})();

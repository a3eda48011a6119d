/* 填报详情 One manual entry (/data/entry?id=N).
 *
 * Reads GET /api/manual-entries/{id} (versions with evidence) and GET .../audit.  Offers the
 * actions the latest version's status allows — submit, withdraw, approve, reject (comment),
 * change the draft (PUT), revise (new version), retract, upload or detach evidence — each
 * sent with the version the user saw, so a newer version makes the API refuse rather than
 * apply it to something unseen.  Buttons follow the user's permissions (data.submit,
 * data.approve) and hide review from whoever entered or submitted the version (four-eyes
 * rule); the API enforces all of it.  Uses window.NTData from entries.js. */
(function () {
  "use strict";

  var D = window.NTData;
  var $ = function (id) { return document.getElementById(id); };
  var entryId = Number(NT.params().id);
  var entry = null, fields = {}, reviewMode = null, payloadMode = null;

  function latest() { return entry.versions[entry.versions.length - 1]; }
  function api(path, options) { return NT.api("/api/manual-entries/" + entryId + (path || ""), options); }

  function bytes(n) {
    if (n === null || n === undefined) return "—";
    if (n < 1024) return NT.fmt(n, 0) + "\u00a0B";
    if (n < 1048576) return NT.fmt(n / 1024, 1) + "\u00a0KiB";
    return NT.fmt(n / 1048576, 1) + "\u00a0MiB";
  }

  // -- drawing ---------------------------------------------------------------------------
  function card(label, value) {
    return NT.el("div", { class: "nt-card" }, [NT.el("div", { class: "nt-kpi-label", text: label }),
      NT.el("div", { class: "dt-card-value" }, [value === null || value === undefined || value === "" ? "—" : value])]);
  }

  function drawHead() {
    $("entry-title").textContent = NT.t("web.data.entry.heading", { id: entry.id, kind: NT.t("web.data.entry_kind." + entry.kind) });
    document.title = "#" + entry.id + " · " + document.title;
    var status = $("entry-status");
    status.textContent = "";
    status.appendChild(D.statusBadge(entry.status));
    var cards = $("entry-cards");
    cards.textContent = "";
    cards.appendChild(card(NT.t("web.data.entries.tenant"), entry.tenant));
    cards.appendChild(card(NT.t("web.data.entries.version"), "v" + entry.latest_version));
    cards.appendChild(card(NT.t("web.data.entry.approved_version"), entry.approved_version ? "v" + entry.approved_version : null));
    cards.appendChild(card(NT.t("web.data.entries.created_by"), entry.created_by + " · " + NT.fmtTime(entry.created_at)));
    cards.appendChild(card(NT.t("web.data.entries.subject"), D.summary(fields, entry.kind, entry.payload)));
  }

  function payloadList(kind, payload, previous) {
    var dl = NT.el("dl", { class: "dt-dl" });
    if (!payload) {
      dl.appendChild(NT.el("dt", { text: NT.t("web.data.entry.retract") }));
      dl.appendChild(NT.el("dd", { text: NT.t("web.data.entry.retract_summary") }));
      return dl;
    }
    (fields[kind] || []).forEach(function (f) {
      var v = payload[f.name];
      if (v === undefined || v === null) return;
      var changed = previous && JSON.stringify(previous[f.name]) !== JSON.stringify(v);
      dl.appendChild(NT.el("dt", { text: D.fieldLabel(f) }));
      dl.appendChild(NT.el("dd", { class: changed ? "dt-changed" : null, title: changed ? NT.t("web.data.entry.changed") : null,
        text: f.kind === "datetime" ? String(v).replace("T", " ") : String(v) }));  // exact, as stored: a reviewer checks digits
    });
    return dl;
  }

  function evidenceTable(version, open) {
    var box = NT.el("div", { class: "dt-evidence" });
    var columns = [
      { key: "filename", label: NT.t("web.data.entry.filename"), render: function (f) {
        return NT.el("a", { href: f.url, download: f.filename, class: "dt-evidence-link", text: f.filename });
      } },
      { key: "size", label: NT.t("web.data.entry.size"), fmt: bytes, align: "right" },
      { key: "sha256", label: "SHA-256", render: function (f) { return NT.el("span", { class: "nt-mono dt-sha", text: f.sha256 }); } },
      { key: "description", label: NT.t("web.data.entry.file_description") },
      { key: "uploaded_by", label: NT.t("web.data.entry.uploaded_by"), fmt: function (v, f) { return v + " · " + NT.fmtTime(f.uploaded_at); } }
    ];
    if (open && NT.can("data.submit")) {
      columns.push({ key: "id", label: "", render: function (f) {
        return NT.el("button", { type: "button", class: "nt-btn nt-btn-small", text: NT.t("web.data.entry.detach"),
          onclick: function () { act(api("/evidence/" + f.id, { method: "DELETE" }), "web.data.entry.detached"); } });
      } });
    }
    NT.table(box, columns, version.evidence, { empty: NT.t("web.data.entry.no_evidence") });
    return box;
  }

  function who(name, at) { return name ? name + " · " + NT.fmtTime(at) : "—"; }

  function drawVersions() {
    var box = $("entry-versions");
    box.textContent = "";
    var versions = entry.versions.slice();
    versions.reverse().forEach(function (v) {
      var prev = entry.versions[v.version - 2];
      var open = v.version === entry.latest_version && (v.status === "draft" || v.status === "submitted");
      var head = NT.el("h3", {}, ["v" + v.version + " ", D.statusBadge(v.status)]);
      if (entry.approved_version === v.version) head.appendChild(NT.el("span", { class: "nt-badge nt-badge-ok dt-in-force", text: NT.t("web.data.entry.in_force") }));
      var meta = NT.el("dl", { class: "dt-dl dt-dl-compact" });
      [["web.data.entry.entered", who(v.created_by, v.created_at)],
        ["web.data.entry.submitted", who(v.submitted_by, v.submitted_at)],
        ["web.data.entry.reviewed", who(v.reviewed_by, v.reviewed_at)],
        ["web.data.entry.comment", v.review_comment],
        ["web.data.entry.note", v.note],
        ["web.data.entry.applied", v.applied ? v.applied.table + " #" + v.applied.id + (v.applied.batch_id ? " · " + NT.t("web.data.meter.batch") + " " + v.applied.batch_id : "") : null]
      ].forEach(function (pair) {
        if (pair[1] === null || pair[1] === undefined || pair[1] === "") return;
        meta.appendChild(NT.el("dt", { text: NT.t(pair[0]) }));
        meta.appendChild(NT.el("dd", { text: pair[1] }));
      });
      box.appendChild(NT.el("article", { class: "dt-version", "data-version": String(v.version) }, [
        head,
        NT.el("div", { class: "dt-version-body" }, [
          NT.el("div", {}, [NT.el("h4", { text: NT.t("web.data.entry.payload") }), payloadList(entry.kind, v.payload, prev && prev.payload)]),
          NT.el("div", {}, [NT.el("h4", { text: NT.t("web.data.entry.review") }), meta])
        ]),
        NT.el("h4", { text: NT.t("web.data.entry.evidence") }),
        evidenceTable(v, open)
      ]));
    });
  }

  function auditDetail(row) {
    var d = row.detail || {};
    var parts = [];
    if (d.version) parts.push("v" + d.version);
    if (d.comment) parts.push(d.comment);
    if (d.filename) parts.push(d.filename);
    if (d.sha256) parts.push("SHA-256 " + d.sha256.slice(0, 12) + "…");
    if (d.note) parts.push(d.note);
    return parts.join(" · ") || "—";
  }

  function drawAudit(rows) {
    NT.table($("entry-audit"), [
      { key: "ts", label: NT.t("web.data.entry.time"), fmt: function (v) { return NT.fmtTime(v, true); } },
      { key: "user", label: NT.t("web.data.entry.user") },
      { key: "action", label: NT.t("web.data.entry.action"), fmt: function (v) {
        var key = "web.data.action." + v.replace(".", "_"), text = NT.t(key);
        return text === key ? v : text;
      } },
      { key: "detail", label: NT.t("web.data.entry.detail"), fmt: function (v, r) { return auditDetail(r); } },
      { key: "source", label: NT.t("web.data.entry.source") },
      { key: "hash", label: NT.t("web.data.entry.hash"), render: function (r) {
        return NT.el("span", { class: "nt-mono", title: r.hash, text: r.hash.slice(0, 16) + "…" });
      } }
    ], rows, { empty: NT.t("web.data.entry.no_audit") });
  }

  // -- actions ---------------------------------------------------------------------------
  function show(id, on) { $(id).hidden = !on; }

  function drawActions() {
    var v = latest(), me = NT.user;
    var canSubmit = NT.can("data.submit"), canApprove = NT.can("data.approve");
    var mine = me === v.created_by || me === v.submitted_by;
    var s = v.status;
    show("entry-submit", s === "draft" && canSubmit);
    show("entry-edit", s === "draft" && canSubmit && me === v.created_by);
    show("entry-withdraw", (s === "draft" || s === "submitted") && canSubmit && mine);
    show("entry-approve", s === "submitted" && canApprove && !mine);
    show("entry-reject", s === "submitted" && canApprove && !mine);
    show("entry-four-eyes", s === "submitted" && canApprove && mine);
    show("entry-revise", (s === "approved" || s === "rejected" || s === "withdrawn") && canSubmit);
    show("entry-retract", s === "approved" && !v.retract && canSubmit);
    show("entry-upload-form", (s === "draft" || s === "submitted") && canSubmit);
    var any = Array.prototype.some.call($("entry-actions").children, function (b) { return !b.hidden; }) ||
      !$("entry-upload-form").hidden || !$("entry-four-eyes").hidden;
    $("entry-actions-panel").hidden = !any;
    $("entry-actions-version").textContent = NT.t("web.data.entry.acting_on", { v: v.version, status: NT.t("web.data.status." + s) });
  }

  function reload() {
    return Promise.all([api(), api("/audit")]).then(function (answers) {
      entry = answers[0];
      drawHead();
      drawVersions();
      drawAudit(answers[1]);
      drawActions();
    });
  }

  /* Run one API action, then show the entry as it now is (or the API's reasons). */
  function act(promise, noticeKey) {
    $("entry-action-error").textContent = "";
    return promise.then(function () {
      $("entry-review-form").hidden = true;
      $("entry-payload-form").hidden = true;
      NT.notice(NT.t(noticeKey));
      return reload();
    }).catch(function (err) { NT.issues($("entry-action-error"), err); });
  }

  function openReview(mode) {
    reviewMode = mode;
    $("entry-payload-form").hidden = true;
    $("entry-review-form").hidden = false;
    $("entry-comment").value = "";
    $("entry-comment").required = mode === "reject";  // the API requires a reason to reject
    $("entry-comment-required").hidden = !$("entry-comment").required;
    $("entry-review-confirm").textContent = NT.t("web.data.entry.confirm_" + mode);
    $("entry-review-confirm").className = "nt-btn " + (mode === "approve" ? "nt-btn-primary" : "nt-btn-danger");
    $("entry-comment").focus();
  }

  function confirmReview(ev) {
    ev.preventDefault();
    var comment = $("entry-comment").value.trim() || null;
    var version = entry.latest_version;
    if (reviewMode === "retract") {
      act(api("/revise", { method: "POST", body: { retract: true, note: comment, submit: true, version: version } }), "web.data.entry.done_retract");
    } else {
      act(api("/" + reviewMode, { method: "POST", body: { comment: comment, version: version } }), "web.data.entry.done_" + reviewMode);
    }
  }

  function openPayload(mode) {
    payloadMode = mode;
    var v = latest();
    $("entry-review-form").hidden = true;
    $("entry-payload-title").textContent = NT.t(mode === "edit" ? "web.data.entry.edit_draft" : "web.data.entry.revise_title", { v: entry.latest_version + 1 });
    $("entry-payload-note").value = mode === "edit" ? (v.note || "") : "";
    $("entry-payload-submit-label").hidden = mode === "edit";
    $("entry-payload-submit").checked = mode !== "edit";
    var base = v.payload || (entry.approved_version ? entry.versions[entry.approved_version - 1].payload : null);
    D.payloadForm($("entry-payload-fields"), entry.kind, base, "entry-p").then(function () {
      $("entry-payload-form").hidden = false;
    });
  }

  function savePayload(ev) {
    ev.preventDefault();
    var note = $("entry-payload-note").value.trim() || null;
    D.readPayload(entry.kind, "entry-p").then(function (payload) {
      if (payloadMode === "edit") {
        return act(api("", { method: "PUT", body: { payload: payload, note: note, version: entry.latest_version } }), "web.data.common.saved");
      }
      return act(api("/revise", { method: "POST", body: { payload: payload, note: note, version: entry.latest_version,
        submit: $("entry-payload-submit").checked } }), "web.data.entry.done_revise");
    });
  }

  function upload(ev) {
    ev.preventDefault();
    var file = $("entry-file").files[0];
    if (!file) return;
    var form = new FormData();
    form.append("file", file);
    var description = $("entry-file-description").value.trim();
    if (description) form.append("description", description);
    $("entry-upload").disabled = true;
    act(api("/evidence", { method: "POST", form: form }), "web.data.entry.uploaded").then(function () {
      $("entry-upload-form").reset();
      $("entry-upload").disabled = false;
    });
  }

  function start() {
    $("entry-submit").addEventListener("click", function () {
      act(api("/submit", { method: "POST", body: { version: entry.latest_version } }), "web.data.entry.done_submit");
    });
    $("entry-approve").addEventListener("click", function () { openReview("approve"); });
    $("entry-reject").addEventListener("click", function () { openReview("reject"); });
    $("entry-withdraw").addEventListener("click", function () { openReview("withdraw"); });
    $("entry-retract").addEventListener("click", function () { openReview("retract"); });
    $("entry-edit").addEventListener("click", function () { openPayload("edit"); });
    $("entry-revise").addEventListener("click", function () { openPayload("revise"); });
    $("entry-review-form").addEventListener("submit", confirmReview);
    $("entry-review-cancel").addEventListener("click", function () { $("entry-review-form").hidden = true; });
    $("entry-payload-form").addEventListener("submit", savePayload);
    $("entry-payload-cancel").addEventListener("click", function () { $("entry-payload-form").hidden = true; });
    $("entry-upload-form").addEventListener("submit", upload);
    if (!entryId) {
      NT.error($("entry-error"), NT.t("web.data.entry.no_id"));
      NT.ready();
      return;
    }
    D.fields().then(function (f) { fields = f; return reload(); }).then(function () {
      if (NT.params().created === "1") { NT.notice(NT.t("web.data.common.saved")); NT.setParams({ created: null }); }
    }).catch(function (err) { NT.error($("entry-error"), err); }).then(NT.ready);
  }

  start();
})();

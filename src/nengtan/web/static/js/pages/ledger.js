/* 证据账本 / Evidence ledger: its status (entries per kind, tree size, latest signed
 * checkpoint, public key — GET /api/ledger/status), the signed checkpoints, a verification run
 * that recomputes every record (GET /api/ledger/verify: all match, or each mismatch named in
 * the page language), the entries, and an entry's inclusion proof (GET
 * /api/ledger/entries/{id}/proof) shown and downloadable as the JSON file a verifier checks
 * offline.  ?entry=N opens that entry's proof (inventory pages link their result entry). */
(function () {
  "use strict";
  var t = NT.t;
  var el = NT.el;
  function $(id) { return document.getElementById(id); }
  var PAGE = 50;  // entries per page
  var message = $("led-message");

  function shortHash(h) { return h ? el("code", { class: "nt-mono", title: h, text: h.slice(0, 16) + "…" }) : "—"; }
  function kindLabel(k) { return NC.label("web.carbon.ledger.kind_name.", k); }

  function status() {
    return NT.api("/api/ledger/status").then(function (s) {
      var kp = $("led-kpis");
      kp.textContent = "";
      var cp = s.latest_checkpoint;
      [[t("web.carbon.ledger.entries_n"), NT.fmt(s.entries, 0), s.hash_alg],
       [t("web.carbon.ledger.signed_size"), cp ? NT.fmt(cp.tree_size, 0) : "—", cp ? NT.fmtTime(cp.created_at) : t("web.carbon.ledger.no_checkpoint")],
       [t("web.carbon.ledger.unsigned"), NT.fmt(s.unsigned_entries, 0), ""],
       [t("web.carbon.ledger.root"), cp ? cp.root_hash.slice(0, 12) + "…" : "—", cp ? "key " + cp.key_id : ""]
      ].forEach(function (c, i) {
        kp.appendChild(el("div", { class: "nt-card" }, [el("div", { class: "nt-kpi-label", text: c[0] }),
          el("div", { class: "nt-kpi-value" + (i === 3 ? " nc-kpi-hash" : ""), title: i === 3 && cp ? cp.root_hash : null, text: c[1] }),
          el("div", { class: "nt-kpi-sub", text: c[2] })]));
      });
      var rows = Object.keys(s.by_kind).sort().map(function (k) { return { kind: k, n: s.by_kind[k] }; });
      NT.table($("led-kinds"), [
        { key: "kind", label: t("web.carbon.ledger.kind"), render: function (r) { return kindLabel(r.kind) + " (" + r.kind + ")"; } },
        { key: "n", label: t("web.carbon.ledger.entries_n"), fmt: 0 }
      ], rows);
      var sel = $("led-kind");
      if (sel.options.length <= 1) {
        s.kinds_registered.forEach(function (k) { sel.appendChild(el("option", { value: k, text: kindLabel(k) })); });
        sel.value = NT.params().kind || "";
      }
      var key = $("led-key");
      key.textContent = "";
      if (s.public_key) {
        key.appendChild(NC.meta([[t("web.carbon.ledger.key_id"), s.public_key.key_id],
          ["Ed25519", el("code", { class: "nt-mono", text: s.public_key.ed25519_hex })]]));
        key.appendChild(el("pre", { class: "nc-formula", text: s.public_key.pem }));
      } else {
        key.appendChild(el("p", { class: "nt-empty", text: t("web.carbon.ledger.no_key") }));
      }
    });
  }

  function checkpoints() {
    return NT.api("/api/ledger/checkpoints", { query: { limit: 1000 } }).then(function (page) {
      NT.table($("led-checkpoints"), [
        { key: "id", label: "ID", render: function (c) { return "#" + c.id; } },
        { key: "tree_size", label: t("web.carbon.ledger.tree_size"), fmt: 0 },
        { key: "root_hash", label: t("web.carbon.ledger.root"), render: function (c) { return el("code", { class: "nt-mono", text: c.root_hash }); } },
        { key: "signature", label: t("web.carbon.ledger.signature"),
          render: function (c) {
            return el("details", {}, [el("summary", { text: c.hash_alg + " · Ed25519 · " + c.key_id }),
              el("pre", { class: "nc-formula", text: c.note }), el("code", { class: "nt-mono", text: c.signature })]);
          } },
        { key: "created", label: t("web.carbon.ledger.signed_at"), render: function (c) { return NT.fmtTime(c.created_at) + (c.created_by ? " · " + c.created_by : ""); } }
      ], page.items.slice().reverse(), { empty: t("web.carbon.ledger.no_checkpoint") });
    });
  }

  function problemList(title, items, labelOf) {
    if (!items || !items.length) return null;
    return el("div", { class: "nc-problems" }, [el("h3", { text: title }),
      el("ul", { class: "nt-list" }, items.map(function (m) {
        return el("li", { class: "nc-mismatch" }, [NC.badge(NC.label("web.carbon.ledger.problem.", m.problem), "bad"), " ",
          el("span", { text: labelOf(m) })]);
      }))]);
  }

  function verify() {
    var box = $("led-verify-result");
    var button = $("led-verify");
    button.disabled = true;
    box.textContent = "";
    box.appendChild(el("p", { class: "nt-muted", text: t("web.carbon.ledger.verifying") }));
    return NT.api("/api/ledger/verify").then(function (r) {
      box.textContent = "";
      box.appendChild(el("p", { class: "nc-verdict", id: "led-verdict", dataset: { ok: r.ok ? "1" : "0" } }, [
        NC.badge(t(r.ok ? "web.carbon.ledger.all_match" : "web.carbon.ledger.mismatch"), r.ok ? "ok" : "bad"), " ",
        t("web.carbon.ledger.verify_summary", { checked: NT.fmt(r.checked, 0), records: NT.fmt(r.records, 0), entries: NT.fmt(r.entries, 0),
          checkpoints: r.checkpoints, signed: NT.fmt(r.signed_size, 0) })]));
      box.appendChild(NC.meta([
        [t("web.carbon.ledger.root"), el("code", { class: "nt-mono", text: r.root_hash })],
        [t("web.carbon.ledger.superseded"), NT.fmt(r.superseded, 0)],
        [t("web.carbon.ledger.unchecked"), NT.fmt(r.unchecked, 0)],
        [t("web.carbon.ledger.verified_at"), NT.fmtTime(r.verified_at, true)]
      ], "nc-meta-inline"));
      [problemList(t("web.carbon.ledger.mismatches"), r.mismatches, function (m) {
        return NC.lang(m, "label") + " (#" + m.entry_id + ") — " + NC.lang(m, "message"); }),
       problemList(t("web.carbon.ledger.entry_problems"), r.entry_problems, function (m) { return "#" + m.entry_id + " — " + NC.lang(m, "message"); }),
       problemList(t("web.carbon.ledger.checkpoint_problems"), r.checkpoint_problems, function (m) { return "#" + m.checkpoint_id + " — " + NC.lang(m, "message"); })
      ].forEach(function (n) { if (n) box.appendChild(n); });
      (r.warnings || []).forEach(function (w) { box.appendChild(el("p", { class: "nt-info", text: NC.lang(w, "message") || JSON.stringify(w) })); });
    }).catch(function (err) { NT.error(box, err); }).then(function () { button.disabled = false; });
  }

  function entries(offset) {
    var kind = $("led-kind").value;
    var key = $("led-key-filter").value.trim();
    NT.setParams({ kind: kind, key: key, offset: offset || null });
    return NT.api("/api/ledger/entries", { query: { kind: kind, key: key, limit: PAGE, offset: offset || 0 } }).then(function (page) {
      NT.table($("led-entries"), [
        { key: "seq", label: "#", align: "right", render: NC.plain("seq") },
        { key: "kind", label: t("web.carbon.ledger.kind"), render: function (e) { return kindLabel(e.kind); } },
        { key: "key", label: t("web.carbon.ledger.key"), render: function (e) { return el("span", { class: "nt-mono nc-nowrap", text: e.key }); } },
        { key: "label", label: t("web.carbon.ledger.record"), render: function (e) { return NC.lang(e.meta, "label"); } },
        { key: "digest", label: t("web.carbon.ledger.digest"), render: function (e) { return shortHash(e.digest); } },
        { key: "created", label: t("web.carbon.ledger.appended"), render: function (e) { return NT.fmtTime(e.created_at) + (e.created_by ? " · " + e.created_by : ""); } },
        { key: "proof", label: "", render: function (e) {
          return el("button", { type: "button", class: "nt-btn nt-btn-small nc-proof-open", dataset: { entry: e.id }, text: t("web.carbon.ledger.proof") }); } }
      ], page.items, { empty: t("web.carbon.ledger.no_entries") });
      var box = $("led-pager");
      box.textContent = "";
      var to = Math.min(page.offset + page.limit, page.total);
      box.appendChild(el("span", { class: "nt-muted", text: t("web.carbon.common.range", { from: page.total ? page.offset + 1 : 0, to: to, total: page.total }) }));
      function go(label, off, id) {
        box.appendChild(el("button", { type: "button", class: "nt-btn nt-btn-small", id: id, text: label, onclick: function () { entries(off); } }));
      }
      if (page.offset > 0) { go(t("web.carbon.common.first"), 0); go(t("web.carbon.common.previous"), Math.max(0, page.offset - PAGE)); }
      if (to < page.total) { go(t("web.carbon.common.next"), page.offset + PAGE, "led-next"); go(t("web.carbon.common.last"), Math.max(0, page.total - PAGE), "led-last"); }
    });
  }

  function proof(id, quiet) {
    var panel = $("led-proof-panel");
    var box = $("led-proof");
    panel.hidden = false;
    $("led-proof-entry").textContent = "#" + id;
    box.textContent = "";
    NT.setParams({ entry: id });
    return NT.api("/api/ledger/entries/" + encodeURIComponent(id) + "/proof").then(function (p) {
      var e = p.entry;
      box.appendChild(el("div", { class: "nt-actions" }, [
        el("a", { href: "/api/ledger/entries/" + encodeURIComponent(id) + "/proof", download: "nengtan-ledger-proof-" + id + ".json",
          class: "nt-btn nt-btn-primary nt-btn-small", id: "led-proof-download", text: t("web.carbon.ledger.proof_download") })]));
      box.appendChild(NC.meta([
        [t("web.carbon.ledger.record"), NC.lang(e.meta, "label")],
        [t("web.carbon.ledger.kind"), kindLabel(e.kind) + " · " + e.key],
        [t("web.carbon.ledger.digest"), el("code", { class: "nt-mono", text: e.digest })],
        [t("web.carbon.ledger.leaf"), t("web.carbon.ledger.leaf_text", { index: p.leaf_index, size: p.checkpoint.tree_size })],
        [t("web.carbon.ledger.leaf_hash"), el("code", { class: "nt-mono", text: p.leaf_hash })],
        [t("web.carbon.ledger.checkpoint"), el("span", {}, ["#" + p.checkpoint.id + " · " + NT.fmtTime(p.checkpoint.time || p.checkpoint.created_at) + " · ",
          el("code", { class: "nt-mono", text: p.checkpoint.root_hash })])],
        [t("web.carbon.ledger.signature"), el("code", { class: "nt-mono", text: p.checkpoint.signature })],
        [t("web.carbon.ledger.key_id"), p.public_key.key_id],
        [t("web.carbon.ledger.how_to_verify"), el("code", { class: "nt-mono", text: p.how_to_verify || "nengtan ledger verify-proof FILE" })]
      ]));
      box.appendChild(el("h3", { text: t("web.carbon.ledger.audit_path", { n: p.audit_path.length }) }));
      box.appendChild(el("ol", { class: "nc-path" }, p.audit_path.map(function (h) { return el("li", {}, [el("code", { class: "nt-mono", text: h })]); })));
      box.appendChild(el("details", {}, [el("summary", { text: t("web.carbon.ledger.leaf_data") }), el("pre", { class: "nc-formula", text: p.leaf_data })]));
      if (!quiet) panel.scrollIntoView({ behavior: "smooth", block: "start" });
    }).catch(function (err) { NT.error(box, err); });
  }

  function setUpSign() {
    // a checkpoint covers every tenant's records: signing needs carbon.write on a whole park
    if (!NT.can("carbon.write") || !NC.rootScope()) return;
    var b = $("led-sign");
    b.hidden = false;
    b.addEventListener("click", function () {
      b.disabled = true;
      NT.api("/api/ledger/checkpoints", { method: "POST" })
        .then(function (c) { NT.notice(t("web.carbon.ledger.signed_notice", { id: c.id, size: c.tree_size })); return Promise.all([status(), checkpoints()]); })
        .catch(function (err) { NT.error(message, err); })
        .then(function () { b.disabled = false; });
    });
  }

  function start() {
    var p = NT.params();
    $("led-key-filter").value = p.key || "";
    $("led-verify").addEventListener("click", verify);
    $("led-filter").addEventListener("submit", function (e) { e.preventDefault(); entries(0); });
    $("led-proof-close").addEventListener("click", function () { $("led-proof-panel").hidden = true; NT.setParams({ entry: null }); });
    document.addEventListener("click", function (e) {
      var b = e.target.closest ? e.target.closest(".nc-proof-open") : null;
      if (b) proof(b.dataset.entry);
    });
    setUpSign();
    // the entries' labels name meters and records of every tenant: listing them and their
    // proofs needs a park-wide grant; others (an enterprise, a verifier) verify the whole
    // ledger and find the proofs of their inventory in its verification package
    var root = NC.rootScope();
    $("led-entries-panel").hidden = !root;
    $("led-entries-note").hidden = root;
    return status().then(function () {
      var work = [checkpoints()];
      if (root) work.push(entries(Number(p.offset) || 0));
      if (root && p.entry) work.push(proof(p.entry, true));
      return Promise.all(work);
    }).catch(function (err) { NT.error(message, err); });
  }

  start().then(NT.ready, NT.ready);
})();

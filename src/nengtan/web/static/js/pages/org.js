/* 组织架构 Organisation page: the tree (GET /api/nodes/tree), one node (GET /api/nodes/{id}),
 * its edit form (PATCH, only the changed fields), a child form (POST /api/nodes), import
 * (POST /api/import, multipart) and export links (GET /api/export/{kind}).  The API checks
 * every write (org.write) and names every bad row/field; this page only shows what it says.
 * State in the URL: ?node=<code>&q=<search>. */
(function () {
  "use strict";

  var KINDS = ["park", "enterprise", "site", "facility", "workshop", "process", "line", "equipment"];
  /* Fields of a node as the API takes them (NodeIn / NodePatch); type decides the input. */
  var FIELDS = [
    { name: "code", type: "text", required: true, edit: false },
    { name: "name_zh", type: "text", required: true },
    { name: "name_en", type: "text" },
    { name: "kind", type: "select", required: true },
    { name: "parent", type: "text", list: "org-codes", create: false },
    { name: "timezone", type: "text", placeholder: "Asia/Shanghai" },
    { name: "region", type: "text" },
    { name: "industry_code", type: "text" },
    { name: "credit_code", type: "text" },
    { name: "address", type: "text" },
    { name: "sort_order", type: "int" },
    { name: "active", type: "bool" },
    { name: "description", type: "textarea" },
    { name: "attributes", type: "json" }
  ];

  var $ = function (id) { return document.getElementById(id); };
  var state = { tree: [], byCode: {}, node: null, canWrite: NT.can("org.write") };

  function label(name) { return NT.t("web.data.node." + name); }
  function kindLabel(kind) { return NT.t("web.data.kind." + kind); }

  // -- tree ------------------------------------------------------------------------------
  function index(nodes, parent) {
    nodes.forEach(function (n) {
      n.parentCode = parent ? parent.code : null;
      state.byCode[n.code] = n;
      index(n.children || [], n);
    });
  }

  function matches(n, q) {
    if (!q) return true;
    var text = (n.code + " " + (n.name_zh || "") + " " + (n.name_en || "")).toLowerCase();
    return text.indexOf(q) >= 0;
  }

  /* Does n or anything below it match the search? */
  function visible(n, q) {
    if (matches(n, q)) return true;
    return (n.children || []).some(function (c) { return visible(c, q); });
  }

  function isOpen(n, q) {
    if (q) return true;
    if (state.open[n.code] !== undefined) return state.open[n.code];
    return n.depth < 1;
  }

  function renderLevel(nodes, q, depth) {
    var ul = NT.el("ul", { class: "dt-tree-list", role: depth ? "group" : null });
    nodes.forEach(function (n) {
      n.depth = depth;
      if (!visible(n, q)) return;
      var kids = n.children || [];
      var open = isOpen(n, q);
      var toggle = kids.length
        ? NT.el("button", { type: "button", class: "dt-tree-toggle", "aria-label": NT.t("web.data.org.toggle"),
          text: open ? "▾" : "▸", onclick: function () { state.open[n.code] = !open; drawTree(); } })
        : NT.el("span", { class: "dt-tree-toggle", "aria-hidden": "true" });
      var link = NT.el("a", {
        href: NT.url("/data/org", { node: n.code }), class: "dt-tree-label" + (n.active ? "" : " dt-inactive"),
        "data-code": n.code, "aria-current": state.node && state.node.code === n.code ? "true" : null,
        title: NT.name(n) + " (" + n.code + ")",
        onclick: function (ev) { ev.preventDefault(); select(n.code); }
      }, [NT.name(n), NT.el("span", { class: "nt-muted dt-code", text: n.code })]);
      var li = NT.el("li", { role: "treeitem", "aria-expanded": kids.length ? String(open) : null }, [
        NT.el("div", { class: "dt-tree-row" }, [toggle, link,
          NT.el("span", { class: "nt-badge dt-kind", text: kindLabel(n.kind) })])
      ]);
      if (kids.length && open) li.appendChild(renderLevel(kids, q, depth + 1));
      ul.appendChild(li);
    });
    return ul;
  }

  function drawTree() {
    var q = ($("org-search").value || "").trim().toLowerCase();
    var el = $("org-tree");
    el.textContent = "";
    if (!state.tree.length) {
      el.appendChild(NT.el("p", { class: "nt-empty", text: NT.t("web.data.org.empty") }));
      return;
    }
    el.appendChild(renderLevel(state.tree, q, 0));
  }

  function openPathTo(code) {
    var n = state.byCode[code];
    while (n && n.parentCode) { state.open[n.parentCode] = true; n = state.byCode[n.parentCode]; }
  }

  function loadTree() {
    return NT.api("/api/nodes/tree").then(function (tree) {
      state.tree = tree;
      state.byCode = {};
      index(tree, null);
      var codes = Object.keys(state.byCode);
      $("org-count").textContent = NT.t("web.data.org.count", { n: codes.length });
      var list = $("org-codes") || document.body.appendChild(NT.el("datalist", { id: "org-codes" }));
      list.textContent = "";
      codes.sort().forEach(function (c) { list.appendChild(NT.el("option", { value: c })); });
    });
  }

  // -- one node --------------------------------------------------------------------------
  function fieldValue(name, value) {
    if (value === null || value === undefined || value === "") return "—";
    if (name === "kind") return kindLabel(value);
    if (name === "active") return NT.t(value ? "web.data.common.yes" : "web.data.common.no");
    if (name === "attributes") return NT.el("pre", { class: "nt-mono dt-pre", text: JSON.stringify(value, null, 2) });
    if (name === "parent") return NT.el("a", { href: NT.url("/data/org", { node: value }), text: value });
    return String(value);
  }

  function drawDetail(node, counts) {
    var dl = NT.el("dl", { class: "dt-dl" });
    FIELDS.forEach(function (f) {
      dl.appendChild(NT.el("dt", { text: label(f.name) }));
      var v = fieldValue(f.name, node[f.name]);
      dl.appendChild(NT.el("dd", {}, [v]));
    });
    dl.appendChild(NT.el("dt", { text: NT.t("web.data.org.meter_count") }));
    dl.appendChild(NT.el("dd", { id: "org-meter-count",
      text: NT.t("web.data.org.meter_count_value", { own: counts[0], subtree: counts[1] }) }));
    var box = $("org-node-detail");
    box.textContent = "";
    box.appendChild(dl);
  }

  function select(code, keepForms) {
    var n = state.byCode[code];
    $("org-node-error").textContent = "";
    if (!n) {
      state.node = null;
      drawTree();
      return Promise.resolve();
    }
    openPathTo(code);
    if (state.open[code] === undefined) state.open[code] = true;  // show what is below it
    NT.setParams({ node: code });
    if (!keepForms) { $("org-edit-form").hidden = true; $("org-child-form").hidden = true; }
    return Promise.all([
      NT.api("/api/nodes/" + n.id),
      NT.api("/api/meters", { query: { node: code, limit: 1 } }),
      NT.api("/api/meters", { query: { node: code, subtree: true, limit: 1 } })
    ]).then(function (answers) {
      var node = answers[0];
      state.node = node;
      $("org-node-title").textContent = NT.name(node) + " · " + node.code;
      drawDetail(node, [answers[1].total, answers[2].total]);
      $("org-node-actions").hidden = false;
      $("org-node-meters").href = NT.url("/data/meters", { node: node.code, subtree: "1" });
      $("org-edit-open").hidden = !state.canWrite;
      $("org-child-open").hidden = !state.canWrite;
      drawTree();
    }).catch(function (err) { NT.error($("org-node-error"), err); });
  }

  // -- forms -----------------------------------------------------------------------------
  function input(f, value, prefix) {
    var id = prefix + "-" + f.name;
    var el;
    if (f.type === "select") {
      el = NT.el("select", { id: id, name: f.name },
        KINDS.map(function (k) { return NT.el("option", { value: k, text: kindLabel(k) + " (" + k + ")" }); }));
      if (value) el.value = value;
    } else if (f.type === "bool") {
      el = NT.el("input", { id: id, name: f.name, type: "checkbox", checked: value !== false });
      return NT.el("label", { class: "nt-check dt-check" }, [el, " " + label(f.name)]);
    } else if (f.type === "textarea" || f.type === "json") {
      el = NT.el("textarea", { id: id, name: f.name, rows: f.type === "json" ? 4 : 2, class: f.type === "json" ? "nt-mono" : null });
      el.value = value === null || value === undefined ? "" : f.type === "json" ? JSON.stringify(value, null, 2) : value;
    } else {
      el = NT.el("input", { id: id, name: f.name, type: f.type === "int" ? "number" : "text",
        step: f.type === "int" ? "1" : null, list: f.list || null, placeholder: f.placeholder || null });
      el.value = value === null || value === undefined ? "" : value;
    }
    return NT.el("label", {}, [label(f.name) + (f.required ? " *" : ""), el]);
  }

  /* The value of a field's input as the API takes it: "" is null (cleared); JSON text is
   * sent as typed so the API can name a syntax error. */
  function read(f, prefix) {
    var el = $(prefix + "-" + f.name);
    if (f.type === "bool") return el.checked;
    var v = el.value.trim();
    if (v === "") return null;
    if (f.type === "int") return Number(v);
    if (f.type === "json") { try { return JSON.parse(v); } catch (e) { return v; } }
    return v;
  }

  function same(a, b) { return JSON.stringify(a === undefined ? null : a) === JSON.stringify(b === undefined ? null : b); }

  function openEdit() {
    var box = $("org-edit-fields");
    box.textContent = "";
    FIELDS.filter(function (f) { return f.edit !== false; }).forEach(function (f) {
      box.appendChild(input(f, state.node[f.name], "org-edit"));
    });
    $("org-edit-error").textContent = "";
    $("org-child-form").hidden = true;
    $("org-edit-form").hidden = false;
    $("org-edit-name_zh").focus();
  }

  function saveEdit(ev) {
    ev.preventDefault();
    var node = state.node;
    var body = {};
    FIELDS.filter(function (f) { return f.edit !== false; }).forEach(function (f) {
      var v = read(f, "org-edit");
      if (!same(v, node[f.name])) body[f.name] = v;
    });
    if (!Object.keys(body).length) { $("org-edit-form").hidden = true; return; }
    $("org-edit-save").disabled = true;
    NT.api("/api/nodes/" + node.id, { method: "PATCH", body: body }).then(function (saved) {
      NT.notice(NT.t("web.data.common.saved"));
      $("org-edit-form").hidden = true;
      return loadTree().then(function () { return select(saved.code); });
    }).catch(function (err) { NT.issues($("org-edit-error"), err); })
      .then(function () { $("org-edit-save").disabled = false; });
  }

  function openChild() {
    var box = $("org-child-fields");
    box.textContent = "";
    // a first guess at the child's kind, one level down; the API says which kinds may go here
    var below = KINDS[Math.min(KINDS.indexOf(state.node.kind) + 1, KINDS.length - 1)];
    FIELDS.filter(function (f) { return f.create !== false; }).forEach(function (f) {
      box.appendChild(input(f, f.name === "active" ? true : f.name === "kind" ? below : null, "org-child"));
    });
    $("org-child-title").textContent = NT.t("web.data.org.child_of", { name: NT.name(state.node) });
    $("org-child-error").textContent = "";
    $("org-edit-form").hidden = true;
    $("org-child-form").hidden = false;
    $("org-child-code").focus();
  }

  function saveChild(ev) {
    ev.preventDefault();
    var body = { parent: state.node.code };
    FIELDS.filter(function (f) { return f.create !== false; }).forEach(function (f) {
      var v = read(f, "org-child");
      if (v !== null) body[f.name] = v;
    });
    $("org-child-save").disabled = true;
    NT.api("/api/nodes", { method: "POST", body: body }).then(function (created) {
      NT.notice(NT.t("web.data.org.created", { code: created.code }));
      $("org-child-form").hidden = true;
      return loadTree().then(function () { return select(created.code); });
    }).catch(function (err) { NT.issues($("org-child-error"), err); })
      .then(function () { $("org-child-save").disabled = false; });
  }

  // -- import and export -----------------------------------------------------------------
  function exportLinks() {
    var kind = $("org-export-kind").value, format = $("org-export-format").value;
    $("org-export").href = NT.url("/api/export/" + kind, { format: format, lang: NT.lang });
    $("org-template").href = NT.url("/api/export/" + kind, { format: format, lang: NT.lang, template: "true" });
  }

  function importReport(report) {
    var box = NT.el("div");
    box.appendChild(NT.el("div", { class: "nt-info", text: NT.t(report.dry_run ? "web.data.io.checked" : "web.data.io.imported", {
      file: report.file, rows: report.rows, created: report.created, updated: report.updated, unchanged: report.unchanged
    }) }));
    var rows = Object.keys(report.by_kind || {}).map(function (k) {
      return Object.assign({ kind: NT.t("web.data.io.kind." + k) }, report.by_kind[k]);
    });
    var table = NT.el("div");
    NT.table(table, [
      { key: "kind", label: NT.t("web.data.io.kind") },
      { key: "rows", label: NT.t("web.data.io.rows"), fmt: 0 },
      { key: "created", label: NT.t("web.data.io.created"), fmt: 0 },
      { key: "updated", label: NT.t("web.data.io.updated"), fmt: 0 },
      { key: "unchanged", label: NT.t("web.data.io.unchanged"), fmt: 0 }
    ], rows);
    box.appendChild(table);
    box.appendChild(NT.el("p", { class: "nt-muted" }, [NT.t("web.data.io.sha256") + " ",
      NT.el("span", { class: "nt-mono", text: report.sha256 || "—" })]));
    return box;
  }

  function runImport(ev) {
    ev.preventDefault();
    var file = $("org-import-file").files[0];
    var out = $("org-import-result");
    out.textContent = "";
    if (!file) return;
    var form = new FormData();
    form.append("file", file);
    $("org-import-submit").disabled = true;
    NT.api("/api/import", { method: "POST", form: form, query: {
      kind: $("org-import-kind").value || null, dry_run: $("org-import-dry").checked ? "true" : "false"
    } }).then(function (report) {
      out.appendChild(importReport(report));
      if (!report.dry_run) return loadTree().then(drawTree);
    }).catch(function (err) { NT.issues(out, err); })
      .then(function () { $("org-import-submit").disabled = false; });
  }

  // -- start -----------------------------------------------------------------------------
  function start() {
    var params = NT.params();
    state.open = {};
    $("org-search").value = params.q || "";
    $("org-search").addEventListener("input", function () { NT.setParams({ q: this.value.trim() }); drawTree(); });
    $("org-export-kind").addEventListener("change", exportLinks);
    $("org-export-format").addEventListener("change", exportLinks);
    exportLinks();
    $("org-import-open").hidden = !state.canWrite;
    $("org-import-open").addEventListener("click", function () { $("org-import").hidden = !$("org-import").hidden; });
    $("org-import-form").addEventListener("submit", runImport);
    $("org-edit-open").addEventListener("click", openEdit);
    $("org-edit-form").addEventListener("submit", saveEdit);
    $("org-edit-cancel").addEventListener("click", function () { $("org-edit-form").hidden = true; });
    $("org-child-open").addEventListener("click", openChild);
    $("org-child-form").addEventListener("submit", saveChild);
    $("org-child-cancel").addEventListener("click", function () { $("org-child-form").hidden = true; });
    loadTree().then(function () {
      var code = params.node && state.byCode[params.node] ? params.node : (state.tree[0] && state.tree[0].code);
      drawTree();
      return code ? select(code) : null;
    }).catch(function (err) { NT.error($("org-tree"), err); }).then(NT.ready);
  }

  start();
})();

/* 计量器具 Meters page: GET /api/meters with the node (optionally its subtree), carrier,
 * GB 17167 level and kind filters, 50 a page.  Carrier names come from GET /api/carriers.
 * State in the URL: ?node=&subtree=1&carrier=&level=&kind=&offset=. */
(function () {
  "use strict";

  var PAGE = 50;
  var $ = function (id) { return document.getElementById(id); };
  var carriers = {};
  var offset = 0;

  function filters() {
    return {
      node: $("meters-node").value || null,
      subtree: $("meters-node").value && $("meters-subtree").checked ? "true" : null,
      carrier: $("meters-carrier").value || null,
      level: $("meters-level").value || null,
      kind: $("meters-kind").value || null
    };
  }

  function carrierName(code) {
    var c = carriers[code];
    return c ? NT.name(c) : code;
  }

  function draw(page) {
    $("meters-total").textContent = NT.t("web.data.common.total", { n: page.total });
    NT.table($("meters-table"), [
      { key: "code", label: NT.t("web.data.meter.f.code"), link: function (m) { return "/data/meters/" + m.id; } },
      { key: "name", label: NT.t("web.data.meter.f.name"), fmt: function (v, m) { return NT.name(m); } },
      { key: "node", label: NT.t("web.data.meter.f.node"), link: function (m) { return NT.url("/data/org", { node: m.node }); } },
      { key: "carrier", label: NT.t("web.data.meter.f.carrier"), fmt: function (v) { return carrierName(v); } },
      { key: "unit", label: NT.t("web.data.meter.f.unit") },
      { key: "kind", label: NT.t("web.data.meter.f.kind"), fmt: function (v) { return NT.t("web.data.meter_kind." + v); } },
      { key: "register", label: NT.t("web.data.meter.f.register"), fmt: function (v) { return NT.t("web.data.register." + v); } },
      { key: "interval_s", label: NT.t("web.data.meter.f.interval_s"), fmt: 0 },
      { key: "level", label: NT.t("web.data.meter.f.level"), fmt: 0, align: "center" },
      { key: "multiplier", label: NT.t("web.data.meter.f.multiplier") },
      { key: "active", label: NT.t("web.data.meter.f.active"), render: function (m) {
        return NT.el("span", { class: "nt-badge " + (m.active ? "nt-badge-ok" : ""), text: NT.t(m.active ? "web.data.common.yes" : "web.data.common.no") });
      } }
    ], page.items, { empty: NT.t("web.data.meters.empty") });
    var last = Math.min(page.offset + page.items.length, page.total);
    $("meters-range").textContent = page.total ? NT.t("web.data.common.range", { from: page.offset + 1, to: last, total: page.total }) : "";
    $("meters-prev").disabled = page.offset <= 0;
    $("meters-next").disabled = last >= page.total;
  }

  function load() {
    var f = filters();
    NT.setParams({ node: f.node, subtree: f.subtree ? "1" : null, carrier: f.carrier, level: f.level,
      kind: f.kind, offset: offset || null });
    $("meters-error").textContent = "";
    return NT.api("/api/meters", { query: Object.assign({ limit: PAGE, offset: offset }, f) })
      .then(draw).catch(function (err) { NT.error($("meters-error"), err); });
  }

  function refilter() { offset = 0; load(); }

  function start() {
    var params = NT.params();
    offset = Number(params.offset) || 0;
    $("meters-subtree").checked = params.subtree === "1" || params.subtree === "true";
    $("meters-level").value = params.level || "";
    $("meters-kind").value = params.kind || "";
    $("meters-export").href = NT.url("/api/export/meters", { format: "xlsx", lang: NT.lang });
    ["meters-subtree", "meters-carrier", "meters-level", "meters-kind", "meters-node"].forEach(function (id) {
      $(id).addEventListener("change", refilter);
    });
    $("meters-filter").addEventListener("submit", function (ev) { ev.preventDefault(); refilter(); });
    $("meters-prev").addEventListener("click", function () { offset = Math.max(0, offset - PAGE); load(); });
    $("meters-next").addEventListener("click", function () { offset += PAGE; load(); });
    Promise.all([
      NT.nodeSelect($("meters-node"), { blank: NT.t("web.data.common.all"), value: params.node }),
      NT.api("/api/carriers", { query: { limit: 1000 } }).then(function (page) {
        var select = $("meters-carrier");
        page.items.forEach(function (c) {
          carriers[c.code] = c;
          select.appendChild(NT.el("option", { value: c.code, text: NT.name(c) }));
        });
        select.value = params.carrier && carriers[params.carrier] ? params.carrier : "";
      })
    ]).then(load).catch(function (err) { NT.error($("meters-error"), err); }).then(NT.ready);
  }

  start();
})();

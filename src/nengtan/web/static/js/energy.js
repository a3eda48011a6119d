/* 能碳 nengtan console — helpers shared by the energy pages (global NTE).
 *
 * Display only: the figures, their units, comparisons and reasons all come from the JSON API;
 * this file picks the text of the page language, builds the node and period pickers, and shows
 * cards, badges and errors the same way on every energy page.
 */
(function () {
  "use strict";
  var NT = window.NT;
  var E = {};
  window.NTE = E;

  /* The text of a bilingual API field ({"zh-CN": …, "en": …}) in the page language. */
  E.pick = function (both) {
    if (!both) return "";
    if (typeof both === "string") return both;
    return (NT.lang === "en" ? both.en : both["zh-CN"]) || both.en || both["zh-CN"] || "";
  };

  /* A message object of the API ({message, message_zh} or {message_en, message_zh}). */
  E.msg = function (obj) {
    if (!obj) return "";
    if (NT.lang === "en") return obj.message_en || obj.message || obj.message_zh || "";
    return obj.message_zh || obj.message || obj.message_en || "";
  };

  /* The name of an API object carrying name_zh / name_en, with its code when it has one. */
  E.label = function (obj, code) {
    var name = NT.name(obj);
    code = code || obj && (obj.node || obj.code);
    return name && code && name !== code ? name + " (" + code + ")" : name || code || "";
  };

  /* The error of an API call as text: the API's message and every detail it lists. */
  E.errorText = function (err) {
    var text = err && err.message ? err.message : String(err);
    if (err && Array.isArray(err.detail)) {
      var parts = err.detail.map(function (d) {
        var m = E.msg(d);
        return d.field ? d.field + ": " + m : m;
      }).filter(Boolean);
      if (parts.length) text += " — " + parts.join("; ");
    }
    return text;
  };

  E.fail = function (el, err) {
    if (!el) return;
    el.textContent = "";
    el.appendChild(NT.el("div", { class: "nt-error ne-error", role: "alert", text: E.errorText(err) }));
    el.hidden = false;
  };

  E.clearError = function (el) {
    if (!el) return;
    el.textContent = "";
    el.hidden = true;
  };

  /* Before (re)loading data: browser tests wait for body[data-ready="1"] of the new data. */
  E.loading = function () { delete document.body.dataset.ready; };

  function two(n) { return (n < 10 ? "0" : "") + n; }

  /* The last whole calendar month before today (local), "YYYY-MM": the default period. */
  E.lastMonth = function () {
    var d = new Date();
    d.setDate(1);
    d.setMonth(d.getMonth() - 1);
    return d.getFullYear() + "-" + two(d.getMonth() + 1);
  };
  /* The year of the last whole month, "YYYY" (the running year, scaled by the API). */
  E.lastMonthYear = function () { return E.lastMonth().slice(0, 4); };

  /* "YYYY-MM-DD" + n days (calendar arithmetic in UTC, no time zone involved). */
  E.addDays = function (iso, n) {
    var p = iso.split("-").map(Number);
    var d = new Date(Date.UTC(p[0], p[1] - 1, p[2] + n));
    return d.getUTCFullYear() + "-" + two(d.getUTCMonth() + 1) + "-" + two(d.getUTCDate());
  };

  /* A period text of the API (2026, 2026-Q3, 2026-10, 2026-10-05, 2026-10-01/2026-11-01) as
   * {kind, ...parts}; null when it is none of them.  A range's end is exclusive in the API and
   * shown inclusive (the last day) in the inputs. */
  E.parsePeriod = function (text) {
    var m;
    if (!text) return null;
    if ((m = /^(\d{4})$/.exec(text))) return { kind: "year", year: m[1] };
    if ((m = /^(\d{4})-Q([1-4])$/.exec(text))) return { kind: "quarter", year: m[1], quarter: m[2] };
    if ((m = /^(\d{4}-\d{2})$/.exec(text))) return { kind: "month", month: m[1] };
    if ((m = /^(\d{4}-\d{2}-\d{2})$/.exec(text))) return { kind: "day", day: m[1] };
    if ((m = /^(\d{4}-\d{2}-\d{2})\/(\d{4}-\d{2}-\d{2})$/.exec(text))) {
      return { kind: "range", start: m[1], last: E.addDays(m[2], -1) };
    }
    return null;
  };

  /* The controls of an energy page: the node picker and the period picker, each reloading
   * the page (load()); the carrier catalogue and options.extra promises load alongside.
   * options: period, node (options of the two pickers), extra (promises), ready(res) called
   * with [node pick, carriers, ...extra] before the first load. */
  E.start = function (state, load, errorBox, options) {
    options = options || {};
    document.getElementById("ne-controls").addEventListener("submit", function (e) { e.preventDefault(); });
    E.periodControl(document.getElementById("ne-period"), Object.assign({ value: state.period,
      onChange: function (p) { state.period = p; load(); } }, options.period || {}));
    var node = E.nodeSelect(document.getElementById("ne-node"), Object.assign({ value: state.node,
      onChange: function (code) { state.node = code; load(); } }, options.node || {}));
    return Promise.all([node, E.carriers()].concat(options.extra || [])).then(function (res) {
      state.node = res[0].code;
      if (options.ready) options.ready(res);
      if (!state.node) throw new Error(NT.t("web.energy.no_nodes"));
      return load();
    }).catch(function (err) { E.fail(errorBox, err); NT.ready(); });
  };

  /* Period picker: a kind select (month, quarter, year, day, range, and "default" when
   * options.defaultLabel is given: no period, the API's default) and its inputs.
   * options: value (period text), kinds, defaultLabel, onChange(periodText).
   * Returns {value()} — the period text, "" for the default, null while incomplete. */
  E.periodControl = function (el, options) {
    options = options || {};
    var kinds = options.kinds || ["month", "quarter", "year", "day", "range"];
    if (options.defaultLabel) kinds = ["default"].concat(kinds);
    var current = E.parsePeriod(options.value) ||
      (options.defaultLabel && !options.value ? { kind: "default" } : { kind: kinds.indexOf("month") >= 0 ? "month" : kinds[0] });
    if (kinds.indexOf(current.kind) < 0) current = { kind: kinds[0] };
    var month = current.month || (current.day || current.start || E.lastMonth()).slice(0, 7);
    var year = current.year || month.slice(0, 4);
    var parts = {
      month: month, year: year, quarter: current.quarter || String(Math.floor((Number(month.slice(5, 7)) - 1) / 3) + 1),
      day: current.day || month + "-01", start: current.start || month + "-01",
      last: current.last || E.addDays(E.addDays(month + "-01", 31).slice(0, 7) + "-01", -1)
    };
    var kindSelect = NT.el("select", { class: "nt-input ne-period-kind", "aria-label": NT.t("web.energy.period.kind") },
      kinds.map(function (k) {
        return NT.el("option", { value: k, text: k === "default" ? options.defaultLabel : NT.t("web.energy.period." + k) });
      }));
    kindSelect.value = current.kind;
    var inputs = NT.el("span", { class: "ne-period-inputs" });
    el.appendChild(kindSelect);
    el.appendChild(inputs);

    function input(attrs, key) {
      var node = NT.el("input", Object.assign({ class: "nt-input" }, attrs));
      node.value = parts[key];
      node.addEventListener("change", function () {
        parts[key] = node.value;
        fire();
      });
      return node;
    }

    function build() {
      inputs.textContent = "";
      var kind = kindSelect.value;
      if (kind === "month") inputs.appendChild(input({ type: "month", "aria-label": NT.t("web.energy.period.month") }, "month"));
      if (kind === "year" || kind === "quarter") {
        inputs.appendChild(input({ type: "number", min: "2000", max: "2100", step: "1", class: "nt-input ne-year",
          "aria-label": NT.t("web.energy.period.year") }, "year"));
      }
      if (kind === "quarter") {
        var q = NT.el("select", { class: "nt-input", "aria-label": NT.t("web.energy.period.quarter") },
          ["1", "2", "3", "4"].map(function (n) { return NT.el("option", { value: n, text: "Q" + n }); }));
        q.value = parts.quarter;
        q.addEventListener("change", function () { parts.quarter = q.value; fire(); });
        inputs.appendChild(q);
      }
      if (kind === "day") inputs.appendChild(input({ type: "date", "aria-label": NT.t("web.energy.period.day") }, "day"));
      if (kind === "range") {
        inputs.appendChild(input({ type: "date", "aria-label": NT.t("web.energy.period.start") }, "start"));
        inputs.appendChild(NT.el("span", { class: "ne-period-to", text: NT.t("web.energy.period.to") }));
        inputs.appendChild(input({ type: "date", "aria-label": NT.t("web.energy.period.last") }, "last"));
      }
    }

    function value() {
      var kind = kindSelect.value;
      if (kind === "default") return "";
      if (kind === "month") return /^\d{4}-\d{2}$/.test(parts.month) ? parts.month : null;
      if (kind === "year") return /^\d{4}$/.test(parts.year) ? parts.year : null;
      if (kind === "quarter") return /^\d{4}$/.test(parts.year) ? parts.year + "-Q" + parts.quarter : null;
      if (kind === "day") return /^\d{4}-\d{2}-\d{2}$/.test(parts.day) ? parts.day : null;
      if (/^\d{4}-\d{2}-\d{2}$/.test(parts.start) && /^\d{4}-\d{2}-\d{2}$/.test(parts.last) && parts.last >= parts.start) {
        return parts.start + "/" + E.addDays(parts.last, 1);
      }
      return null;
    }

    function fire() {
      var v = value();
      if (v !== null && options.onChange) options.onChange(v);
    }

    kindSelect.addEventListener("change", function () { build(); fire(); });
    build();
    return { value: value };
  };

  /* The nodes the user may see (GET /api/nodes) in tree order, each with `level` (depth below
   * the shallowest visible node) so that pickers can indent them. */
  E.tree = function () {
    return NT.nodes().then(function (nodes) {
      var byId = {}, children = {}, roots = [];
      nodes.forEach(function (n) { byId[n.id] = n; });
      nodes.forEach(function (n) {
        if (n.parent_id && byId[n.parent_id]) (children[n.parent_id] = children[n.parent_id] || []).push(n);
        else roots.push(n);
      });
      function order(a, b) { return (a.sort_order || 0) - (b.sort_order || 0) || (a.code < b.code ? -1 : 1); }
      var out = [];
      function walk(n, level) {
        out.push(Object.assign({}, n, { level: level }));
        (children[n.id] || []).sort(order).forEach(function (c) { walk(c, level + 1); });
      }
      roots.sort(order).forEach(function (r) { walk(r, 0); });
      return out;
    });
  };

  /* The default node of a page: the first node of the user's scope that the picker offers. */
  E.defaultNode = function (list) {
    var codes = list.map(function (n) { return n.code; });
    for (var i = 0; i < (NT.scope || []).length; i++) {
      if (codes.indexOf(NT.scope[i].code) >= 0) return NT.scope[i].code;
    }
    return codes.length ? codes[0] : null;
  };

  /* A node <select> in tree order (indented), limited to options.kinds.  options.value: the
   * code to select (else the scope's first node).  Resolves to {code, nodes}. */
  E.nodeSelect = function (selectEl, options) {
    options = options || {};
    return E.tree().then(function (nodes) {
      var list = nodes.filter(function (n) { return !options.kinds || options.kinds.indexOf(n.kind) >= 0; });
      selectEl.textContent = "";
      list.forEach(function (n) {
        var pad = new Array(n.level + 1).join("\u3000");
        selectEl.appendChild(NT.el("option", { value: n.code, text: pad + NT.name(n) + " (" + n.code + ")" }));
      });
      var codes = list.map(function (n) { return n.code; });
      selectEl.value = options.value && codes.indexOf(options.value) >= 0 ? options.value : E.defaultNode(list) || "";
      if (options.onChange) selectEl.addEventListener("change", function () { options.onChange(selectEl.value); });
      return { code: selectEl.value, nodes: nodes };
    });
  };

  /* The ancestors of a node (root first) among the visible nodes, from its materialised path. */
  E.ancestors = function (nodes, code) {
    var byId = {}, node = null;
    nodes.forEach(function (n) { byId[n.id] = n; if (n.code === code) node = n; });
    if (!node || !node.path) return [];
    return node.path.split("/").filter(Boolean).map(Number)
      .filter(function (id) { return id !== node.id && byId[id]; })
      .map(function (id) { return byId[id]; });
  };

  /* Energy carriers by code (GET /api/carriers), for their names and units. */
  var carriersLoading = null;
  E.carriers = function () {
    if (!carriersLoading) {
      carriersLoading = NT.api("/api/carriers", { query: { limit: 1000 } }).then(function (page) {
        var out = {};
        (page.items || page).forEach(function (c) { out[c.code] = c; });
        return out;
      });
    }
    return carriersLoading;
  };
  E.carrierName = function (code, carriers, obj) {
    if (obj && (obj.name_zh || obj.name_en)) return NT.name(obj);
    if (carriers && carriers[code]) return NT.name(carriers[code]);
    return code === "conversion" ? NT.t("web.energy.flow.conversion_loss") : code;
  };

  /* A status badge (verified / unverified / measured / online / stale ...); the text is the
   * translated status, the title an optional explanation (a source, a reason). */
  var BADGE_TONE = {
    verified: "ok", measured: "ok", online: "ok", priced: "ok", computed: "ok", reached: "ok",
    unverified: "warn", assumption: "warn", stale: "warn", partly_priced: "warn", virtual: "",
    no_data: "bad", no_price: "warn", below_limit: "bad", below_baseline: "bad", below_grade_3: "bad"
  };
  E.badge = function (status, title) {
    if (status === null || status === undefined || status === "") return "—";
    var key = "web.energy.status." + status;
    var text = NT.t(key);
    var tone = BADGE_TONE[status];
    return NT.el("span", { class: "nt-badge" + (tone ? " nt-badge-" + tone : ""), title: title || null,
      dataset: { status: String(status) }, text: text === key ? String(status) : text });
  };

  /* Yes/no as a badge: pass (ok) or fail. */
  E.okBadge = function (ok, yesKey, noKey) {
    if (ok === null || ok === undefined) return "—";
    return NT.el("span", { class: "nt-badge " + (ok ? "nt-badge-ok" : "nt-badge-bad"),
      text: NT.t(ok ? (yesKey || "web.energy.yes") : (noKey || "web.energy.no")) });
  };

  /* A comparison object of the API ({change_pct, reason, reason_text}) as a node: the signed
   * change in %, or the API's reason why it was not computed. */
  E.change = function (cmp) {
    if (!cmp) return "—";
    if (cmp.change_pct !== null && cmp.change_pct !== undefined) {
      return NT.el("span", { class: "ne-change " + (cmp.change_pct > 0 ? "nt-up" : cmp.change_pct < 0 ? "nt-down" : ""),
        title: cmp.period ? NT.t("web.energy.compared_with", { period: cmp.period.label }) : null,
        text: NT.pct(cmp.change_pct, 2) });
    }
    var reason = E.pick(cmp.reason_text) || (cmp.reason ? NT.t("web.energy.reason." + cmp.reason) : "");
    return NT.el("span", { class: "ne-reason", title: reason, text: "— " + (reason ? "(" + reason + ")" : "") });
  };

  /* A share 0..1 as a percentage text (coverage, utilisation). */
  E.share = function (value, digits) {
    if (value === null || value === undefined) return "—";
    return NT.fmt(Number(value) * 100, digits === undefined ? 1 : digits) + " %";
  };

  /* Key-figure cards (the console's nt-cards): items [{key, label, value, digits, unit, text,
   * node, note}] — value is formatted with NT.fmt, text or node shown as given. */
  E.cards = function (el, items) {
    el.textContent = "";
    el.classList.add("nt-cards");
    items.forEach(function (item) {
      if (!item) return;
      var value = item.node || (item.text !== undefined ? item.text : NT.fmt(item.value, item.digits));
      el.appendChild(NT.el("div", { class: "nt-card ne-kpi", dataset: item.key ? { key: item.key } : null }, [
        NT.el("div", { class: "nt-kpi-label", text: item.label }),
        NT.el("div", { class: "nt-kpi-value" }, [value, item.unit ? NT.el("small", { text: item.unit }) : null]),
        item.note ? NT.el("div", { class: "nt-kpi-sub", text: item.note }) : null
      ]));
    });
  };

  /* Label + value lines (a definition list) for small facts. */
  E.facts = function (el, rows) {
    el.textContent = "";
    var dl = NT.el("dl", { class: "ne-facts" });
    rows.forEach(function (r) {
      if (!r) return;
      dl.appendChild(NT.el("dt", { text: r[0] }));
      var dd = NT.el("dd");
      var v = r[1];
      if (v instanceof Node) dd.appendChild(v);
      else dd.textContent = v === null || v === undefined || v === "" ? "—" : String(v);
      dl.appendChild(dd);
    });
    el.appendChild(dl);
  };

  /* A quantity with its unit as text ("1,234 kWh"). */
  E.qty = function (value, unit, digits) {
    if (value === null || value === undefined) return "—";
    return NT.fmt(value, digits) + (unit ? " " + unit : "");
  };

  /* A link to an API file download (goes through the session cookie). */
  E.fileLink = function (href, text, extra) {
    return NT.el("a", Object.assign({ href: href, class: "ne-file", download: "", text: text }, extra || {}));
  };

  /* NT.plot with a layout height: the element gets the same height first, so the chart never
   * overflows its box onto what follows (the console's .nt-chart has a fixed height). */
  E.plot = function (el, traces, layout) {
    if (layout && layout.height) el.style.height = layout.height + "px";
    return NT.plot(el, traces, layout);
  };

  /* Colour of a carrier (stable across pages and charts). */
  var carrierColors = {
    electricity: "#2f6db5", electricity_pv: "#d9b310", electricity_whr: "#1c9aa6", electricity_wind: "#5d9e3f",
    bituminous_coal: "#4a4a4a", raw_coal: "#5b5040", anthracite: "#333333", coke: "#6b5b4b",
    natural_gas: "#d98e04", diesel: "#8a6d3b", gasoline: "#b07a3b", lpg: "#c4732d",
    steam: "#b8433f", heat: "#c45d5d", hot_water: "#c47a5d", water: "#3b8fd9",
    compressed_air: "#7a8a99", cooling: "#59b3d9", raw_meal: "#a08a6b", conversion: "#9b6fb0"
  };
  E.color = function (code, i) {
    return carrierColors[code] || NT.colors[(i || 0) % NT.colors.length];
  };

  /* rgba() text of a #rrggbb colour with an alpha. */
  E.alpha = function (hex, a) {
    var m = /^#?([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(hex || "");
    if (!m) return hex;
    return "rgba(" + parseInt(m[1], 16) + "," + parseInt(m[2], 16) + "," + parseInt(m[3], 16) + "," + a + ")";
  };
})();

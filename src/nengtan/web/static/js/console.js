/* 能碳 nengtan console: the helpers every page script uses, as the global NT.
 *
 * Pages are shells rendered by the server; their data comes from the JSON API, called here
 * with the browser's session cookie (and the CSRF header on writes).  Nothing in this file
 * knows about energy or carbon: it formats, fetches, draws and keeps the page state in the URL.
 */
(function () {
  "use strict";

  function readJson(id, fallback) {
    var el = document.getElementById(id);
    if (!el) return fallback;
    try { return JSON.parse(el.textContent); } catch (e) { return fallback; }
  }

  var texts = readJson("nt-i18n", {});
  var context = readJson("nt-context", {});
  var NT = {};
  window.NT = NT;

  NT.lang = context.lang || document.documentElement.lang || "zh-CN";
  NT.user = context.user || null;
  NT.page = context.page || null;
  NT.permissions = context.permissions || [];
  NT.scope = context.scope || [];
  NT.mustChange = !!context.must_change;
  NT.CSRF_COOKIE = "nengtan_csrf";
  var locale = NT.lang === "en" ? "en-US" : "zh-CN";

  /* Text of an i18n key in the page language; {name} placeholders filled from params. */
  NT.t = function (key, params) {
    var text = Object.prototype.hasOwnProperty.call(texts, key) ? texts[key] : key;
    if (params) {
      text = text.replace(/\{(\w+)\}/g, function (m, name) {
        return params[name] === undefined || params[name] === null ? m : String(params[name]);
      });
    }
    return text;
  };

  /* Does the user hold a permission (display only: the API decides)? */
  NT.can = function (perm) { return NT.permissions.indexOf(perm) >= 0; };

  /* The name of a node, carrier ... in the page language (name_zh / name_en). */
  NT.name = function (obj) {
    if (!obj) return "";
    if (NT.lang === "en") return obj.name_en || obj.name_zh || obj.code || "";
    return obj.name_zh || obj.name_en || obj.code || "";
  };

  /* A label cut to ``max`` characters with an ellipsis (chart axes). */
  NT.short = function (text, max) {
    text = String(text || "");
    max = max || 24;
    return text.length > max ? text.slice(0, max - 1) + "…" : text;
  };

  NT.cookie = function (name) {
    var parts = document.cookie ? document.cookie.split("; ") : [];
    for (var i = 0; i < parts.length; i++) {
      var eq = parts[i].indexOf("=");
      if (parts[i].slice(0, eq) === name) return decodeURIComponent(parts[i].slice(eq + 1));
    }
    return null;
  };

  /* A same-site URL with query parameters; null, undefined and "" are left out, arrays repeat. */
  NT.url = function (path, query) {
    var params = new URLSearchParams();
    Object.keys(query || {}).forEach(function (key) {
      var value = query[key];
      if (value === null || value === undefined || value === "") return;
      (Array.isArray(value) ? value : [value]).forEach(function (v) { params.append(key, v); });
    });
    var text = params.toString();
    if (!text) return path;
    return path + (path.indexOf("?") >= 0 ? "&" : "?") + text;
  };

  function loginRedirect() {
    var here = location.pathname + location.search;
    location.assign(NT.url("/login", { next: here }));
  }

  /* Call the JSON API.  options: method (GET), body (JSON), form (FormData or object sent as
   * multipart), query (object), raw (return the Response).  Resolves to the parsed JSON (null
   * for 204); rejects with an Error whose message is the API's message (err.status, err.detail).
   * A 401 (session ended) goes to the login page. */
  NT.api = function (path, options) {
    options = options || {};
    var method = (options.method || "GET").toUpperCase();
    var headers = { "Accept": "application/json", "Accept-Language": NT.lang };
    var init = { method: method, headers: headers, credentials: "same-origin" };
    if (method !== "GET" && method !== "HEAD") {
      var csrf = NT.cookie(NT.CSRF_COOKIE);
      if (csrf) headers["X-CSRF-Token"] = csrf;
    }
    if (options.body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(options.body);
    } else if (options.form !== undefined) {
      var form = options.form;
      if (!(form instanceof FormData)) {
        var data = new FormData();
        Object.keys(form).forEach(function (k) {
          if (form[k] !== null && form[k] !== undefined) data.append(k, form[k]);
        });
        form = data;
      }
      init.body = form;
    }
    return fetch(NT.url(path, options.query), init).then(function (response) {
      if (response.status === 401 && path.indexOf("/api/auth/") !== 0) {
        loginRedirect();
        return new Promise(function () {});  // the page is going away
      }
      if (options.raw) return response;
      var type = response.headers.get("content-type") || "";
      var parsed = response.status === 204 ? Promise.resolve(null)
        : type.indexOf("json") >= 0 ? response.json() : response.text();
      return parsed.then(function (data) {
        if (response.ok) return data;
        var message = (data && (data.message || data.detail)) || response.statusText;
        if (typeof message !== "string") message = JSON.stringify(message);
        var error = new Error(message);
        error.status = response.status;
        error.detail = data && data.detail;
        throw error;
      });
    });
  };

  /* A number in the page's locale; '—' for null/undefined/NaN.  digits: fraction digits
   * (default: 0 from 1000 up, 2 from 1, else 3 significant decimals). */
  NT.fmt = function (value, digits) {
    if (value === null || value === undefined || value === "" || isNaN(Number(value))) return "—";
    var v = Number(value);
    if (digits === undefined || digits === null) {
      var a = Math.abs(v);
      digits = a >= 1000 ? 0 : a >= 1 ? 2 : a === 0 ? 0 : 3;
    }
    return v.toLocaleString(locale, { minimumFractionDigits: digits, maximumFractionDigits: digits });
  };

  /* A signed percentage (+3.2 %), '—' when null. */
  NT.pct = function (value, digits) {
    if (value === null || value === undefined || isNaN(Number(value))) return "—";
    var v = Number(value);
    return (v > 0 ? "+" : "") + NT.fmt(v, digits === undefined ? 1 : digits) + " %";
  };

  /* A date-time (ISO 8601 text) in the browser's time zone: 2026-03-01 08:15. */
  NT.fmtTime = function (iso, withSeconds) {
    if (!iso) return "—";
    var d = new Date(iso);
    if (isNaN(d.getTime())) return String(iso);
    function two(n) { return (n < 10 ? "0" : "") + n; }
    var text = d.getFullYear() + "-" + two(d.getMonth() + 1) + "-" + two(d.getDate()) + " " +
      two(d.getHours()) + ":" + two(d.getMinutes());
    return withSeconds ? text + ":" + two(d.getSeconds()) : text;
  };

  /* Create an element: NT.el("a", {href: "/x", class: "b", text: "label"}, [children]). */
  NT.el = function (tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) {
      var value = attrs[key];
      if (value === null || value === undefined || value === false) return;
      if (key === "text") node.textContent = value;
      else if (key === "class") node.className = value;
      else if (key.slice(0, 2) === "on" && typeof value === "function") {
        node.addEventListener(key.slice(2), value);
      } else if (key === "dataset") Object.assign(node.dataset, value);
      else node.setAttribute(key, value === true ? "" : value);
    });
    (children || []).forEach(function (child) {
      if (child === null || child === undefined) return;
      node.appendChild(typeof child === "string" || typeof child === "number"
        ? document.createTextNode(String(child)) : child);
    });
    return node;
  };

  /* Render rows into el as a table.  columns: [{key, label, fmt, align, link, render}]:
   * fmt is a number of fraction digits or a function (value, row) → text; link(row) → href;
   * render(row) → Node or text (text is never parsed as HTML).  options.empty: the text when
   * there are no rows.  Numbers align right by default. */
  NT.table = function (el, columns, rows, options) {
    options = options || {};
    el.textContent = "";
    if (!rows || !rows.length) {
      el.appendChild(NT.el("p", { class: "nt-empty", text: options.empty || NT.t("web.core.table.empty") }));
      return null;
    }
    var head = NT.el("tr", {}, columns.map(function (col) {
      return NT.el("th", { scope: "col", class: col.align ? "nt-" + col.align : null, text: col.label || "" });
    }));
    var body = NT.el("tbody", {}, rows.map(function (row) {
      return NT.el("tr", {}, columns.map(function (col) {
        var value = row[col.key];
        var content;
        if (col.render) content = col.render(row);
        else if (typeof col.fmt === "function") content = col.fmt(value, row);
        else if (typeof col.fmt === "number") content = NT.fmt(value, col.fmt);
        else if (typeof value === "number") content = NT.fmt(value);
        else content = value === null || value === undefined ? "—" : String(value);
        var align = col.align || (typeof value === "number" || typeof col.fmt === "number" ? "right" : null);
        var cell = NT.el("td", { class: align ? "nt-" + align : null });
        if (col.link && !col.render) {
          var href = col.link(row);
          if (href) content = NT.el("a", { href: href }, [content]);
        }
        if (content instanceof Node) cell.appendChild(content);
        else cell.textContent = content === null || content === undefined ? "" : String(content);
        return cell;
      }));
    }));
    var table = NT.el("table", { class: "nt-table" }, [NT.el("thead", {}, [head]), body]);
    el.appendChild(NT.el("div", { class: "nt-table-wrap" }, [table]));
    return table;
  };

  /* Plotly, loaded on first use from this server (/static/vendor/plotly.min.js). */
  var plotlyLoading = null;
  NT.loadPlotly = function () {
    if (window.Plotly) return Promise.resolve(window.Plotly);
    if (!plotlyLoading) {
      plotlyLoading = new Promise(function (resolve, reject) {
        var script = document.createElement("script");
        script.src = "/static/vendor/plotly.min.js";
        script.onload = function () { resolve(window.Plotly); };
        script.onerror = function () { reject(new Error(NT.t("web.core.error.plotly"))); };
        document.head.appendChild(script);
      });
    }
    return plotlyLoading;
  };

  NT.dark = function () { return document.body.classList.contains("nt-dark"); };
  NT.colors = ["#1f7a52", "#2f6db5", "#d98e04", "#b8433f", "#7a5fb0", "#1c9aa6",
               "#8a6d3b", "#c45d9b", "#5d7a1f", "#6b7a86"];

  function themed(layout) {
    var dark = NT.dark();
    var ink = dark ? "#d7e3ec" : "#24343d";
    var grid = dark ? "rgba(215,227,236,0.12)" : "rgba(36,52,61,0.10)";
    var base = {
      paper_bgcolor: "rgba(0,0,0,0)", plot_bgcolor: "rgba(0,0,0,0)",
      font: { family: getComputedStyle(document.body).fontFamily, color: ink, size: dark ? 15 : 12 },
      colorway: NT.colors,
      margin: { l: 56, r: 16, t: 24, b: 40 },
      legend: { orientation: "h", y: -0.18 },
      separators: ".,",
      xaxis: { gridcolor: grid, zerolinecolor: grid, automargin: true },
      yaxis: { gridcolor: grid, zerolinecolor: grid, automargin: true },
      hoverlabel: { namelength: -1 }
    };
    layout = layout || {};
    Object.keys(layout).forEach(function (key) {
      var v = layout[key];
      base[key] = v && typeof v === "object" && !Array.isArray(v) && base[key] && typeof base[key] === "object"
        ? Object.assign({}, base[key], v) : v;
    });
    return base;
  }

  /* Draw a Plotly chart into el (responsive, themed; dark on the wall display).
   * Resolves when drawn. */
  NT.plot = function (el, traces, layout, config) {
    return NT.loadPlotly().then(function (Plotly) {
      var conf = Object.assign({ responsive: true, displaylogo: false, displayModeBar: false }, config || {});
      return Plotly.react(el, traces, themed(layout), conf);
    });
  };

  /* Options of a <select> from GET /api/nodes (the nodes the user may see), filtered by kinds
   * (e.g. ["park", "enterprise"]).  value: the code selected first (else the first option).
   * onChange(code) is called when the user picks another node.  Resolves to the selected code. */
  var nodesLoading = null;
  NT.nodes = function () {
    if (!nodesLoading) {
      nodesLoading = NT.api("/api/nodes", { query: { limit: 1000 } }).then(function (page) {
        return page.items || page;
      });
    }
    return nodesLoading;
  };
  NT.nodeSelect = function (selectEl, options) {
    options = options || {};
    return NT.nodes().then(function (nodes) {
      var kinds = options.kinds;
      var list = nodes.filter(function (n) { return !kinds || kinds.indexOf(n.kind) >= 0; });
      selectEl.textContent = "";
      if (options.blank) selectEl.appendChild(NT.el("option", { value: "", text: options.blank }));
      list.forEach(function (n) {
        selectEl.appendChild(NT.el("option", { value: n.code, text: NT.name(n) + " (" + n.code + ")" }));
      });
      var codes = list.map(function (n) { return n.code; });
      if (options.value && codes.indexOf(options.value) >= 0) selectEl.value = options.value;
      else if (!options.blank && codes.length) selectEl.value = codes[0];
      if (options.onChange && !selectEl.dataset.ntBound) {
        selectEl.dataset.ntBound = "1";
        selectEl.addEventListener("change", function () { options.onChange(selectEl.value); });
      }
      return selectEl.value;
    });
  };

  /* Show an error message (an Error or text) in el. */
  NT.error = function (el, err) {
    var message = err && err.message ? err.message : String(err);
    if (!el) return;
    el.textContent = "";
    el.appendChild(NT.el("div", { class: "nt-error", role: "alert", text: message }));
    el.hidden = false;
  };

  /* NT.error, and for a 422 (err.detail: the API's issues) a table naming each bad row (when
   * the input had rows), field, rule and value with the message in the page language. */
  NT.issues = function (el, err) {
    NT.error(el, err);
    if (!el || !err || !Array.isArray(err.detail) || !err.detail.length) return;
    var hasRows = err.detail.some(function (r) { return r.row !== null && r.row !== undefined; });
    var box = NT.el("div");
    NT.table(box, (hasRows ? [{ key: "row", label: NT.t("web.data.issue.row") }] : []).concat([
      { key: "field", label: NT.t("web.data.issue.field"), render: function (r) { return NT.el("span", { class: "nt-mono", text: r.field || "—" }); } },
      { key: "rule", label: NT.t("web.data.issue.rule") },
      { key: "value", label: NT.t("web.data.issue.value"), fmt: function (v) { return v === null || v === undefined ? "—" : typeof v === "object" ? JSON.stringify(v) : String(v); } },
      { key: "message", label: NT.t("web.data.issue.message"), fmt: function (v, r) { return NT.lang === "en" ? r.message : (r.message_zh || r.message); } }
    ]), err.detail);
    el.appendChild(box);
  };

  /* A short message that fades (saved, revoked ...). */
  NT.notice = function (text, kind) {
    var box = document.getElementById("nt-notice");
    if (!box) {
      box = NT.el("div", { id: "nt-notice", class: "nt-notice", role: "status" });
      document.body.appendChild(box);
    }
    box.textContent = text;
    box.className = "nt-notice nt-notice-" + (kind || "ok") + " nt-show";
    clearTimeout(NT._noticeTimer);
    NT._noticeTimer = setTimeout(function () { box.className = "nt-notice"; }, 4000);
  };

  /* Every page calls this once its data has loaded (browser tests wait for it). */
  NT.ready = function () { document.body.dataset.ready = "1"; };

  /* The page state kept in the URL query. */
  NT.params = function () {
    var out = {};
    new URLSearchParams(location.search).forEach(function (v, k) { out[k] = v; });
    return out;
  };
  NT.setParams = function (values) {
    var params = new URLSearchParams(location.search);
    Object.keys(values).forEach(function (key) {
      var v = values[key];
      if (v === null || v === undefined || v === "") params.delete(key);
      else params.set(key, v);
    });
    var text = params.toString();
    history.replaceState(null, "", location.pathname + (text ? "?" + text : "") + location.hash);
    // the language links were rendered with the URL the page was opened with: keep the state
    document.querySelectorAll(".nt-lang a[lang]").forEach(function (a) {
      var q = new URLSearchParams(location.search);
      q.set("lang", a.getAttribute("lang"));
      a.setAttribute("href", location.pathname + "?" + q.toString());
    });
  };

  /* A month (YYYY-MM) and a year input bound together, optional helper for report pages:
   * NT.periodInputs(el, {value: "2026-03", onChange(period)}) where period is "YYYY-MM". */
  NT.periodInputs = function (el, options) {
    options = options || {};
    var input = NT.el("input", { type: "month", class: "nt-input", value: options.value || "",
      "aria-label": NT.t("web.core.period") });
    input.addEventListener("change", function () {
      if (options.onChange && input.value) options.onChange(input.value);
    });
    el.appendChild(input);
    return input;
  };

  /* The header: menu button (phones) and closing the user menu on an outside click. */
  function setUpChrome() {
    var button = document.getElementById("nt-menu-button");
    if (button) {
      button.addEventListener("click", function () {
        var open = document.body.classList.toggle("nt-nav-open");
        button.setAttribute("aria-expanded", open ? "true" : "false");
      });
    }
    var user = document.getElementById("nt-user");
    if (user) {
      document.addEventListener("click", function (event) {
        if (user.open && !user.contains(event.target)) user.open = false;
      });
    }
  }
  function start() {
    setUpChrome();
    if (document.body.dataset.autoReady) NT.ready();  // pages without data (errors)
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();

/* Users & roles.  三员分立: the system administrator (users.admin) manages accounts, the
 * security administrator (roles.admin) grants and revokes roles and unlocks accounts; each
 * sees only the part the API lets them do. */
(function () {
  "use strict";
  var $ = function (id) { return document.getElementById(id); };
  var canUsers = NT.can("users.admin"), canRoles = NT.can("roles.admin");
  var errorBox = $("users-error");
  var roles = [], roleByCode = {}, users = [], current = null;

  function roleName(code) { return roleByCode[code] ? NT.name(roleByCode[code]) : code; }
  function fail(box) { return function (err) { NT.error(box || errorBox, err); }; }
  function done(key) { return function () { NT.notice(NT.t(key)); }; }

  function badge(text, tone) { return NT.el("span", { class: "nt-badge " + (tone || ""), text: text }); }

  function status(u) {
    var out = NT.el("span", { class: "nt-actions" });
    if (u.disabled) out.appendChild(badge(NT.t("web.core.users.disabled"), "nt-badge-bad"));
    else out.appendChild(badge(NT.t("web.core.users.active"), "nt-badge-ok"));
    if (u.locked_until && new Date(u.locked_until) > new Date()) {
      out.appendChild(badge(NT.t("web.core.users.locked"), "nt-badge-warn"));
    }
    if (u.must_change_password) out.appendChild(badge(NT.t("web.core.users.must_change_short"), "nt-badge-warn"));
    if (u.totp_enrolled) out.appendChild(badge("TOTP", "nt-badge-ok"));
    return out;
  }

  function post(path, body) { return NT.api(path, { method: "POST", body: body || {} }); }

  function userActions(u) {
    var box = NT.el("span", { class: "nt-actions" });
    var name = encodeURIComponent(u.username);
    if (u.disabled) {
      box.appendChild(NT.el("button", { type: "button", class: "nt-btn nt-btn-small", text: NT.t("web.core.users.enable"),
        onclick: function () { post("/api/users/" + name + "/enable").then(done("web.core.users.saved")).then(loadUsers).catch(fail()); } }));
    } else {
      box.appendChild(NT.el("button", { type: "button", class: "nt-btn nt-btn-small nt-btn-danger", text: NT.t("web.core.users.disable"),
        dataset: { action: "disable", user: u.username },
        onclick: function () {
          if (!window.confirm(NT.t("web.core.users.confirm_disable", { user: u.username }))) return;
          post("/api/users/" + name + "/disable").then(done("web.core.users.saved")).then(loadUsers).catch(fail());
        } }));
    }
    box.appendChild(NT.el("button", { type: "button", class: "nt-btn nt-btn-small", text: NT.t("web.core.users.reset_password"),
      onclick: function () { openReset(u.username); } }));
    return box;
  }

  function renderUsers() {
    var q = ($("users-filter").value || "").toLowerCase();
    var rows = users.filter(function (u) {
      return !q || u.username.toLowerCase().indexOf(q) >= 0 || (u.display_name || "").toLowerCase().indexOf(q) >= 0;
    });
    NT.table($("users-table"), [
      { key: "username", label: NT.t("web.core.users.username") },
      { key: "display_name", label: NT.t("web.core.users.display_name") },
      { key: "roles", label: NT.t("web.core.users.roles"), fmt: function (v) { return (v || []).map(roleName).join("、") || "—"; } },
      { key: "disabled", label: NT.t("web.core.users.status"), render: status },
      { key: "last_login_at", label: NT.t("web.core.users.last_login"), fmt: function (v) { return NT.fmtTime(v); } },
      { key: "actions", label: "", render: userActions }
    ], rows);
    var list = $("users-names");
    list.textContent = "";
    users.forEach(function (u) { list.appendChild(NT.el("option", { value: u.username })); });
  }

  function loadUsers() {
    return NT.api("/api/users").then(function (data) { users = data; renderUsers(); });
  }

  /* -- grants (security administrator) -- */
  function scopeOf(g) {
    if (g.node) return NT.t("web.core.users.scope_node", { node: g.node });
    if (g.inventory_id) return NT.t("web.core.users.scope_inventory", { id: g.inventory_id });
    return NT.t("web.core.users.scope_global");
  }

  function grantState(g) {
    if (g.revoked_at) return badge(NT.t("web.core.users.revoked"), "");
    if (g.valid_until && new Date(g.valid_until) <= new Date()) return badge(NT.t("web.core.users.expired"), "");
    return badge(NT.t("web.core.users.active"), "nt-badge-ok");
  }

  function renderGrants(list) {
    NT.table($("grants-table"), [
      { key: "role", label: NT.t("web.core.users.role"), fmt: roleName },
      { key: "node", label: NT.t("web.core.users.scope"), render: scopeOf },
      { key: "valid_from", label: NT.t("web.core.users.valid_from"), fmt: function (v) { return NT.fmtTime(v); } },
      { key: "valid_until", label: NT.t("web.core.users.valid_until"), fmt: function (v) { return v ? NT.fmtTime(v) : NT.t("web.core.users.no_end"); } },
      { key: "granted_by", label: NT.t("web.core.users.granted_by") },
      { key: "revoked_at", label: NT.t("web.core.users.status"), render: grantState },
      { key: "id", label: "", render: function (g) {
        if (g.revoked_at) return "";
        return NT.el("button", { type: "button", class: "nt-btn nt-btn-small nt-btn-danger", text: NT.t("web.core.users.revoke"),
          onclick: function () {
            if (!window.confirm(NT.t("web.core.users.confirm_revoke", { role: roleName(g.role), user: current }))) return;
            NT.api("/api/grants/" + g.id, { method: "DELETE" }).then(done("web.core.users.revoked_notice"))
              .then(function () { return showGrants(current); }).catch(fail());
          } });
      } }
    ], list, { empty: NT.t("web.core.users.no_grants") });
  }

  function showGrants(username) {
    current = username;
    $("grants-user").textContent = username;
    return NT.api("/api/users/" + encodeURIComponent(username) + "/grants").then(function (list) {
      renderGrants(list);
      $("grant-form").hidden = false;
    });
  }

  function syncRoleFields() {
    var role = roleByCode[$("grant-role").value];
    var scope = role ? role.scope : "global";
    $("grant-node-field").hidden = scope !== "node";
    $("grant-inventory-field").hidden = scope !== "inventory";
    $("grant-inventory").required = scope === "inventory";
    $("grant-until").required = scope === "inventory";
    $("grant-help").textContent = NT.t("web.core.users.help_" + scope);
  }

  function fillRoles() {
    var select = $("grant-role");
    select.textContent = "";
    roles.forEach(function (r) {
      select.appendChild(NT.el("option", { value: r.code, text: NT.name(r) + " (" + r.code + ")" }));
    });
    syncRoleFields();
  }

  function fillNodes() {
    var select = $("grant-node");
    if (NT.can("org.read")) return NT.nodeSelect(select, { kinds: ["park", "enterprise"] });
    // the security administrator holds no business permission (no node list): the code of
    // the park or enterprise is typed
    var input = NT.el("input", { id: "grant-node", required: true, autocomplete: "off" });
    select.replaceWith(input);
    return Promise.resolve();
  }

  function grant(event) {
    event.preventDefault();
    var role = roleByCode[$("grant-role").value];
    var body = { role: role.code };
    if (role.scope === "node") body.node = $("grant-node").value.trim();
    if (role.scope === "inventory") body.inventory_id = parseInt($("grant-inventory").value, 10);
    var until = $("grant-until").value;
    if (until) body.valid_until = until + "T23:59:59";
    post("/api/users/" + encodeURIComponent(current) + "/grants", body)
      .then(done("web.core.users.granted")).then(function () { return showGrants(current); })
      .then(function () { if (canUsers) return loadUsers(); }).catch(fail());
  }

  /* -- dialogs -- */
  function openCreate() {
    $("user-form").reset();
    $("user-form-error").hidden = true;
    $("user-dialog").showModal();
  }

  function create(event) {
    event.preventDefault();
    post("/api/users", {
      username: $("user-username").value.trim(), display_name: $("user-display").value.trim() || null,
      password: $("user-password").value, must_change: $("user-must-change").checked
    }).then(function () {
      $("user-dialog").close();
      NT.notice(NT.t("web.core.users.created"));
      return loadUsers();
    }).catch(fail($("user-form-error")));
  }

  function openReset(username) {
    $("reset-form").reset();
    $("reset-form-error").hidden = true;
    $("reset-user").textContent = username;
    $("reset-dialog").dataset.user = username;
    $("reset-dialog").showModal();
  }

  function reset(event) {
    event.preventDefault();
    var username = $("reset-dialog").dataset.user;
    post("/api/users/" + encodeURIComponent(username) + "/password", {
      password: $("reset-password").value, must_change: $("reset-must-change").checked
    }).then(function () {
      $("reset-dialog").close();
      NT.notice(NT.t("web.core.users.saved"));
      return loadUsers();
    }).catch(fail($("reset-form-error")));
  }

  $("users-filter").addEventListener("input", renderUsers);
  $("users-new").addEventListener("click", openCreate);
  $("user-form").addEventListener("submit", create);
  $("user-cancel").addEventListener("click", function () { $("user-dialog").close(); });
  $("reset-form").addEventListener("submit", reset);
  $("reset-cancel").addEventListener("click", function () { $("reset-dialog").close(); });
  $("grants-pick").addEventListener("submit", function (event) {
    event.preventDefault();
    var name = $("grants-username").value.trim();
    NT.setParams({ user: name });
    showGrants(name).catch(fail());
  });
  $("grants-unlock").addEventListener("click", function () {
    var name = $("grants-username").value.trim();
    if (!name) return;
    post("/api/users/" + encodeURIComponent(name) + "/unlock").then(done("web.core.users.unlocked")).catch(fail());
  });
  $("grant-role").addEventListener("change", syncRoleFields);
  $("grant-form").addEventListener("submit", grant);

  $("users-panel").hidden = !canUsers;
  $("grants-panel").hidden = !canRoles;
  NT.api("/api/roles").then(function (list) {
    roles = list;
    list.forEach(function (r) { roleByCode[r.code] = r; });
    return canUsers ? loadUsers() : null;
  }).then(function () {
    if (!canRoles) return null;
    fillRoles();
    return fillNodes().then(function () {
      var who = NT.params().user;
      if (who) { $("grants-username").value = who; return showGrants(who); }
      return null;
    });
  }).catch(fail()).then(NT.ready);
})();

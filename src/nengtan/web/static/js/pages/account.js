/* My account: who I am, password change, TOTP enrolment (second factor) and API tokens for
 * integrations (a token's value is shown once, when it is created). */
(function () {
  "use strict";
  var $ = function (id) { return document.getElementById(id); };
  var roleNames = {};

  function fail(box) { return function (err) { NT.error(box || $("account-error"), err); }; }

  function me() {
    // until the password is changed only /api/auth/ answers (the role names can wait)
    var names = NT.mustChange ? Promise.resolve([]) : NT.api("/api/roles");
    return Promise.all([NT.api("/api/auth/me"), names]).then(function (answers) {
      var user = answers[0];
      answers[1].forEach(function (r) { roleNames[r.code] = NT.name(r); });
      var dl = $("account-me");
      dl.textContent = "";
      [["web.core.users.username", user.username],
       ["web.core.users.display_name", user.display_name || "—"],
       ["web.core.users.roles", user.roles.map(function (r) { return roleNames[r] || r; }).join("、") || "—"],
       ["web.core.account.scope", (user.scope_nodes || []).map(NT.name).join("、") || "—"]
      ].forEach(function (pair) {
        dl.appendChild(NT.el("dt", { text: NT.t(pair[0]) }));
        dl.appendChild(NT.el("dd", { text: pair[1] }));
      });
      return user;
    });
  }

  function changePassword(event) {
    event.preventDefault();
    var box = $("password-error");
    box.hidden = true;
    if ($("pw-new").value !== $("pw-new2").value) { NT.error(box, NT.t("web.core.login.error.mismatch")); return; }
    NT.api("/api/auth/password", { method: "POST",
      body: { current_password: $("pw-current").value, new_password: $("pw-new").value } })
      .then(function () {
        $("password-form").reset();
        NT.notice(NT.t("web.core.account.password_changed"));
        if (NT.params().must_change) location.assign("/");
      }).catch(fail(box));
  }

  function startTotp() {
    NT.api("/api/auth/totp", { method: "POST", body: {} }).then(function (r) {
      $("totp-secret").textContent = r.secret.replace(/(.{4})/g, "$1 ").trim();
      $("totp-uri").textContent = r.otpauth_uri;
      $("totp-qr").src = r.qr_svg;
      $("totp-enrol").hidden = false;
      $("totp-code").focus();
    }).catch(fail());
  }

  function confirmTotp(event) {
    event.preventDefault();
    NT.api("/api/auth/totp/confirm", { method: "POST", body: { code: $("totp-code").value.trim() } })
      .then(function () {
        $("totp-enrol").hidden = true;
        $("totp-state").textContent = NT.t("web.core.account.totp_done");
        NT.notice(NT.t("web.core.account.totp_done"));
      }).catch(fail($("totp-error")));
  }

  function tokens() {
    return NT.api("/api/auth/api-tokens").then(function (list) {
      NT.table($("token-table"), [
        { key: "name", label: NT.t("web.core.account.token_name") },
        { key: "created_at", label: NT.t("web.core.account.created"), fmt: function (v) { return NT.fmtTime(v); } },
        { key: "expires_at", label: NT.t("web.core.account.expires"), fmt: function (v) { return v ? NT.fmtTime(v) : NT.t("web.core.users.no_end"); } },
        { key: "last_seen_at", label: NT.t("web.core.account.last_used"), fmt: function (v) { return NT.fmtTime(v); } },
        { key: "id", label: "", render: function (r) {
          if (r.revoked_at) return NT.el("span", { class: "nt-badge", text: NT.t("web.core.users.revoked") });
          return NT.el("button", { type: "button", class: "nt-btn nt-btn-small nt-btn-danger", text: NT.t("web.core.users.revoke"),
            onclick: function () {
              NT.api("/api/auth/api-tokens/" + r.id, { method: "DELETE" }).then(tokens).catch(fail($("token-error")));
            } });
        } }
      ], list, { empty: NT.t("web.core.account.no_tokens") });
    });
  }

  function createToken(event) {
    event.preventDefault();
    var days = parseInt($("token-days").value, 10);
    NT.api("/api/auth/api-tokens", { method: "POST",
      body: { name: $("token-name").value.trim(), valid_days: days > 0 ? days : null } })
      .then(function (r) {
        var box = $("token-new");
        box.textContent = "";
        box.appendChild(NT.el("div", { class: "nt-token" }, [
          NT.el("p", { text: NT.t("web.core.account.token_once") }),
          NT.el("p", { class: "nt-mono", id: "token-value", text: r.token })
        ]));
        box.hidden = false;
        $("token-form").reset();
        return tokens();
      }).catch(fail($("token-error")));
  }

  $("password-form").addEventListener("submit", changePassword);
  $("totp-start").addEventListener("click", startTotp);
  $("totp-form").addEventListener("submit", confirmTotp);
  $("token-form").addEventListener("submit", createToken);
  me().then(function (user) {
    // API tokens are made from an interactive session only
    if (user.session_kind === "session" && !NT.mustChange) return tokens();
    return null;
  }).catch(fail()).then(NT.ready);
})();

/* Login: the form posts to /login (it works without this script); with it, the answer comes
 * as JSON so that the password stays in the form when the server asks for the one-time code
 * (totp_required) or for a new password (password_expired). */
(function () {
  "use strict";
  var form = document.getElementById("login-form");
  var message = document.getElementById("login-message");
  var totpField = document.getElementById("login-totp-field");
  var totp = document.getElementById("login-totp");
  var expired = document.getElementById("login-expired");
  var submit = document.getElementById("login-submit");

  function show(text, code) {
    message.textContent = "";
    message.appendChild(NT.el("div", { class: "nt-error", role: "alert", text: text,
      dataset: { error: code || "" } }));
    message.hidden = false;
  }

  function step(name) {
    form.dataset.step = name;
    var needTotp = name === "totp";
    totpField.hidden = !needTotp;
    totp.disabled = !needTotp;
    totp.required = needTotp;
    var needNew = name === "expired";
    expired.hidden = !needNew;
    expired.disabled = !needNew;
    if (needTotp) totp.focus();
    if (needNew) document.getElementById("login-new-password").focus();
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (form.dataset.step === "expired") {
      var a = document.getElementById("login-new-password").value;
      var b = document.getElementById("login-new-password2").value;
      if (a !== b) { show(NT.t("web.core.login.error.mismatch"), "mismatch"); return; }
    }
    submit.disabled = true;
    fetch(form.action, {
      method: "POST", body: new FormData(form), credentials: "same-origin",
      headers: { "Accept": "application/json", "Accept-Language": NT.lang }
    }).then(function (response) {
      return response.json().then(function (data) { return { ok: response.ok, data: data }; });
    }).then(function (answer) {
      if (answer.ok) { location.assign(answer.data.redirect || "/"); return; }
      submit.disabled = false;
      show(answer.data.message || answer.data.error, answer.data.error);
      if (answer.data.step) step(answer.data.step);
      if (answer.data.error === "totp_invalid") { totp.value = ""; totp.focus(); }
      if (answer.data.error === "invalid_credentials") {
        document.getElementById("login-password").value = "";
        document.getElementById("login-password").focus();
      }
    }).catch(function (err) {
      submit.disabled = false;
      show(err.message);
    });
  });

  step(form.dataset.step || "password");
  NT.ready();
})();

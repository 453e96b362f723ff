// Passkeys for the Sealpost dashboard. A form marked data-passkey="create" or "get"
// asks the server for the ceremony's options (POST with the form's CSRF token), hands
// them to the browser's WebAuthn API, puts the answer in the form's hidden
// "credential" field and submits the form as usual: the server checks it and
// answers with an ordinary page.
"use strict";
(function () {
  var PKC = window.PublicKeyCredential;
  function say(form, text) {
    var s = form.querySelector("[data-passkey-status]");
    if (s) { s.textContent = text; }
  }
  async function ceremony(form) {
    var kind = form.dataset.passkey;
    var res = await fetch(form.dataset.options, {
      method: "POST",
      credentials: "same-origin",
      body: new URLSearchParams({ csrf: form.elements.csrf.value })
    });
    if (!res.ok) {
      say(form, res.status === 401 ? "Your session has ended: please sign in again." : "The server could not start the passkey step. Reload the page and try again.");
      return;
    }
    var opts = await res.json();
    var cred;
    if (kind === "create") {
      cred = await navigator.credentials.create({ publicKey: PKC.parseCreationOptionsFromJSON(opts.publicKey) });
    } else {
      cred = await navigator.credentials.get({ publicKey: PKC.parseRequestOptionsFromJSON(opts.publicKey) });
    }
    form.elements.credential.value = JSON.stringify(cred.toJSON());
    form.submit();
  }
  document.querySelectorAll("form[data-passkey]").forEach(function (form) {
    if (!PKC || !PKC.parseCreationOptionsFromJSON) {
      say(form, "This browser cannot use passkeys. Use a code from your authenticator app instead.");
      form.querySelector("button").disabled = true;
      return;
    }
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      if (!form.reportValidity()) { return; }
      say(form, "Waiting for your device…");
      ceremony(form).catch(function (err) {
        say(form, err && err.name === "NotAllowedError"
          ? "The passkey step was cancelled or timed out. Try again."
          : "The passkey step failed: " + (err && err.message ? err.message : "unknown error") + ".");
      });
    });
  });
})();

"""The HTML the sandbox IdP serves.

The login form uses the field names of SimpleSAMLphp's ``core:loginuserpass`` page
(``form name="f"``, ``username``, ``password``, a hidden ``AuthState``) and shows a refusal in
``<div class="message-box error">``, so samljit's ``SimpleSAMLphp`` and ``GenericForm``
providers sign in to it exactly as they do to a real IdP. The code page has one input named
``otp`` with ``autocomplete="one-time-code"``. The passkey page's small inline script calls
``navigator.credentials.create()`` or ``.get()`` with the server's options and posts the
result back as JSON in a field named ``credential``. Every value is HTML-escaped.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

TITLE = "samljit sandbox IdP"
_STYLE = """
body { font-family: system-ui, sans-serif; margin: 3rem auto; max-width: 34rem; padding: 0 1rem;
       color: #1d2733; }
h1 { font-size: 1.4rem; }
label { display: block; margin-top: 1rem; }
input[type=text], input[type=password] { width: 100%; padding: .4rem; font-size: 1rem; }
button { margin-top: 1.2rem; padding: .5rem 1.2rem; font-size: 1rem; }
.message-box.error { border: 1px solid #b3261e; background: #fdecea; padding: .2rem .8rem; }
code { background: #eef1f4; padding: 0 .2rem; }
"""


def _document(title: str, body: str, *, onload: str = "") -> str:
    load = f' onload="{escape(onload)}"' if onload else ""
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{escape(title)}</title>\n<style>{_STYLE}</style>\n</head>\n"
        f"<body{load}>\n<main>\n{body}\n</main>\n</body>\n</html>\n"
    )


def _error_box(error: str | None) -> str:
    if not error:
        return ""
    return f'<div class="message-box error" role="alert"><p>{escape(error)}</p></div>\n'


def login_page(
    *, action: str, auth_state: str, sp_entity_id: str, username: str = "", error: str | None = None
) -> str:
    body = (
        f"<h1>{TITLE}</h1>\n"
        f"<p>Sign in to <code>{escape(sp_entity_id)}</code>.</p>\n"
        f"{_error_box(error)}"
        f'<form name="f" method="post" action="{escape(action)}">\n'
        f'<input type="hidden" name="AuthState" value="{escape(auth_state)}">\n'
        '<label for="username">Username</label>\n'
        '<input id="username" name="username" type="text" autocomplete="username" '
        f'value="{escape(username)}" autofocus>\n'
        '<label for="password">Password</label>\n'
        '<input id="password" name="password" type="password" autocomplete="current-password">\n'
        '<button type="submit">Sign in</button>\n'
        "</form>"
    )
    return _document(f"{TITLE}: sign in", body)


def otp_page(*, action: str, auth_state: str, username: str, error: str | None = None) -> str:
    body = (
        f"<h1>{TITLE}</h1>\n"
        f"<p>Signed in as <code>{escape(username)}</code>. Enter the code from your "
        "authenticator app.</p>\n"
        f"{_error_box(error)}"
        f'<form name="f" method="post" action="{escape(action)}">\n'
        f'<input type="hidden" name="AuthState" value="{escape(auth_state)}">\n'
        '<label for="otp">One-time code</label>\n'
        '<input id="otp" name="otp" type="text" inputmode="numeric" '
        'autocomplete="one-time-code" maxlength="6" autofocus>\n'
        '<button type="submit">Verify</button>\n'
        "</form>"
    )
    return _document(f"{TITLE}: one-time code", body)


# base64url <-> ArrayBuffer, the options' binary fields decoded, the credential encoded back
# the way py_webauthn parses it, then posted; an error is shown with a button to try again.
_PASSKEY_SCRIPT = """
(function () {
  const form = document.forms.f;
  const mode = form.dataset.mode;
  const status = document.getElementById("status");
  const b = (t) => Uint8Array.from(
    atob(t.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((t.length + 3) % 4)),
    (c) => c.charCodeAt(0)).buffer;
  const s = (buf) => btoa(String.fromCharCode(...new Uint8Array(buf)))
    .replace(/\\+/g, "-").replace(/\\//g, "_").replace(/=+$/, "");
  async function run() {
    const pk = JSON.parse(document.getElementById("options").textContent);
    pk.challenge = b(pk.challenge);
    const ids = (list) => (list || []).forEach((c) => { c.id = b(c.id); });
    let cred, response;
    status.textContent = mode === "create" ? "Creating a passkey…" : "Waiting for your passkey…";
    if (mode === "create") {
      pk.user.id = b(pk.user.id);
      ids(pk.excludeCredentials);
      cred = await navigator.credentials.create({publicKey: pk});
      const r = cred.response;
      response = {clientDataJSON: s(r.clientDataJSON), attestationObject: s(r.attestationObject),
                  transports: r.getTransports ? r.getTransports() : []};
    } else {
      ids(pk.allowCredentials);
      cred = await navigator.credentials.get({publicKey: pk});
      const r = cred.response;
      response = {clientDataJSON: s(r.clientDataJSON), authenticatorData: s(r.authenticatorData),
                  signature: s(r.signature), userHandle: r.userHandle ? s(r.userHandle) : null};
    }
    form.credential.value = JSON.stringify({
      id: cred.id, rawId: s(cred.rawId), type: cred.type, response: response,
      authenticatorAttachment: cred.authenticatorAttachment,
      clientExtensionResults: cred.getClientExtensionResults()});
    form.submit();
  }
  function start() {
    run().catch((e) => { status.textContent = "The passkey did not answer: " + e.name + ". "
      + "Press the button to try again."; });
  }
  document.getElementById("again").addEventListener("click", start);
  start();
})();
"""


def passkey_page(
    *, action: str, auth_state: str, username: str, options_json: str, create: bool,
    error: str | None = None,
) -> str:  # fmt: skip
    """The passkey step: registration (``create``) or sign-in, the options from the server."""
    what = (
        "Register a passkey for this account: your browser asks for it now."
        if create
        else "Confirm with your passkey: your browser asks for it now."
    )
    options = options_json.replace("<", "\\u003c")  # no "</script>" inside the JSON
    body = (
        f"<h1>{TITLE}</h1>\n"
        f"<p>Signed in as <code>{escape(username)}</code>. {what}</p>\n"
        f"{_error_box(error)}"
        '<p id="status" role="status"></p>\n'
        f'<form name="f" method="post" action="{escape(action)}" '
        f'data-mode="{"create" if create else "get"}">\n'
        f'<input type="hidden" name="AuthState" value="{escape(auth_state)}">\n'
        '<input type="hidden" name="credential" value="">\n'
        "</form>\n"
        '<button type="button" id="again">Use a passkey</button>\n'
        f'<script type="application/json" id="options">{options}</script>\n'
        f"<script>{_PASSKEY_SCRIPT}</script>"
    )
    return _document(f"{TITLE}: passkey", body)


def post_page(*, acs_url: str, saml_response: str, relay_state: str | None) -> str:
    """The page that hands the SAMLResponse to the service provider (HTTP-POST binding)."""
    relay = (
        f'<input type="hidden" name="RelayState" value="{escape(relay_state)}">\n'
        if relay_state
        else ""
    )
    body = (
        f"<h1>{TITLE}</h1>\n"
        "<noscript><p>JavaScript is off: press the button to continue.</p></noscript>\n"
        f'<form method="post" action="{escape(acs_url)}">\n'
        f'<input type="hidden" name="SAMLResponse" value="{escape(saml_response)}">\n'
        f"{relay}"
        '<noscript><button type="submit">Continue</button></noscript>\n'
        "</form>"
    )
    return _document(f"{TITLE}: signing you in", body, onload="document.forms[0].submit()")


def message_page(heading: str, text: str) -> str:
    body = f"<h1>{TITLE}</h1>\n<h2>{escape(heading)}</h2>\n<p>{escape(text)}</p>"
    return _document(f"{TITLE}: {heading}", body)


def index_page(*, sso_url: str, metadata_url: str, sp_entity_ids: Sequence[str]) -> str:
    items = "".join(f"<li><code>{escape(sp)}</code></li>" for sp in sp_entity_ids)
    body = (
        f"<h1>{TITLE}</h1>\n"
        "<p>A small SAML 2.0 identity provider on loopback, for trying samljit and IAM SAML "
        "setups (with moto or LocalStack) without a real IdP.</p>\n"
        f'<p>IdP-initiated sign-in: <a href="{escape(sso_url)}">{escape(sso_url)}</a></p>\n'
        f'<p>Metadata (upload it to IAM as a SAML provider): <a href="{escape(metadata_url)}">'
        f"{escape(metadata_url)}</a></p>\n"
        f"<p>Service providers:</p><ul>{items}</ul>"
    )
    return _document(TITLE, body)

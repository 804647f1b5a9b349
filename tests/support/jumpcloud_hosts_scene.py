"""The scene of the JumpCloud two-hosts tests, run inside a private network and mount namespace
(:func:`tests.support.netns.run_python` with a hosts file naming :data:`API_HOST`,
:data:`SSO_HOST` and :data:`OTHER_HOST` 127.0.0.1): the JumpCloud emulator with its console
API on ``https://API_HOST`` and its SSO pages on ``https://SSO_HOST`` (port 443, one
certificate for the three names from a test CA the run trusts through ``AWS_CA_BUNDLE``),
moto's STS on loopback, and the installed samljit logging in. The first SSO page sends the
browser through ``OTHER_HOST``, an unrelated host that sets cookies of its own (one host-only,
one for its parent domain), and back.

Mode ``domain``: the emulator sets its session cookie with ``Domain=PARENT``, as JumpCloud
does; samljit logs in, then once more with ``--force`` and no password (the kept IdP session).
Mode ``host``: the session cookie has no ``Domain`` (the API host's only); one login.
Mode ``push``: as ``domain``, but the user approves a JumpCloud Protect push after the
password (the factor's start and polls go to the API host); one login.
Mode ``key``: as ``push`` with a security key (the software key of tests/support/softkey.py,
enrolled for the API host as relying party and origin) instead of the push.

Prints one JSON object: each run's exit code and output, the requests the emulator saw during
each (``[method, host, path]``), the cookies samljit kept as the IdP session after the first
run, and every secret the emulator handed out (for the caller's leak check).

    python -m tests.support.jumpcloud_hosts_scene {domain|host|push|key} HOME
"""

from __future__ import annotations

import json
import os
import secrets
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import quote

from werkzeug.wrappers import Request, Response

from samljit.testing.emulator import ISSUED
from tests.emulators.jumpcloud import JumpCloudEmulator, KeyCredential
from tests.support.accounts import SLUG, account_config, make_user
from tests.support.cli import kept_cookies, run_samljit
from tests.support.moto_sts import MotoSts
from tests.support.softkey import SoftKeyStore, enroll, softkey_env
from tests.support.tls import tls_pair

PARENT = "jumpcloud.test"
API_HOST = f"console.{PARENT}"
SSO_HOST = f"sso.{PARENT}"
#: An unrelated host, whose name merely ends like the IdP's parent domain.
OTHER_HOST = "www.notjumpcloud.test"
OTHER_PARENT = "notjumpcloud.test"
#: The cookies :data:`OTHER_HOST` sets: host-only, and for :data:`OTHER_PARENT`.
OTHER_COOKIES = ("visitor", "tracker")


class SceneJumpCloud(JumpCloudEmulator):
    """The emulator, with :data:`OTHER_HOST`'s page (``/bounce?next=URL``: set its cookies,
    302 to URL) served by the same listener, and each request's host noted."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.seen: list[tuple[str, str, str]] = []

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        request = Request(environ)
        host = request.host.partition(":")[0].lower()
        with self._lock:
            self.seen.append((request.method, host, request.path))
        if host != OTHER_HOST:
            return super().__call__(environ, start_response)
        response = Response(status=302, headers={"Location": request.args.get("next", "/")})
        visitor, tracker = (self._note_cookie(secrets.token_urlsafe(16)) for _ in OTHER_COOKIES)
        response.set_cookie(OTHER_COOKIES[0], visitor, secure=True)
        response.set_cookie(OTHER_COOKIES[1], tracker, domain=OTHER_PARENT, secure=True)
        return response(environ, start_response)


def main(mode: str, home_arg: str) -> None:
    home = Path(home_arg)
    pair = tls_pair(home, "jumpcloud", API_HOST, SSO_HOST, OTHER_HOST)
    push = "accept" if mode == "push" else None
    keys: list[KeyCredential] = []
    key_env: dict[str, str] = {}
    if mode == "key":
        store = SoftKeyStore(home / "softkey.json")
        credential = enroll(store, rp_id=API_HOST, origin=f"https://{API_HOST}")
        keys = [KeyCredential(credential.id, credential.public_key, credential.sign_count)]
        key_env = softkey_env(store)
    # without push or key, the password alone signs in
    user = make_user(totp_secret=None, push=push, webauthn=keys)
    emulator = SceneJumpCloud(
        [user],
        port=443,
        tls=pair.server_context(),
        api_host=API_HOST,
        sso_host=SSO_HOST,
        cookie_domain=None if mode == "host" else PARENT,
    )
    result: dict[str, Any] = {}
    with emulator, MotoSts() as sts:
        (home / ".samljit").write_text(
            account_config(emulator, mfa={"push": "PUSH", "key": "WEBAUTHN"}.get(mode, "Auto"))
        )
        back = quote(emulator.sso_url(SLUG), safe="")
        emulator.fail_next(
            "/saml2/", 302, headers={"Location": f"https://{OTHER_HOST}/bounce?next={back}"}
        )
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_ENDPOINT_URL")}
        env.update(AWS_CA_BUNDLE=str(pair.ca), AWS_ENDPOINT_URL_STS=sts.url, **key_env)
        runs = [("first", ())] + ([("second", ("--force",))] if mode == "domain" else [])
        for name, extra in runs:
            mark = len(emulator.seen)
            password = {"SAMLJIT_PASSWORD": ""} if name == "second" else {}
            ran = run_samljit(
                "login", "-a", "production", *extra, env={**env, **password}, cwd=home
            )
            result[name] = {
                "returncode": ran.returncode,
                "stdout": ran.stdout,
                "stderr": ran.stderr,
                "requests": emulator.seen[mark:],
            }
            if name == "first":
                result["kept"] = kept_cookies(home)
        result["urls"] = {"api": emulator.api_url, "sso": emulator.sso_url(SLUG)}
        result["issued"] = len(emulator.issued)
    result["secrets"] = ISSUED.secrets
    print(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])

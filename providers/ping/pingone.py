"""PingOne in front of PingFederate: the AWS app's SSO URL (``/sso/sp/initsso?saasid=…``
or ``/ENV_ID/saml20/idp/startsso?spEntityId=…``) hands the user to PingFederate by SAML,
PingFederate's Response goes back to PingOne (no AWS roles in it: a hop, not the end), and
PingOne answers the Response for AWS. PingOne's own sign-on pages run on JavaScript only.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from samljit.idp.api import AuthenticationError, Page, shown_url

#: The two shapes of a PingOne AWS app's SSO URL (path endings).
URL_SHAPES = ("/sso/sp/initsso", "/saml20/idp/startsso")


def known_shape(url: str) -> bool:
    path = urlsplit(url).path.rstrip("/").lower()
    return any(path.endswith(shape) for shape in URL_SHAPES)


def needs_javascript(page: Page) -> AuthenticationError | None:
    """A sign-on page that is all script (no form, a ``<noscript>`` note): the error that
    names ``--browser``; ``None`` for any other page."""
    if page.forms or not (page.select("script") and page.select("noscript")):
        return None
    return AuthenticationError(
        f"the sign-on page at {shown_url(page.url)} needs JavaScript, which samljit cannot "
        "run in a terminal",
        hint="log in with `samljit login --browser`",
    )

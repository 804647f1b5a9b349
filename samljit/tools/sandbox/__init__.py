"""A small SAML identity provider for trying samljit (and IAM SAML setups) on loopback.

``samljit sandbox serve`` runs it on its own; ``samljit demo`` runs it next to moto's STS.
The pieces, each small and importable without the heavy libraries:

* :mod:`samljit.tools.sandbox.totp`: RFC 6238 one-time codes (what an authenticator app shows);
* :mod:`samljit.tools.sandbox.users`: the users, their passwords, TOTP secrets and AWS roles;
* :mod:`samljit.tools.sandbox.pages`: the HTML the IdP serves (login, code, auto-submit pages);
* :mod:`samljit.tools.sandbox.metadata`: the IdP metadata XML to upload to IAM as a SAML provider;
* :mod:`samljit.tools.sandbox.idp`: the IdP itself, a WSGI application;
* :mod:`samljit.tools.sandbox.server`: serving a WSGI application on 127.0.0.1 in a thread;
* :mod:`samljit.tools.sandbox.sts`: moto's STS behind a thin wrapper for its multi-role bug.
"""

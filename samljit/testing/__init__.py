"""A small kit for testing IdP providers, samljit's own and third parties' alike.

* :class:`~samljit.testing.emulator.LoopbackEmulator`: the base of an IdP emulator, a WSGI
  application served on 127.0.0.1 (ephemeral port) with no access log;
  :class:`~samljit.testing.emulator.RecordingEmulator` adds the requests seen, the
  SAMLResponses and cookies handed out, and forced failures (``fail_next``); every secret an
  emulator hands out also goes to :data:`~samljit.testing.emulator.ISSUED`, for a leak check;
* :func:`~samljit.testing.saml.signed_response`: a signed, base64 SAMLResponse for AWS roles,
  as an IdP would post it;
* :func:`~samljit.testing.fakes.fake_services`: the run's services with a non-interactive
  terminal, a fake clock and a sleeper that only advances it;
* :class:`~samljit.testing.conformance.ProviderConformance`: the tests every provider should
  pass, as a pytest base class.

Nothing here is imported by samljit's commands; tests import it (needs ``samljit[test]``
for werkzeug).
"""

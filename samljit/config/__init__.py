"""Stage 2, configuration: IdP accounts (``~/.samljit``), the saml2aws import, passwords."""

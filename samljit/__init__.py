"""samljit: just-in-time AWS credentials from a SAML single sign-on login."""

__version__ = "0.1.0"

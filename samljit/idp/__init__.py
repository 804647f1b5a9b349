"""Identity-provider side helpers: building and signing SAML responses."""

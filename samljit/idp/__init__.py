"""Stage 3, the IdP: the provider API and registry, the HTTP client, MFA factors, the HTML page
reader and the form engine. Providers (``samljit.providers``) build on these."""

"""Stage 4, the SAML assertion: safe XML, decoding and reading it, and verifying it."""

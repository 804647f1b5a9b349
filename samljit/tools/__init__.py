"""Tools beside the login path: the IdP certificate maker, the sandbox IdP, doctor."""

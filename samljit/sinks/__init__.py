"""Stage 6, where credentials go: the credentials file and its profile, environment variables,
shell export lines, credential_process JSON."""

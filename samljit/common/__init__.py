"""The ground floor: what every stage of samljit shares (errors, redaction, text, files, INI,
URLs, the terminal, the HTTP client, safe XML, paths, the services record). Nothing here
imports from a stage above it (see ``[tool.importlinter]`` in pyproject.toml)."""

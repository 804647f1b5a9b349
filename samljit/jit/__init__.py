"""The just-in-time flow that ties the stages together: login, caches, the audit log."""

"""A verifier of OCV audit bundles written from docs/specs/audit-log-format.md alone."""

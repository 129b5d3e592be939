"""The signed, append-only audit log (see docs/specs/audit-log-format.md)."""

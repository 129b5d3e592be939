"""Registration: election setup, the voter registry, imports, objections, lists and the
voter self-check (docs/architecture.md)."""

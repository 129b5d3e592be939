"""Tally: verification, reconciliation and publication of results (docs/architecture.md)."""

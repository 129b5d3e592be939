"""Polling: what happens at an overseas polling station (docs/architecture.md)."""

"""Accounts, roles, sessions, second factors and API tokens."""

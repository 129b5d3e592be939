"""Shared test data: the actors tests act as."""

from __future__ import annotations

from ocv.acting import Actor

# The operator at the console, as `ocv --as test-operator ...` would record them.
OPERATOR = Actor.operator("test-operator")

"""OCV core: app factory, settings, database, accounts, crypto, i18n and the CLI."""

from typing import Any

__all__ = ["create_app"]


def __getattr__(name: str) -> Any:
    # `ocv.create_app` wires every domain package, and those import `ocv.db`: the
    # package itself must stay light, so the factory is loaded on first use.
    if name == "create_app":
        from ocv.app import create_app

        return create_app
    raise AttributeError(name)

"""The rate limits of the voter self-check, shared by its page and its API.

Registration numbers are public (the log names them), so the self-check must keep anyone
from guessing a voter's date of birth, some 30,000 values. Two limits do: one per client
address, and one per registration number from any address, which holds against guesses
spread over many addresses. At the defaults (OCV_SELF_CHECK_RATE_LIMIT,
OCV_SELF_CHECK_NUMBER_LIMIT) a number takes at most 30 guesses a day: years for the whole
range. The price is that someone who knows a number can use up its day, for a day.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from flask import request

from ocv.security import limiter
from ocv.web import current_settings
from registration import regno

F = TypeVar("F", bound=Callable[..., object])


def _number() -> str:
    """The number asked about, however it was typed (dashes, case, lookalikes)."""
    typed = request.values.get("reg_no", "")
    try:
        return regno.normalize(typed)
    except regno.InvalidRegNo:
        return typed.strip().upper()[:40]


def _no_number() -> bool:
    return not request.values.get("reg_no", "").strip()


def per_address_limit() -> str:
    return current_settings().self_check_rate_limit


def per_number(methods: list[str] | None = None) -> Callable[[F], F]:
    """The limit per registration number, from any address."""
    limit: Callable[[F], F] = limiter.shared_limit(  # type: ignore[assignment]
        lambda: current_settings().self_check_number_limit,
        scope="self-check-number",
        key_func=_number,
        methods=methods,
        exempt_when=_no_number,
    )
    return limit


def limited(methods: list[str] | None = None) -> Callable[[F], F]:
    """Both limits on a view of the self-check (its page counts only what is sent, POST)."""
    per_address = limiter.shared_limit(per_address_limit, scope="self-check-address", methods=methods)

    def decorate(view: F) -> F:
        return per_address(per_number(methods)(view))  # type: ignore[return-value]

    return decorate

"""Languages: choice by explicit switch, then the browser's preference; RTL for Arabic."""

from __future__ import annotations

from flask import Flask, current_app, request, session
from flask_babel import Babel, get_locale

RTL_LANGUAGES = frozenset({"ar", "fa", "ps", "ur", "he"})
LANGUAGE_NAMES = {"en": "English", "fr": "Français", "ar": "العربية", "fa": "دری", "ps": "پښتو"}

babel = Babel()


def select_locale() -> str | None:
    languages: tuple[str, ...] = current_app.config["OCV_LANGUAGES"]
    chosen = request.args.get("lang") or session.get("lang")
    if chosen in languages:
        return str(chosen)
    return request.accept_languages.best_match(languages) or current_app.config["BABEL_DEFAULT_LOCALE"]


def text_direction() -> str:
    return "rtl" if str(get_locale()).split("_")[0] in RTL_LANGUAGES else "ltr"


def init_i18n(app: Flask, languages: tuple[str, ...], default: str) -> None:
    app.config["OCV_LANGUAGES"] = languages
    app.config["BABEL_DEFAULT_LOCALE"] = default
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = "translations"
    babel.init_app(app, locale_selector=select_locale)

    @app.context_processor
    def _language_context() -> dict[str, object]:
        return {
            "text_direction": text_direction,
            "current_language": lambda: str(get_locale()),
            "languages": [(code, LANGUAGE_NAMES.get(code, code)) for code in languages],
        }

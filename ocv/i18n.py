"""Languages: choice by explicit switch, then the browser's preference; RTL for Arabic."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from flask import Flask, current_app, request, session
from flask_babel import Babel, get_locale, gettext

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

    app.add_template_filter(translate, "translated")


# --- the services' messages in the reader's language -------------------------------------
#
# Services speak English (the API, the CLI and the log keep it); pages show their messages
# translated. Each package lists its messages as templates, marked N_("... %(name)s ...") for
# the catalogs; a message is matched against them and its catalog entry filled with the
# values found. A value that is itself a word of ours (a phase, a document type) is
# translated by the package's own function for that placeholder.

_Template = tuple["re.Pattern[str]", str, dict[str, Callable[[str], str]]]
_TEMPLATES: list[_Template] = []
_PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def N_(message: str) -> str:  # noqa: N802 (the name gettext's tools look for)
    """Marks a message for the catalogs without translating it here."""
    return message


def register_messages(templates: Iterable[str], words: dict[str, Callable[[str], str]] | None = None) -> None:
    """Teach `translate` the English templates of a package's messages; `words` translates
    the value of a placeholder of that name (e.g. {"phase": phase_name})."""
    for template in templates:
        pattern, last = [], 0
        for match in _PLACEHOLDER.finditer(template):
            pattern.append(re.escape(template[last : match.start()]))
            pattern.append(f"(?P<{match.group(1)}>.+?)")
            last = match.end()
        pattern.append(re.escape(template[last:]))
        _TEMPLATES.append((re.compile("".join(pattern) + r"\Z", re.DOTALL), template, words or {}))


def translate(message: object) -> str:
    """A service's English message in the reader's language; one no template knows, as it is."""
    message = str(message)  # a form's own messages are lazy strings, translated already
    for pattern, template, words in _TEMPLATES:
        found = pattern.match(message)
        if found:
            values = {
                name: words[name](value.strip("'")) if name in words else value
                for name, value in found.groupdict().items()
            }
            return gettext(template, **values)
    return message

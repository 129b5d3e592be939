"""The application factory: wires settings, database, security, i18n, blueprints and CLI."""

from __future__ import annotations

from flask import Flask

from audit import api as audit_api
from audit import keys as audit_keys
from audit import sequencer as audit_sequencer
from audit import service as audit_service
from audit import state as audit_state
from audit import views as audit_views
from audit.events import AUDIT_EVENTS
from ocv import acting, events
from ocv.assets import init_assets
from ocv.auth import api as auth_api
from ocv.auth import service as accounts
from ocv.auth import views as auth_views
from ocv.auth.events import AUTH_EVENTS
from ocv.auth.session import init_login
from ocv.bounds import init_bounds
from ocv.compression import init_compression
from ocv.db import Database, database
from ocv.errors_web import init_error_handlers
from ocv.i18n import init_i18n
from ocv.logs import init_logging
from ocv.openapi import views as openapi_views
from ocv.security import init_security
from ocv.settings import Settings
from ocv.views import bp as core_bp
from polling import api as polling_api
from polling import service as polling_service
from polling import views as polling_views
from polling.events import POLLING_EVENTS
from registration import api as registration_api
from registration import service as registration_service
from registration import setup_views
from registration import views as registration_views
from registration.events import REGISTRATION_EVENTS
from registration.imports import views as import_views
from tally import api as tally_api
from tally import views as tally_views
from tally.events import TALLY_EVENTS


def create_app(settings: Settings | None = None) -> Flask:
    settings = settings or Settings.from_env()
    app = Flask(__name__, instance_path=str(settings.instance_path))
    settings.instance_path.mkdir(parents=True, exist_ok=True)
    app.config["OCV_SETTINGS"] = settings
    app.config["TESTING"] = settings.env == "test"

    init_logging(app, settings.json_logs)
    init_bounds(app)  # before any route is added: the converters apply to every route
    init_compression(app)  # registered first, so it runs after every other after_request
    init_assets(app)
    Database(settings.resolved_database_url).init_app(app)
    init_security(app, settings)
    init_i18n(app, settings.languages, settings.default_language)
    init_login(app)
    init_error_handlers(app)

    _wire_domains(app)
    if settings.audit_sequencer == "inline":
        database(app).committed_hooks.append(audit_sequencer.after_commit)
    app.register_blueprint(core_bp)
    app.register_blueprint(auth_views.bp)
    app.register_blueprint(auth_api.bp)
    app.register_blueprint(openapi_views.bp)
    return app


def _wire_domains(app: Flask) -> None:
    """Plug the domain packages in: the only place core knows them (docs/architecture.md)."""
    events.register(*AUTH_EVENTS, *AUDIT_EVENTS, *REGISTRATION_EVENTS, *POLLING_EVENTS, *TALLY_EVENTS)
    acting.set_recorder(audit_service.append)
    if audit_keys.follow_password_change not in accounts.password_hooks:
        accounts.password_hooks.append(audit_keys.follow_password_change)
    audit_state.register_state("accounts", accounts.account_state)
    audit_state.register_state("registry", registration_service.registry_counts)
    audit_state.register_state("marked_register", polling_service.marked_register)
    audit_state.register_state("polling_stations", polling_service.station_states)
    for blueprint in (
        audit_views.bp,
        audit_api.bp,
        registration_views.bp,
        registration_api.bp,
        polling_api.bp,
        polling_views.bp,
        tally_api.bp,
        tally_views.bp,
        import_views.bp,
        setup_views.bp,
    ):
        app.register_blueprint(blueprint)

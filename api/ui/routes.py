"""The web UI's route table: every page and fragment, and `install`, which adds them to the app.

Not in api/routes.py: these are HTML pages for people, not API operations, so they stay out of
the OpenAPI document and the edge middleware. A module of its own so that a page may live in
its own module (api/ui/audit_page.py) and still be listed here with the others.
"""

from __future__ import annotations

from collections.abc import Callable

import falcon
import jinja2

from api.auth import Authenticator
from api.gateway import CommandGateway
from api.reads import ReadModels
from api.ui.audit_page import AuditPage
from api.ui.resources import (
    HOME,
    SIGN_IN,
    ConfigurationsFragment,
    HomeResource,
    NewConfigurationFragment,
    NewVersionFragment,
    NewWorkerFragment,
    ObjectSearchPage,
    PasswordSignInResource,
    QuickRunFragment,
    RetractRunForm,
    RunPage,
    RunsFragment,
    SignInRequired,
    SignInResource,
    SignOutResource,
    VersionsFragment,
    WorkerFragment,
    WorkerRunsPage,
    WorkersFragment,
    _handle_sign_in_required,
    _Ui,
    make_environment,
)
from api.ui.session import SessionCodec

#: path -> resource class
UI_ROUTES: tuple[tuple[str, type[_Ui]], ...] = (
    ("/", HomeResource),
    (SIGN_IN, SignInResource),
    ("/sign-in/password", PasswordSignInResource),  # issue 10 B
    ("/sign-out", SignOutResource),
    (HOME, WorkerRunsPage),
    (f"{HOME}/runs/{{id:uuid}}", RunPage),  # issue 14: what did this run sign?
    (f"{HOME}/runs/{{id:uuid}}/retract", RetractRunForm),  # issue 14: retract it
    (f"{HOME}/objects", ObjectSearchPage),  # issue 14: who created this object?
    (f"{HOME}/audit", AuditPage),  # issue 14: the audit trail, for administrators
    ("/ui/runs", RunsFragment),
    ("/ui/workers", WorkersFragment),
    ("/ui/workers/new", NewWorkerFragment),
    ("/ui/workers/{id:uuid}", WorkerFragment),
    ("/ui/workers/{id:uuid}/versions", VersionsFragment),
    ("/ui/workers/{id:uuid}/versions/new", NewVersionFragment),
    ("/ui/workers/{id:uuid}/configurations", ConfigurationsFragment),
    ("/ui/workers/{id:uuid}/configurations/new", NewConfigurationFragment),
    ("/ui/quick-run", QuickRunFragment),  # issue 14: the one-step run
)
STATIC_PREFIX = "/static/ui"


def install(
    app: falcon.App, *, sessions: SessionCodec, authenticator: Authenticator, commands: CommandGateway,
    reads: ReadModels, static_dir: str, make_env: Callable[[], jinja2.Environment] = make_environment,
) -> None:
    """Add the UI's routes, static files and sign-in handling to `app`."""
    env = make_env()
    for path, resource_class in UI_ROUTES:
        app.add_route(path, resource_class(env, sessions, authenticator, commands, reads))
    app.add_static_route(STATIC_PREFIX, static_dir)
    app.add_error_handler(SignInRequired, _handle_sign_in_required)

"""The users' operations: RetrieveUser, the caller as authenticated, and Login (issue 10 B),
password sign-in as `arkindex login` (arkindex-cli 0.5) and the official
client's `ArkindexClient.login(email, password)` call it: `{email, password}` -> the user with
a new API token in `auth_token`.

Wrong email and wrong password get the same answer, in the same time (api/users/passwords.py), so
the endpoint does not tell which accounts exist; failures are throttled per account and per
client address in the database (api/users/login_throttle.py), whatever API process answers.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Any

import falcon
import sqlalchemy as sa
from marshmallow import Schema, fields
from sqlalchemy.engine import Engine

from api.base_schemas import RequestSchema, Text
from api.errors import CLIENT, VALIDATION, ApiError, error_entry
from api.gateway import CommandGateway
from api.users.login_throttle import ADDRESS, EMAIL, Limit, LoginThrottle
from api.users.passwords import MAX_LENGTH, PasswordStore
from commands.bus import CommandBus
from commands.messages import IssueToken
from commands.tokens import generate_token, hash_token
from domain import published
from projections.generations import live_generation
from projections.queries import CATALOG
from projections.tables import rm_users

WRONG = "Unable to sign in with this email and password."


class UserSchema(Schema):
    id = fields.UUID()
    email = fields.String(allow_none=True)
    display_name = fields.String()
    admin = fields.Boolean()
    verified_email = fields.Boolean()
    features = fields.Dict(metadata={"description": "Instance features; none are enabled here."})


class LoginBody(RequestSchema):
    email = Text(required=True, min_length=1, max_length=254,
                 metadata={"description": "Your email (or your username)."})
    password = fields.String(required=True, validate=lambda p: 0 < len(p) <= MAX_LENGTH)


class LoginAnswer(UserSchema):
    auth_token = fields.String(metadata={"description": "A new API token: `Authorization: Token <it>`."})


user_schema = UserSchema()
login_body = LoginBody()
login_answer = LoginAnswer()


def client_address(req: falcon.Request) -> str:
    """The address failures are counted against. Behind the reverse proxy (deploy/nginx.conf) the
    peer is the proxy, on a loopback or private address, and the client is the last address it
    appended to X-Forwarded-For; from any other peer the header is the client's own claim and is
    ignored (or a client could pick a fresh address for every guess)."""
    peer = req.remote_addr or ""
    header = req.get_header("X-Forwarded-For") or ""
    forwarded = [part.strip() for part in header.split(",") if part.strip()]
    try:
        behind_proxy = ipaddress.ip_address(peer).is_private  # loopback included
    except ValueError:
        behind_proxy = False
    return forwarded[-1] if behind_proxy and forwarded else peer


def find_user(conn: sa.Connection, login: str) -> dict[str, Any] | None:
    """The one user with this email (or username), case-insensitively; None when there is none
    or several (emails are not unique: an ambiguous email cannot sign in)."""
    g = live_generation(conn, CATALOG)
    column = rm_users.c.email if "@" in login else rm_users.c.username
    rows = conn.execute(
        sa.select(rm_users).where(rm_users.c.generation == g, sa.func.lower(column) == login.lower()).limit(2)
    ).mappings().all()
    return dict(rows[0]) if len(rows) == 1 else None


@dataclass(frozen=True)
class SignedIn:
    user: dict[str, Any]
    token: str


class PasswordSignIn:
    """Email (or username) and password -> a new API token; shared by Login and the web UI's
    sign-in form, so both are throttled and answered alike."""

    def __init__(self, engine: Engine, bus: CommandBus) -> None:
        self.engine = engine
        self.bus = bus
        self.passwords = PasswordStore(engine)
        self.throttle = LoginThrottle(engine)

    def sign_in(self, login: str, password: str, address: str, label: str) -> SignedIn:
        """Raises ApiError: 429 (throttled, with Retry-After), 400 (wrong email or password)."""
        login = login.strip()
        keys: dict[str, Limit] = {f"email:{login.lower()}": EMAIL, f"ip:{address}": ADDRESS}
        wait = self.throttle.retry_after(keys)
        if wait is not None:
            raise ApiError(
                status=429, type=CLIENT, headers={"Retry-After": str(wait)},
                errors=[error_entry("throttled", f"Too many failed sign-ins: try again in {wait} seconds.")],
            )
        with self.engine.connect() as conn:
            user = find_user(conn, login)
        if not self.passwords.verify(user["user_id"] if user else None, password):
            self.throttle.failed(keys)
            raise ApiError(status=400, type=VALIDATION, errors=[error_entry("invalid", WRONG)],
                           extra={"non_field_errors": [WRONG]})
        assert user is not None
        self.throttle.succeeded(f"email:{login.lower()}")
        token = generate_token()
        self.bus.handle(IssueToken(user_id=user["user_id"], token_hash=hash_token(token), label=label))
        return SignedIn(user, token)


class LoginResource:
    def __init__(self, engine: Engine, commands: CommandGateway) -> None:
        self.signer = PasswordSignIn(engine, commands.bus)

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        body = req.context.body
        signed = self.signer.sign_in(body["email"], body["password"], client_address(req), "arkindex login")
        user = signed.user
        resp.media = login_answer.dump({
            **published.user(user["user_id"], user["username"], user["email"], user["is_admin"]),
            "auth_token": signed.token,
        })


# --- users -----------------------------------------------------------------------------------


class UserResource:
    """RetrieveUser: the caller, as authenticated (the event store is the authority on
    identities; a user registered a moment ago is not necessarily projected yet)."""

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        identity = req.context.identity
        resp.media = user_schema.dump(published.user(
            identity.actor.user_id, identity.username, identity.email, identity.actor.is_admin,
        ))

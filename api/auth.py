"""`Authorization: Token <t>` -> the acting user, checked against the event store.

The token is hashed (commands.tokens.hash_token), the alias `token:<hash>` names the user's
stream, and the `User` aggregate says whether that token is still active and whether the
user is an admin. Aggregates are cached per process (token hash -> user, bounded, least
recently used first out), so a request with a known token costs no query. An entry is dropped:

- at once when a command of this process changes the user's stream (a revocation, whatever
  sent it): the store tells its append listeners before the command answers;
- for changes made by other processes (another API worker, the CLI), by a check of the user
  events after the last position seen (one indexed query on (event_type, position)), at most
  every `recheck_seconds` (1 s): a token revoked elsewhere stops working within that.

A web UI session (api/ui/session.py) is a signed cookie naming a token; sign-out revokes the
session itself on the server (api/ui/revocations.py), so a cookie-authenticated request also
costs one primary-key lookup. Token-authenticated requests never pay for it.

Each identity keeps the `Credential` that established it, so a long-lived response (the SSE
stream, integrations/live.py) can ask `still_valid` again later with the very same checks.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

import falcon

from api.errors import ApiError, error_entry
from api.ui.revocations import SessionRevocations
from api.ui.session import CSRF_HEADER, SAFE_METHODS, Session, SessionCodec
from commands.aliases import TOKEN
from commands.rehydrate import load
from commands.tokens import hash_token
from domain.actor import Actor
from domain.user import User, user_stream
from eventstore import EventStore, StreamAppend

#: the events of a user's stream (whatever changes one may change what a token authenticates)
USER_EVENT_TYPES = tuple(sorted(name.removeprefix("when_") for name in dir(User) if name.startswith("when_")))
USER_STREAM_PREFIX = user_stream("")


@dataclass(frozen=True)
class Credential:
    """What authenticated a request (never the clear token), to check it again later."""

    token_hash: str
    #: the UI session's id when a session cookie authenticated, None for `Authorization: Token`
    session_id: str | None = None
    #: when that session expires (epoch seconds), None for a token
    expires_at: float | None = None


@dataclass(frozen=True)
class Identity:
    """The authenticated caller: the domain's Actor plus what RetrieveUser shows."""

    actor: Actor
    username: str
    email: str | None
    # Not part of who the caller is: two requests of one user compare equal.
    credential: Credential | None = field(default=None, compare=False, repr=False)


class Authenticator:
    def __init__(
        self, store: EventStore, *, cache_size: int = 4096, revocations: SessionRevocations | None = None,
        recheck_seconds: float = 1.0, clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        #: signed-out UI sessions; None: sessions end only by expiry or token revocation
        self.revocations = revocations
        self.cache_size = cache_size
        #: how stale the cache may be about changes made by other processes (0: checked per request)
        self.recheck_seconds = recheck_seconds
        self._clock = clock
        # token hash -> user aggregate (immutable once cached: a change drops the entry and the
        # next request loads a new aggregate rather than mutating a shared one)
        self._users: OrderedDict[str, User] = OrderedDict()
        self._lock = threading.Lock()
        #: bumped by every drop: a user loaded while one happened may predate it, and is not cached
        self._generation = 0
        #: the position up to which other processes' user events were looked at (None: not yet)
        self._watermark: int | None = None
        self._next_check = float("-inf")
        self._check_lock = threading.Lock()
        store.add_append_listener(self._appended)

    def authenticate(self, authorization: str | None) -> Identity | None:
        """The identity for an Authorization header, or None (missing, unknown or revoked)."""
        token = _token_from_header(authorization)
        if token is None:
            return None
        return self.authenticate_token_hash(hash_token(token))

    # --- session cookies (the web UI, api/ui/session.py) ----------------------------------------
    def authenticate_token_hash(self, token_hash: str) -> Identity | None:
        """The identity for a token's hash: what a signed UI session cookie carries instead of
        the clear token. Revoking the token therefore ends the sessions opened with it."""
        user = self._current_user(token_hash)
        if user is None or not user.has_active_token(token_hash):
            return None
        return Identity(Actor(user.user_id, user.is_admin), user.username, user.email, Credential(token_hash))

    def authenticate_session(self, session: Session, *, expires_at: float | None = None) -> Identity | None:
        """The identity for a (signature-checked, unexpired) UI session: None once it was
        signed out or its token was revoked. The revocation lookup comes first: it is one
        primary-key probe, and a signed-out session needs nothing more."""
        if self._signed_out(session.session_id):
            return None
        identity = self.authenticate_token_hash(session.token_hash)
        if identity is None:
            return None
        return replace(identity, credential=Credential(session.token_hash, session.session_id, expires_at))

    def end_session(self, session: Session) -> None:
        """Sign-out: this session (and any copy of its cookie) stops authenticating. Idempotent."""
        if self.revocations is not None:
            self.revocations.revoke(session.session_id)

    def still_valid(self, credential: Credential | None) -> bool:
        """Would this credential still authenticate now? The same checks as a new request
        (expiry, sign-out, token revocation), for responses that outlive their request."""
        if credential is None:
            return False  # an identity this authenticator did not establish: fail closed
        if credential.expires_at is not None and time.time() > credential.expires_at:
            return False
        if credential.session_id is not None and self._signed_out(credential.session_id):
            return False
        return self.authenticate_token_hash(credential.token_hash) is not None

    def _signed_out(self, session_id: str) -> bool:
        return self.revocations is not None and self.revocations.is_revoked(session_id)

    def authenticate_request(self, req: falcon.Request, sessions: SessionCodec | None) -> Identity | None:
        """The `Authorization` header first; without one, the web UI's session cookie.

        Token-authenticated calls need no CSRF token (a browser never adds that header on
        its own). A cookie is sent by the browser whatever page made the request, so an
        unsafe request authenticated by it must echo the session's CSRF token in
        `X-CSRF-Token`, or it is refused (403, code `csrf_failed`).
        """
        authorization = req.get_header("Authorization")
        if authorization is not None or sessions is None:
            return self.authenticate(authorization)
        session = sessions.from_request(req)
        if session is None:
            return None
        if req.method not in SAFE_METHODS and not sessions.csrf_ok(session, req.get_header(CSRF_HEADER)):
            raise csrf_refused()
        return self.authenticate_session(session, expires_at=sessions.expires_at(session))

    def _current_user(self, token_hash: str) -> User | None:
        self._catch_up()
        with self._lock:
            cached = self._users.get(token_hash)
            if cached is not None:
                self._users.move_to_end(token_hash)
                return cached
            generation = self._generation
        stream_id = self.store.resolve(TOKEN.format(token_hash))
        if stream_id is None:
            return None
        user = load(self.store, User, stream_id)
        if not user.exists:
            return None
        with self._lock:
            if self._generation == generation:
                self._users[token_hash] = user
                while len(self._users) > self.cache_size:
                    self._users.popitem(last=False)
        return user

    def _catch_up(self) -> None:
        """Drop the users that other processes changed since the last look (at most every
        `recheck_seconds`). Positions are handed out in commit order, so every change committed
        after the last look is above the watermark."""
        if self._clock() < self._next_check:
            return
        with self._check_lock:
            if self._clock() < self._next_check:
                return  # another request just looked
            if self._watermark is None:
                # Nothing is cached yet: only changes from now on can make an entry stale.
                self._watermark = self.store.head()
            else:
                changed: set[str] = set()
                while True:
                    batch = self.store.read_all(self._watermark, 500, types=USER_EVENT_TYPES)
                    changed.update(e.stream_id for e in batch)
                    if batch:
                        self._watermark = batch[-1].global_position
                    if len(batch) < 500:
                        break
                if changed:
                    self._drop(changed)
            self._next_check = self._clock() + self.recheck_seconds

    def _appended(self, appends: Sequence[StreamAppend]) -> None:
        """This process committed `appends` (the store's listener): drop the users they change."""
        changed = {a.stream_id for a in appends if a.stream_id.startswith(USER_STREAM_PREFIX)}
        if changed:
            self._drop(changed)

    def _drop(self, stream_ids: set[str]) -> None:
        with self._lock:
            self._generation += 1
            for token_hash in [t for t, user in self._users.items() if user.stream_id in stream_ids]:
                del self._users[token_hash]


def _token_from_header(authorization: str | None) -> str | None:
    if not authorization:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    token = token.strip()
    # Only the user scheme: task tokens (`Ponos`) have no tasks to belong to here.
    if scheme.lower() != "token" or not token or len(token) > 256:
        return None
    return token


def csrf_refused() -> ApiError:
    return ApiError(status=403, type="client_error", errors=[error_entry(
        "csrf_failed", "This request is authenticated by a session cookie: send the page's CSRF token "
                       f"in {CSRF_HEADER}, or authenticate with `Authorization: Token …` instead.",
    )])

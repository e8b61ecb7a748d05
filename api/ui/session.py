"""Web UI sessions: a signed cookie, and the CSRF token that goes with it.

The cookie carries the *hash* of the API token the user signed in with (never the clear
token), a random nonce and the time it was issued, signed with HMAC-SHA256 and the
instance's secret key. The server keeps no state per open session:
- the signature makes the cookie unforgeable;
- the token hash is checked on every request against the event store (api/auth.py), so
  revoking the token ends every session opened with it;
- the nonce is also the session's id: sign-out records it as revoked on the server
  (api/ui/revocations.py), so a copy of the cookie stops working too, while the user's
  other sessions (other browsers, same token) go on;
- the CSRF token is an HMAC of the nonce: a page can only submit if it was rendered for
  this session (cookie-authenticated unsafe requests must echo it; token-authenticated
  API calls cannot be forged by a browser and need none).

The cookie is HttpOnly (scripts never read it), SameSite=Lax (not sent on cross-site
sub-requests or POSTs) and Secure whenever the request came over HTTPS.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import os
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import falcon

from worker_runs.settings import Settings

log = logging.getLogger(__name__)

COOKIE_NAME = "worker_runs_session"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
#: a session lasts this long after sign-in (the cookie's Max-Age and the signed issue time agree)
MAX_AGE_SECONDS = 7 * 24 * 3600
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
SECRET_FILE = "secret_key"
_VERSION = "v1"


@dataclass(frozen=True)
class Session:
    token_hash: str
    nonce: str
    issued_at: int

    @property
    def session_id(self) -> str:
        # The nonce is random (128 bits) and unique per sign-in: it names the session for
        # server-side revocation without adding a field to cookies already issued.
        return self.nonce


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _same(given: str, expected: str) -> bool:
    """Constant-time equality of a client-sent string and an expected one.

    `hmac.compare_digest` raises TypeError on non-ASCII str, and a cookie or header may hold
    any character: compare the UTF-8 bytes instead (surrogatepass: never raises either)."""
    return hmac.compare_digest(
        given.encode("utf-8", "surrogatepass"), expected.encode("utf-8", "surrogatepass")
    )


class SessionCodec:
    """Signs and checks session cookies and CSRF tokens with one secret."""

    def __init__(
        self, secret: bytes, *, max_age: int = MAX_AGE_SECONDS, clock: Callable[[], float] = time.time,
    ) -> None:
        if len(secret) < 16:
            raise ValueError("The session secret must be at least 16 bytes long.")
        # Separate keys per purpose, so a CSRF token can never pass as a cookie signature.
        self._cookie_key = hmac.new(secret, b"worker-runs session cookie", hashlib.sha256).digest()
        self._csrf_key = hmac.new(secret, b"worker-runs csrf token", hashlib.sha256).digest()
        self.max_age = max_age
        self.clock = clock

    # --- cookie values ------------------------------------------------------------------------

    def issue(self, token_hash: str) -> tuple[str, Session]:
        session = Session(token_hash=token_hash, nonce=secrets.token_urlsafe(16), issued_at=int(self.clock()))
        payload = _b64(json.dumps(
            {"h": session.token_hash, "n": session.nonce, "t": session.issued_at}, separators=(",", ":"),
        ).encode())
        return f"{_VERSION}.{payload}.{self._sign(payload)}", session

    def load(self, value: str | None) -> Session | None:
        """The session in a cookie value, or None when absent, tampered with or expired."""
        if not value or len(value) > 1024:
            return None
        version, _, rest = value.partition(".")
        payload, _, signature = rest.partition(".")
        if version != _VERSION or not payload or not _same(signature, self._sign(payload)):
            return None
        try:
            data = json.loads(_unb64(payload))
            session = Session(token_hash=str(data["h"]), nonce=str(data["n"]), issued_at=int(data["t"]))
        except (ValueError, KeyError, TypeError):
            return None
        if not 0 <= self.clock() - session.issued_at <= self.max_age:
            return None
        return session

    def expires_at(self, session: Session) -> float:
        """When the session stops being accepted (epoch seconds, the codec's clock)."""
        return float(session.issued_at + self.max_age)

    def _sign(self, payload: str) -> str:
        return _b64(hmac.new(self._cookie_key, payload.encode(), hashlib.sha256).digest())

    # --- CSRF ---------------------------------------------------------------------------------

    def csrf_token(self, session: Session) -> str:
        return _b64(hmac.new(self._csrf_key, session.nonce.encode(), hashlib.sha256).digest())

    def csrf_ok(self, session: Session, given: str | None) -> bool:
        return bool(given) and _same(str(given), self.csrf_token(session))

    # --- HTTP ---------------------------------------------------------------------------------

    def from_request(self, req: falcon.Request) -> Session | None:
        return self.load(req.cookies.get(COOKIE_NAME))

    def set_cookie(self, req: falcon.Request, resp: falcon.Response, value: str) -> None:
        resp.set_cookie(
            COOKIE_NAME, value, max_age=self.max_age, path="/", http_only=True, same_site="Lax",
            secure=is_https(req),
        )

    def clear_cookie(self, req: falcon.Request, resp: falcon.Response) -> None:
        # An empty value that has already expired, with the same attributes as the session's.
        resp.set_cookie(
            COOKIE_NAME, "", expires=datetime(1970, 1, 1, tzinfo=UTC), max_age=0, path="/", http_only=True,
            same_site="Lax", secure=is_https(req),
        )


def is_https(req: falcon.Request) -> bool:
    # Behind a TLS-terminating proxy, Falcon's forwarded_scheme reads X-Forwarded-Proto.
    return req.forwarded_scheme == "https"


def load_secret_key(settings: Settings) -> bytes:
    """WORKER_RUNS_SECRET_KEY, or a key generated once and kept in WORKER_RUNS_HOME.

    The embedded mode needs no configuration: the first start writes a random key (mode
    0600) that later starts reuse, so sessions survive restarts. Several API processes must
    share one key: set WORKER_RUNS_SECRET_KEY in production (a warning says so otherwise).
    """
    configured = getattr(settings, "secret_key", None)
    if configured:
        return configured.encode()
    path = Path(settings.home) / SECRET_FILE
    if not settings.is_embedded:
        log.warning("WORKER_RUNS_SECRET_KEY is not set: using the key in %s (share it between API processes)",
                    path)
    if path.exists():
        return _read_key(path)
    key = secrets.token_urlsafe(48).encode()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        return _process_key(key, path, exc)
    try:
        # O_EXCL: two processes starting at once agree on the first key written.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _read_key(path)
    except OSError as exc:
        return _process_key(key, path, exc)
    with os.fdopen(fd, "wb") as file:
        file.write(key)
    return key


def _process_key(key: bytes, path: Path, exc: OSError) -> bytes:
    # An unwritable home must not take the API down: the UI still works, but its sessions
    # end when this process stops and are not shared with other processes.
    log.warning("Cannot store a session key in %s (%s): using a key for this process only", path, exc)
    return key


def _read_key(path: Path) -> bytes:
    # Another process created the file a moment ago: wait (briefly) until it has written it.
    for _ in range(50):
        key = path.read_bytes().strip()
        if key:
            return key
        time.sleep(0.01)
    raise RuntimeError(f"{path} is empty: delete it or set WORKER_RUNS_SECRET_KEY")

"""Logging, configured once per process: structlog and the standard library through one pipeline.

Why this module exists: an unconfigured structlog prints exceptions as rich tracebacks *with
local variables*, so a failing request logged its `Authorization` header, the clear token
and the request body. Here:

- every record (structlog's and the stdlib's: Celery, gunicorn, SQLAlchemy, our modules)
  goes through the same processors and one handler on the root logger;
- tracebacks are plain text (file, line, source), never local variables;
- `redact` removes credentials and bodies, by key (authorization, token, password, cookie,
  secret, body, ...) and by pattern inside any text, tracebacks and exception messages
  included (`Token <hex>`, `Bearer ...`, 40-hex API tokens, SQL parameters);
- JSON lines in production (`worker-runs api|worker|relay`), a readable
  console format in development (`serve`, the other commands); WORKER_RUNS_LOG_FORMAT=json|console
  overrides either, WORKER_RUNS_LOG_LEVEL sets the level.
"""

from __future__ import annotations

import logging
import os
import re
import sys
import threading
from collections.abc import Mapping
from typing import IO, Any

import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

REDACTED = "[redacted]"

#: keys whose value is a credential or a request body, whatever it looks like (substring match,
#: lower case): `authorization`, `x-api-token`, `token_hash`, `password`, `cookie`, `set-cookie`,
#: `csrf`, `secret`, `body`, `media`, `data` of a request, ...
_SENSITIVE_KEY = re.compile(
    r"authori[sz]ation|token|passw|pwd|cookie|csrf|secret|session|api[-_]?key|credential|"
    r"signature|^body$|_body$|^media$|^payload$|^params$|^parameters$",
    re.IGNORECASE,
)

#: credentials inside free text (messages, exception strings, tracebacks)
_TEXT_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # "Authorization: Token abc", "Token abc", "Bearer abc", "Basic abc"
    (re.compile(r"\b(Token|Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{6,}", re.IGNORECASE), r"\1 " + REDACTED),
    # header or key=value forms: authorization=..., password: ..., "token": "..."
    (re.compile(
        r"""(?P<key>["']?(?:authori[sz]ation|password|passwd|secret|api[-_]?key|token|cookie|csrf[-_]?token|"""
        r"""session)["']?\s*[:=]\s*)(?P<q>["']?)(?!(?:Token|Bearer|Basic)\s|\[redacted\])[^\s"',;}{)]+""",
        re.IGNORECASE,
    ), r"\g<key>\g<q>" + REDACTED),
    # SQLAlchemy appends the statement's parameters to its errors: values from request bodies
    (re.compile(r"\[parameters: .*?\]$", re.MULTILINE | re.DOTALL), "[parameters: " + REDACTED + "]"),
    # our API tokens are 40 hex digits (commands/tokens.py); their SHA-256 hashes 64
    (re.compile(r"\b[0-9a-f]{40}\b|\b[0-9a-f]{64}\b"), REDACTED),
    # passwords in URLs: scheme://user:password@host
    (re.compile(r"(\w+://[^:/\s@]+:)[^@\s]+@"), r"\1" + REDACTED + "@"),
)


def redact_text(text: str) -> str:
    for pattern, replacement in _TEXT_PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def _redact_value(key: str | None, value: Any, depth: int = 0) -> Any:
    if key is not None and _SENSITIVE_KEY.search(key) and value not in (None, "", [], {}):
        return REDACTED
    if depth > 8:
        return value
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, Mapping):
        return {k: _redact_value(str(k), v, depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_redact_value(None, v, depth + 1) for v in value)
    if isinstance(value, bytes):
        return REDACTED  # raw bytes in a log are a body
    return value


#: keys structlog itself uses: their values are redacted as text, never dropped wholesale
_STRUCTURAL_KEYS = frozenset({"event", "exception", "stack", "logger", "level", "timestamp", "request_id",
                              "user_id", "path", "method", "_record", "_from_structlog"})


def redact(_logger: WrappedLogger, _method: str, event_dict: EventDict) -> EventDict:
    """The redaction processor: runs last before rendering, on every record."""
    for key, value in list(event_dict.items()):
        if key in ("_record", "_from_structlog"):
            continue
        if key in _STRUCTURAL_KEYS:
            if isinstance(value, str):
                event_dict[key] = redact_text(value)
            continue
        event_dict[key] = _redact_value(key, value)
    return event_dict


def _render_exception(_logger: WrappedLogger, _method: str, event_dict: EventDict) -> EventDict:
    # Plain text traceback (structlog's format_exc_info): frames and source lines, no locals.
    return structlog.processors.format_exc_info(_logger, _method, event_dict)


_lock = threading.Lock()
_configured: str | None = None
_formatter: logging.Formatter | None = None


def formatter() -> logging.Formatter | None:
    """The configured formatter (None before configure_logging), for handlers that other
    libraries install themselves (gunicorn's error and access logs: worker_runs/cli_api.py)."""
    return _formatter


def configured_format() -> str | None:
    return _configured


def configure_logging(default_format: str = "console", *, level: str | None = None,
                      stream: IO[str] | None = None, force: bool = False) -> str:
    """Configure structlog and the stdlib root logger, once per process (later calls are no-ops
    unless `force`). Returns the format in use ("json" or "console")."""
    global _configured, _formatter
    with _lock:
        if _configured is not None and not force:
            return _configured
        fmt = os.environ.get("WORKER_RUNS_LOG_FORMAT", "").strip().lower() or default_format
        if fmt not in ("json", "console"):
            fmt = default_format
        level_name = (level or os.environ.get("WORKER_RUNS_LOG_LEVEL") or "INFO").upper()

        shared: list[Processor] = [
            structlog.contextvars.merge_contextvars,
            structlog.stdlib.add_log_level,
            structlog.stdlib.add_logger_name,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.stdlib.PositionalArgumentsFormatter(),
            structlog.processors.StackInfoRenderer(),
            _render_exception,
            structlog.processors.UnicodeDecoder(),
        ]
        renderer: Processor
        if fmt == "json":
            renderer = structlog.processors.JSONRenderer()
        else:
            # exception_formatter=plain_traceback: never rich's show_locals tracebacks
            renderer = structlog.dev.ConsoleRenderer(
                colors=False, exception_formatter=structlog.dev.plain_traceback,
            )
        structlog.configure(
            processors=[structlog.stdlib.filter_by_level, *shared,
                        structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
            logger_factory=structlog.stdlib.LoggerFactory(),
            wrapper_class=structlog.stdlib.BoundLogger,
            cache_logger_on_first_use=True,
        )
        formatter = structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, redact, renderer],
        )
        _formatter = formatter
        handler = logging.StreamHandler(stream or sys.stderr)
        handler.setFormatter(formatter)
        handler.set_name("worker-runs")
        root = logging.getLogger()
        for old in list(root.handlers):
            # Plain stream handlers (logging.basicConfig's, or ours from a forced reconfiguration)
            # would print every record a second time, unredacted; handlers of other kinds (a test
            # runner's capture) are left alone.
            if type(old) is logging.StreamHandler:
                root.removeHandler(old)
        root.addHandler(handler)
        root.setLevel(level_name)
        # Third-party loggers that log request details at INFO stay at WARNING.
        for noisy in ("urllib3", "sqlalchemy.engine"):
            logging.getLogger(noisy).setLevel(logging.WARNING)
        _configured = fmt
        return fmt

"""`serve`'s HTTP server: waitress, with limits chosen for bursts and slow clients.

Why waitress (and not wsgiref, which `serve` used): wsgiref listens with Python's default
backlog of 5, so a burst of clients connecting at once saw resets (55 % at 64 clients). waitress is
pure Python and cross-platform (Windows too, unlike gunicorn), and:

- listens with a real backlog (BACKLOG) and accepts up to CONNECTION_LIMIT connections;
- reads each request, headers and body, in its event loop *before* a thread gets it, so a
  slow client (slowloris) holds a socket, never one of the bounded THREADS;
- closes a connection idle for CHANNEL_TIMEOUT seconds;
- streams responses (the SSE stream) as they are produced.

Measured against cheroot and granian (scripts/compare_wsgi_servers.py: the same app, 32 threads each,
3 interleaved repetitions, medians, 2 CPUs, a loaded machine): keep-alive req/s waitress 2,511, cheroot
2,114, granian 6,579; a burst of 256 new connections: 0 failures for all three; one normal client beside 64
slowloris sockets: waitress p99 11.5 ms, granian 4.0 ms, cheroot failed a request. granian is the fastest,
but it runs the app in its own worker process from an import string: `serve` could no longer hand it the
container it supervises (relay, Celery child, degraded state) in one process. The embedded default is
for a newcomer's first steps, where 2,500 req/s is ample, so waitress stays; `worker-runs api`
(gunicorn) is the production server.

Production keeps gunicorn (`worker-runs api`) behind the buffering proxy of docker-compose.yml.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from waitress import wasyncore
from waitress.server import create_server

#: pending connections the kernel keeps for us (somaxconn caps it)
BACKLOG = 2048
#: open connections at once (each idle one is a socket and a little memory, no thread)
CONNECTION_LIMIT = 1000
#: a connection that sends nothing for this long is closed (keep-alive, slow clients)
CHANNEL_TIMEOUT = 60
#: threads running the application (requests waiting for a projection and live streams hold one)
DEFAULT_THREADS = 32


class HttpServer:
    """A WSGI app served by waitress until `serve_until(stop)` sees `stop` set."""

    def __init__(self, app: Any, host: str, port: int, *, threads: int = DEFAULT_THREADS,
                 max_body_bytes: int = 2 * 1024 * 1024) -> None:
        self._server: Any = create_server(
            app, host=host, port=port, threads=threads, backlog=BACKLOG,
            connection_limit=CONNECTION_LIMIT, channel_timeout=CHANNEL_TIMEOUT,
            # Above the API's own 1 MB limit (which answers in the API's error shape): this one
            # only bounds what waitress buffers, chunked bodies included.
            max_request_body_size=max_body_bytes,
            # X-Forwarded-* reach the app as sent (as they did on wsgiref): behind a TLS proxy the
            # web UI reads X-Forwarded-Proto for its Secure cookie and its origin check.
            expose_tracebacks=False, ident="worker-runs", clear_untrusted_proxy_headers=False,
        )
        self.threads = threads

    @property
    def address(self) -> tuple[str, int]:
        return str(self._server.effective_host), int(self._server.effective_port)

    def serve_until(self, stop: threading.Event) -> None:
        # waitress's own run() loops until the process ends; this loop also checks `stop`.
        socket_map = self._server._map
        try:
            while not stop.is_set():
                wasyncore.loop(timeout=0.2, map=socket_map, use_poll=True, count=1)
        finally:
            self._server.task_dispatcher.shutdown(cancel_pending=True, timeout=5)
            wasyncore.close_all(socket_map)

    @contextmanager
    def in_thread(self) -> Iterator[int]:
        """Serve from a background thread while the block runs (the port it listens on); the
        server is stopped and its thread joined after."""
        stop = threading.Event()
        thread = threading.Thread(target=self.serve_until, args=(stop,), name="http", daemon=True)
        thread.start()
        try:
            yield self.address[1]
        finally:
            stop.set()
            thread.join(10)

    def close(self) -> None:
        """Close the listening socket of a server that never served."""
        wasyncore.close_all(self._server._map)

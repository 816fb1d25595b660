"""A TCP forwarder on a loopback port that a test can cut and restore: a database outage without
touching the shared database server.

``with TcpProxy(upstream_port=5432) as proxy:`` listens on ``127.0.0.1:<proxy.port>`` and
forwards every connection to the upstream address. ``proxy.cut()`` closes every open connection
(the peer sees the server drop it, as on a crash or a network failure) and resets every new one
until ``proxy.restore()``. Leaving the block stops the listener and closes everything; every
thread is a daemon, so a test that fails half-way can never hang the run.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
from collections.abc import Callable
from types import TracebackType
from typing import Self

# How often the listener looks up from accept() to see whether it should stop.
_POLL_SECONDS = 0.1
_CHUNK = 64 * 1024


def _reset(sock: socket.socket) -> None:
    """Close ``sock`` at once: wake any thread reading it, and discard what is unsent (a RST)."""
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)  # wakes a thread blocked in recv() on it
    sock.close()


class _Link:
    """One client connection and its upstream connection, pumped both ways by two threads."""

    def __init__(
        self,
        client: socket.socket,
        upstream: socket.socket,
        on_close: Callable[[_Link], None],
    ) -> None:
        self._client = client
        self._upstream = upstream
        self._on_close = on_close
        self._lock = threading.Lock()
        self._closed = False

    def start(self) -> None:
        for source, target in ((self._client, self._upstream), (self._upstream, self._client)):
            threading.Thread(target=self._pump, args=(source, target), daemon=True).start()

    def _pump(self, source: socket.socket, target: socket.socket) -> None:
        try:
            while chunk := source.recv(_CHUNK):
                target.sendall(chunk)
        except OSError:
            pass
        self.close()

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
        _reset(self._client)
        _reset(self._upstream)
        self._on_close(self)


class TcpProxy:
    """Forwards ``127.0.0.1:<port>`` to ``upstream_host:upstream_port`` until cut or stopped."""

    def __init__(
        self,
        upstream_host: str = "127.0.0.1",
        upstream_port: int = 5432,
        *,
        max_connections: int = 64,
        connect_timeout: float = 5.0,
    ) -> None:
        self._upstream = (upstream_host, upstream_port)
        self._max_connections = max_connections
        self._connect_timeout = connect_timeout
        self._lock = threading.Lock()
        self._links: set[_Link] = set()
        self._open = True
        self._stopped = threading.Event()
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(16)
        self._listener.settimeout(_POLL_SECONDS)
        self.port: int = self._listener.getsockname()[1]
        self._thread = threading.Thread(target=self._accept_loop, daemon=True)
        self.accepted = 0  # connections forwarded so far
        self.refused = 0  # connections reset because the proxy was cut (or full)

    # --- what a test does -----------------------------------------------------------------------

    def cut(self) -> None:
        """Close every open connection, and reset every new one until ``restore()``."""
        with self._lock:
            self._open = False
            links = list(self._links)
        for link in links:
            link.close()

    def restore(self) -> None:
        """Forward new connections again (the ones ``cut()`` closed stay closed)."""
        with self._lock:
            self._open = True

    @property
    def open_connections(self) -> int:
        with self._lock:
            return len(self._links)

    # --- lifecycle --------------------------------------------------------------------------------

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopped.set()
        self.cut()
        self._thread.join(timeout=5)
        self._listener.close()

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    # --- the listener -----------------------------------------------------------------------------

    def _accept_loop(self) -> None:
        while not self._stopped.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return  # the listener was closed
            client.settimeout(None)
            with self._lock:
                admit = self._open and len(self._links) < self._max_connections
                if not admit:
                    self.refused += 1
            if not admit:
                _reset(client)
                continue
            try:
                upstream = socket.create_connection(self._upstream, timeout=self._connect_timeout)
            except OSError:
                _reset(client)
                continue
            upstream.settimeout(None)
            link = _Link(client, upstream, self._forget)
            with self._lock:
                cut_meanwhile = not self._open
                if cut_meanwhile:
                    self.refused += 1
                else:
                    self._links.add(link)
                    self.accepted += 1
            if cut_meanwhile:
                _reset(client)
                _reset(upstream)
            else:
                link.start()

    def _forget(self, link: _Link) -> None:
        with self._lock:
            self._links.discard(link)

"""One total deadline for a send, whatever the receiver does.

Socket timeouts apply to each read: a receiver that trickles one byte a second (in its TLS
handshake, its headers or its body) never trips them and could hold a send for ever. A
``Deadline`` watches every connection a send uses and, when the time is up, shuts it down
from a timer thread: the read blocked on it returns at once, and the send ends as a timeout.

The connection classes below register their socket with the deadline of the send running
in the same thread (``PinnedAddressAdapter`` mounts them; ``post()`` opens the deadline).
The socket is watched through a duplicate of its file descriptor, so the shutdown still
reaches it once TLS has wrapped (and detached) the original socket object.
"""

from __future__ import annotations

import os
import socket
import threading
import time

from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

_current = threading.local()


class Deadline:
    """``with Deadline(seconds) as clock:`` bounds everything sent in the block, in this thread."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.ends = time.monotonic() + seconds
        self.expired = False  # the timer fired and cut the watched connections
        self._closed = False
        self._lock = threading.Lock()
        self._watched: list[socket.socket] = []
        self._timer = threading.Timer(max(seconds, 0.0), self.expire)
        self._timer.daemon = True

    def remaining(self) -> float:
        return max(self.ends - time.monotonic(), 0.0)

    def passed(self) -> bool:
        return self.expired or time.monotonic() >= self.ends

    def __enter__(self) -> Deadline:
        _current.deadline = self
        self._timer.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._timer.cancel()
        _current.deadline = None
        with self._lock:  # never close a handle while the timer may be shutting it down
            self._closed = True
            for handle in self._watched:
                handle.close()
            self._watched.clear()

    def watch(self, sock: socket.socket) -> None:
        """Cut ``sock``'s connection at the deadline (at once if it has passed)."""
        try:
            handle = socket.socket(fileno=os.dup(sock.fileno()))
        except (OSError, ValueError):
            return  # already closed: nothing to cut
        with self._lock:
            if self._closed:
                handle.close()
                return
            self._watched.append(handle)
            if self.expired:
                _shutdown(handle)

    def expire(self) -> None:
        with self._lock:
            if self._closed:
                return
            self.expired = True
            for handle in self._watched:
                _shutdown(handle)


def _shutdown(handle: socket.socket) -> None:
    try:
        handle.shutdown(socket.SHUT_RDWR)
    except OSError:  # not connected any more
        pass


def current() -> Deadline | None:
    return getattr(_current, "deadline", None)


class _Watched:
    """Registers the connection's socket with the running send's deadline."""

    def _new_conn(self) -> socket.socket:
        sock = super()._new_conn()
        deadline = current()
        if deadline is not None:
            deadline.watch(sock)
        return sock

    def request(self, *args, **kwargs):
        deadline = current()
        if deadline is not None and self.sock is not None:  # a connection kept alive
            deadline.watch(self.sock)
        return super().request(*args, **kwargs)


class WatchedHTTPConnection(_Watched, HTTPConnection):
    pass


class WatchedHTTPSConnection(_Watched, HTTPSConnection):
    pass


class WatchedHTTPConnectionPool(HTTPConnectionPool):
    ConnectionCls = WatchedHTTPConnection


class WatchedHTTPSConnectionPool(HTTPSConnectionPool):
    ConnectionCls = WatchedHTTPSConnection


POOL_CLASSES = {"http": WatchedHTTPConnectionPool, "https": WatchedHTTPSConnectionPool}

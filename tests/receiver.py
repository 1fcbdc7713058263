"""A real HTTP receiver on loopback for webhook tests, scripted per path.

``receiver.script("/hook", [Reply(500), Reply(200, b"ok")])`` answers the first
request to /hook with 500 and the next with 200 (the last reply repeats).
Every request is recorded with its headers and exact body.

A reply can also misbehave: wait for an event before answering (``hold``), or trickle its
answer one byte at a time (``trickle`` seconds apart), from the status line on
(``trickle_from="start"``) or once the headers are out (``"body"``).
"""

import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Reply:
    status: int = 200
    body: bytes = b"ok"
    headers: dict = field(default_factory=dict)
    delay: float = 0.0  # seconds to wait before answering (a hanging receiver)
    hold: threading.Event | None = None  # wait for this (at most 30 s) before answering
    trickle: float = 0.0  # seconds between the bytes of the answer
    trickle_from: str = "body"  # "start": the status line and headers trickle too


@dataclass
class Received:
    path: str
    headers: dict
    body: bytes
    at: float


class Receiver:
    def __init__(self):
        self.requests: list[Received] = []
        self._scripts: dict[str, list[Reply]] = {}
        self._lock = threading.Lock()
        self._arrived = threading.Condition(self._lock)
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Answer in one write with Nagle off: otherwise headers and body leave in two
            # segments and the client's delayed ACK adds ~40 ms to every keep-alive request.
            wbufsize = 1 << 16
            disable_nagle_algorithm = True

            def log_message(self, *args):
                pass

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                reply = receiver._record(self.path, dict(self.headers), body)
                if reply.delay:
                    time.sleep(reply.delay)
                if reply.hold is not None:
                    reply.hold.wait(30)
                if reply.trickle:
                    self._trickle(reply)
                    return
                try:
                    self.send_response(reply.status)
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(reply.body)))
                    self.end_headers()
                    self.wfile.write(reply.body)
                    self.wfile.flush()
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def _trickle(self, reply):
                head = [f"HTTP/1.1 {reply.status} Trickle"]
                head += [f"{name}: {value}" for name, value in reply.headers.items()]
                head += [f"Content-Length: {len(reply.body)}", "Connection: close", "", ""]
                raw = "\r\n".join(head).encode() + reply.body
                start = 0 if reply.trickle_from == "start" else len(raw) - len(reply.body)
                self.close_connection = True
                try:
                    self.wfile.write(raw[:start])
                    self.wfile.flush()
                    for i in range(start, len(raw)):
                        self.wfile.write(raw[i:i + 1])
                        self.wfile.flush()
                        time.sleep(reply.trickle)
                except OSError:  # the client gave up: what a deadline is for
                    pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def script(self, path: str, replies: list[Reply]) -> None:
        with self._lock:
            self._scripts[path] = list(replies)

    def _record(self, path, headers, body) -> Reply:
        with self._lock:
            self.requests.append(Received(path=path, headers=headers, body=body, at=time.monotonic()))
            self._arrived.notify_all()
            replies = self._scripts.get(path) or [Reply()]
            return replies.pop(0) if len(replies) > 1 else replies[0]

    def wait_for(self, count: int, path: str | None = None, timeout: float = 30) -> list[Received]:
        """Block until ``count`` requests (to ``path``) arrived; fail after ``timeout``."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                got = [r for r in self.requests if path is None or r.path == path]
                if len(got) >= count:
                    return got
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"expected {count} requests to {path}, got {len(got)}")
                self._arrived.wait(remaining)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

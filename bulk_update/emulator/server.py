"""The HTTP side: a threaded HTTP/1.1 server on loopback with keep-alive.

AWS calls arrive as ``POST /`` with ``X-Amz-Target`` naming the operation;
the answer is written in one piece (head and body together, TCP_NODELAY) so a
kept-alive connection never waits on Nagle's algorithm.  Signatures are not
checked: any credentials are accepted.

Besides the AWS surface, inspection routes serve out-of-process tests:
``GET /_emulator/records?catalog=Sandbox``, ``GET /_emulator/counters``,
``POST /_emulator/seller-edit`` with ``{"catalog", "identifier", "changes"}``,
``POST /_emulator/review-status`` with ``{"catalog", "identifier", "status"}``
(AWS's review), ``GET``/``POST /_emulator/users`` (``{"users": [...]}``: the
registered partner users) and ``POST /_emulator/search-enabled`` with
``{"enabled": false}``.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import socket
import sys
import threading
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from .wire import CONTENT_TYPE, ApiError, dumps

if TYPE_CHECKING:
    from .service import Emulator

_REASONS = {s.value: s.phrase for s in HTTPStatus}
_REQUEST_IDS = itertools.count(1)


class Headers(dict[str, str]):
    """Request headers by lower-cased name; ``get`` ignores case."""

    def get(self, key: str, default: Any = None) -> Any:  # type: ignore[override]
        return super().get(key.lower(), default)


class EmulatorServer(ThreadingHTTPServer):
    """Keeps the open connections, so that stopping really stops."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], emulator: Emulator) -> None:
        self.emulator = emulator
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()
        super().__init__(address, Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that went away mid-answer, or a stop that cut its connection,
        is ordinary: no traceback on the emulator's terminal.  Anything else is a
        bug of the emulator's and is printed as before."""
        if isinstance(sys.exc_info()[1], OSError):  # BrokenPipe, ConnectionReset, ...
            return
        super().handle_error(request, client_address)

    def close_connections(self) -> None:
        with self.connections_lock:
            open_now = list(self.connections)
            self.connections.clear()
        for sock in open_now:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


class Handler(BaseHTTPRequestHandler):
    """One connection; many requests on it while the client keeps it alive."""

    protocol_version = "HTTP/1.1"
    raw_requestline: bytes
    server: EmulatorServer

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self.server.connections_lock:
            self.server.connections.add(self.connection)

    def finish(self) -> None:
        with self.server.connections_lock:
            self.server.connections.discard(self.connection)
        with contextlib.suppress(OSError):
            super().finish()

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        """Quiet: request lines would carry nothing useful and cost time."""

    def parse_request(self) -> bool:
        """Read the request line and headers, faster than the stdlib's email parser.

        The stdlib builds an ``email.message.Message`` for every request, which
        costs more than the whole emulated call; a plain dict is enough here.
        """
        # When the request came in: quotas count arrivals, as a front door does,
        # not the moment a busy server thread got round to the request.
        self.arrived = self.server.emulator.quotas.clock()
        line = str(self.raw_requestline, "iso-8859-1").rstrip("\r\n")
        self.requestline = line
        parts = line.split()
        if len(parts) != 3 or not parts[2].startswith("HTTP/"):
            self.request_version = "HTTP/1.1"
            self.send_error(400, f"Bad request line {line!r}")
            return False
        self.command, self.path, self.request_version = parts
        headers = Headers()
        while True:
            raw = self.rfile.readline(65537)
            if raw in (b"\r\n", b"\n", b""):
                break
            name, _, value = raw.decode("iso-8859-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        self.headers = headers  # type: ignore[assignment]
        connection = headers.get("connection", "").lower()
        self.close_connection = connection == "close" or (
            self.request_version == "HTTP/1.0" and connection != "keep-alive"
        )
        return True

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _send(self, status: int, body: bytes, content_type: str = CONTENT_TYPE) -> None:
        head = (
            f"HTTP/1.1 {status} {_REASONS.get(status, 'Unknown')}\r\n"
            f"Content-Type: {content_type}\r\n"
            f"Content-Length: {len(body)}\r\n"
            f"x-amzn-RequestId: emulator-{next(_REQUEST_IDS):012d}\r\n"
            "\r\n"
        )
        self.wfile.write(head.encode("ascii") + body)

    def _drop(self) -> None:
        """Close the connection without a word, as a broken network would."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    def do_POST(self) -> None:  # noqa: N802
        body = self._body()
        if self.path.startswith("/_emulator/"):
            self._control("POST", body)
            return
        outcome = self.server.emulator.handle(
            self.headers.get("X-Amz-Target", ""), body, arrived=self.arrived
        )
        if outcome.drop:
            self._drop()
        else:
            self._send(outcome.status, outcome.body)

    def do_GET(self) -> None:  # noqa: N802
        self._control("GET", b"")

    def _control(self, method: str, body: bytes) -> None:
        url = urlsplit(self.path)
        route = _ROUTES.get((method, url.path))
        if route is None:
            self._send(404, dumps({"message": f"no route {method} {url.path}"}), "application/json")
            return
        try:
            answer = route(self.server.emulator, parse_qs(url.query), json.loads(body or b"{}"))
        except ApiError as error:
            self._send(error.status, error.body(), "application/json")
            return
        except (KeyError, ValueError, TypeError) as error:
            self._send(400, dumps({"message": str(error)}), "application/json")
            return
        self._send(200, dumps(answer), "application/json")


Route = Callable[["Emulator", dict[str, list[str]], Any], Any]

_ROUTES: dict[tuple[str, str], Route] = {
    ("GET", "/_emulator/records"): lambda emu, q, b: emu.records(q.get("catalog", ["Sandbox"])[0]),
    ("GET", "/_emulator/counters"): lambda emu, q, b: emu.counters(),
    ("POST", "/_emulator/seller-edit"): lambda emu, q, b: emu.seller_edit(
        b["catalog"], b["identifier"], b["changes"]
    ),
    ("POST", "/_emulator/review-status"): lambda emu, q, b: emu.set_review_status(
        b["catalog"], b["identifier"], b["status"], b.get("comments")
    ),
    ("GET", "/_emulator/users"): lambda emu, q, b: emu.users(),
    ("POST", "/_emulator/users"): lambda emu, q, b: emu.set_users(b["users"]),
    ("POST", "/_emulator/search-enabled"): lambda emu, q, b: emu.set_search_enabled(b["enabled"]),
}
"""The inspection routes: (method, path) -> what answers (emulator, query, JSON body)."""

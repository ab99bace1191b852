"""Hostile policy sources on 127.0.0.1: slow-loris answers, gzip bombs, deep pages, redirects.

A raw TCP server (not an HTTP framework, which would not misbehave on request): each accepted
connection reads the request head and then plays the behaviour registered for its path.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from types import TracebackType
from typing import Self

Behaviour = Callable[[socket.socket], None]


def answer(status: str, body: bytes = b"", headers: dict[str, str] | None = None) -> Behaviour:
    """Send a whole response at once."""

    def play(conn: socket.socket) -> None:
        head = f"HTTP/1.1 {status}\r\nContent-Length: {len(body)}\r\nConnection: close\r\n"
        for name, value in (headers or {}).items():
            head += f"{name}: {value}\r\n"
        conn.sendall(head.encode("latin-1") + b"\r\n" + body)

    return play


def trickle(*, every_s: float, headers_too: bool = False, stop: threading.Event) -> Behaviour:
    """Send one byte every `every_s` seconds (of the headers too, if asked) until `stop`."""

    def play(conn: socket.socket) -> None:
        head = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 100000\r\n\r\n"
        if headers_too:
            data = head + b"<html>" * 20000
        else:
            conn.sendall(head)
            data = b"<html>" * 20000
        for byte in data:
            if stop.wait(every_s):
                return
            conn.sendall(bytes([byte]))

    return play


class HostileServer:
    """Serve registered behaviours by path on 127.0.0.1, one thread per connection."""

    def __init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self._listener.getsockname()[1])
        self.routes: dict[str, Behaviour] = {}
        self.requests: list[str] = []
        self.stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def url(self, path: str) -> str:
        """Return the URL of `path` on this server."""
        return f"http://127.0.0.1:{self.port}{path}"

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop.set()
        self._listener.close()
        self._thread.join(timeout=5)

    def _serve(self) -> None:
        self._listener.settimeout(0.1)  # a closed listener does not wake a blocked accept()
        while not self.stop.is_set():
            try:
                conn, _addr = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        with conn:
            conn.settimeout(10)
            head = b""
            try:
                while b"\r\n\r\n" not in head and len(head) < 65536:
                    chunk = conn.recv(4096)
                    if not chunk:
                        return
                    head += chunk
                path = head.split(b" ", 2)[1].decode("latin-1")
                self.requests.append(path)
                self.routes.get(path, answer("404 Not Found"))(conn)
                time.sleep(0.05)  # let the client read before the close
            except OSError:
                return

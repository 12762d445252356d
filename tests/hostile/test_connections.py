"""The production server settings: idle half-open connections cannot lock /healthz out."""

from __future__ import annotations

import socket
import time
import urllib.request
from contextlib import ExitStack
from typing import Any

from bot.fakes.wsgi import WsgiServer
from bot.runtime import server_options
from tests.harness import Harness


def _hold_half_open(stack: ExitStack, port: int, count: int) -> None:
    """Open connections that send half a request and then go quiet."""
    for _ in range(count):
        sock = stack.enter_context(socket.create_connection(("127.0.0.1", port), timeout=5))
        sock.sendall(b"POST /slack/events HTTP/1.1\r\nHost: x\r\nContent-Length: 500\r\n\r\n{")


def _healthz(url: str) -> tuple[int, float]:
    started = time.monotonic()
    with urllib.request.urlopen(url + "/healthz", timeout=5) as response:
        return response.status, time.monotonic() - started


def _serve(h: Harness, **options: Any) -> WsgiServer:
    return WsgiServer(h.bot.web, **options)


def test_healthz_answers_while_120_idle_half_open_connections_are_held(harness: Harness) -> None:
    with _serve(harness, **server_options(threads=4)) as server, ExitStack() as held:
        _hold_half_open(held, server.server.effective_port, 120)  # type: ignore[union-attr]
        time.sleep(0.5)  # let the server accept them all
        status, took = _healthz(server.url)
        assert status == 200
        assert took < 2.0  # loose bound: it must answer, not wait for the idle ones to expire


def test_a_body_over_the_limit_is_refused_by_the_server_itself(harness: Harness) -> None:
    with _serve(harness, **server_options(threads=2)) as server:
        port = server.server.effective_port  # type: ignore[union-attr]
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            # Announce 3 MiB and send none of it: the answer must come from the headers alone.
            sock.sendall(
                b"POST /slack/events HTTP/1.1\r\nHost: x\r\n"
                b"Content-Length: 3145728\r\nContent-Type: application/json\r\n\r\n"
            )
            answer = sock.recv(4096).decode()
        assert answer.startswith("HTTP/1.1 413"), answer

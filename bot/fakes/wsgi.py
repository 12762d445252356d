"""Serve a WSGI app with waitress on a free loopback port, stoppably (tests and benchmarks)."""

from __future__ import annotations

import threading
from typing import Any, Self

from waitress.server import create_server


class WsgiServer:
    """A context manager running a WSGI app on 127.0.0.1 in a background thread."""

    def __init__(self, app: Any, threads: int = 4, **options: Any) -> None:
        options.setdefault("threads", threads)
        self.server = create_server(app, host="127.0.0.1", port=0, **options)
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self) -> None:
        # waitress's run() loops forever; poll in short steps so the server stops cleanly.
        while not self._stop.is_set():
            self.server.asyncore.loop(  # type: ignore[union-attr]
                timeout=0.05,
                map=self.server._map,  # type: ignore[union-attr]
                count=1,
                use_poll=self.server.adj.asyncore_use_poll,  # type: ignore[union-attr]
            )

    def __enter__(self) -> Self:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self.thread.join(timeout=5)
        self.server.close()

    @property
    def url(self) -> str:
        """Return the base URL."""
        return f"http://127.0.0.1:{self.server.effective_port}"  # type: ignore[union-attr]

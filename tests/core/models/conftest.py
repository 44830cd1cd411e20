"""Fixtures for the model manager tests (see download_support for the server)."""

from __future__ import annotations

import http.server
import socket
import threading
from collections.abc import Iterator

import pytest

from tests.core.models.download_support import FakeServer, handler_for


@pytest.fixture
def fake_server() -> Iterator[FakeServer]:
    """A threaded HTTP server on an ephemeral 127.0.0.1 port, stopped after the test."""
    state = FakeServer(base_url="")
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler_for(state))
    httpd.daemon_threads = True
    state.base_url = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield state
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Fails the test on any outgoing connection attempt; returns the attempts seen."""
    attempts: list[object] = []

    def refuse(self: socket.socket, address: object) -> None:
        attempts.append(address)
        pytest.fail(f"unexpected network connection to {address!r}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    return attempts

"""Model test support: a real HTTP server on 127.0.0.1 with Range support and faults.

It serves plain URLs (`/files/<name>`) and Hugging Face Hub-style URLs
(`/<owner>/<repo>/resolve/<revision>/<path>`, with the X-Repo-Commit, X-Linked-Etag and
ETag headers the Hub sends), so both download paths run their real code end to end. Faults
are real too: a route can answer with an error status, stall past the client's timeout, or
drop the connection halfway through the body, for its first N requests.
"""

from __future__ import annotations

import hashlib
import http.server
import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from anonnet_studio.core.models import Manifest, ModelManager, parse_manifest

HUB_COMMIT = "0123456789abcdef0123456789abcdef01234567"
_RANGE = re.compile(r"^bytes=(\d+)-$")


@dataclass
class Route:
    body: bytes
    corrupt_first: int = 0  # serve damaged bytes (same length) for this many GETs
    honour_range: bool = True
    # Called on the server thread after each 64 KiB chunk with the bytes sent so far
    # (tests use it to cancel a client mid-transfer).
    after_chunk: Callable[[int], None] | None = None
    fail_first: int = 0  # answer `fail_status` to this many requests (HEAD or GET)
    fail_status: int = 503
    stall_first: int = 0  # hold this many requests for `stall_s` before answering
    stall_s: float = 0.0
    drop_first: int = 0  # close the connection after `drop_after` body bytes, this many GETs
    drop_after: int = 0
    lfs: bool = True  # Hub route: a Git LFS file (X-Linked-Etag sha256) or a plain Git one
    gets: int = 0
    requests: int = 0


@dataclass(frozen=True)
class SeenRequest:
    method: str
    path: str
    range: str | None
    bytes_sent: int


@dataclass
class FakeServer:
    base_url: str
    routes: dict[str, Route] = field(default_factory=dict)
    requests: list[SeenRequest] = field(default_factory=list)

    def add(self, path: str, body: bytes, **options: Any) -> str:
        self.routes[path] = Route(body, **options)
        return self.base_url + path

    def add_hub_file(self, repo: str, revision: str, filename: str, body: bytes, **options: Any):
        return self.add(f"/{repo}/resolve/{revision}/{filename}", body, **options)

    def gets(self, path: str) -> list[SeenRequest]:
        return [r for r in self.requests if r.method == "GET" and r.path == path]


def _damaged(body: bytes) -> bytes:
    return bytes(b ^ 0xFF for b in body[:64]) + body[64:]


def handler_for(server: FakeServer) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:
            pass

        def do_HEAD(self) -> None:
            self._serve(send_body=False)

        def do_GET(self) -> None:
            self._serve(send_body=True)

        def _serve(self, *, send_body: bool) -> None:
            route = server.routes.get(self.path.split("?")[0])
            range_header = self.headers.get("Range")
            if route is None:
                self._answer_empty(404, range_header)
                return
            route.requests += 1
            if route.requests <= route.stall_first:
                time.sleep(route.stall_s)  # the client gives up (times out) meanwhile
                self.close_connection = True
                self._record(range_header, 0)
                return
            if route.requests <= route.fail_first:
                self._answer_empty(route.fail_status, range_header)
                return
            body = route.body
            dropping = False
            if send_body:
                route.gets += 1
                dropping = route.gets <= route.drop_first
                if route.gets <= route.corrupt_first:
                    body = _damaged(body)
            start = 0
            match = _RANGE.match(range_header or "")
            if match and route.honour_range:
                start = int(match.group(1))
                if start >= len(body):
                    self._record(range_header, 0)
                    self.send_response(416)
                    self.send_header("Content-Range", f"bytes */{len(body)}")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_response(206)
                self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
            else:
                self.send_response(200)
            payload = body[start:]
            self.send_header("Content-Length", str(len(payload)))
            self.send_header("Accept-Ranges", "bytes")
            if "/resolve/" in self.path and route.lfs:
                # What the Hub sends for a Git LFS file: its sha256 and size.
                self.send_header("X-Linked-Etag", f'"{sha256_of(route.body)}"')
                self.send_header("X-Linked-Size", str(len(route.body)))
                self.send_header("ETag", f'"{sha256_of(route.body)}"')
            else:
                self.send_header("ETag", f'"{git_blob_sha1(route.body)}"')
            self.send_header("X-Repo-Commit", HUB_COMMIT)
            self.end_headers()
            sent = 0
            if dropping:
                payload = payload[: route.drop_after]
                self.close_connection = True  # ends the body short of Content-Length
            if send_body:
                try:
                    for offset in range(0, len(payload), 64 * 1024):
                        chunk = payload[offset : offset + 64 * 1024]
                        self.wfile.write(chunk)
                        sent += len(chunk)
                        if route.after_chunk is not None:
                            route.after_chunk(sent)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client cancelled mid-transfer
            self._record(range_header, sent)

        def _answer_empty(self, status: int, range_header: str | None) -> None:
            self._record(range_header, 0)
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def _record(self, range_header: str | None, sent: int) -> None:
            server.requests.append(SeenRequest(self.command, self.path, range_header, sent))

    return Handler


def random_bytes(size: int, seed: int = 0) -> bytes:
    """Deterministic incompressible test payload."""
    out = bytearray()
    counter = 0
    while len(out) < size:
        out += hashlib.sha256(f"{seed}:{counter}".encode()).digest()
        counter += 1
    return bytes(out[:size])


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def git_blob_sha1(data: bytes) -> str:
    """The Git blob id, which the Hub sends as the ETag of a file kept in plain Git."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()


def one_model_manifest(
    name: str, files: list[dict[str, Any]], source: dict[str, Any] | None = None
) -> Manifest:
    """A manifest declaring one downloaded model (as written in a JSON manifest)."""
    model: dict[str, Any] = {
        "name": name,
        "purpose": "test model",
        "kind": "downloaded",
        "licence": "CC0-1.0",
        "revision": "r1",
        "files": files,
    }
    if source is not None:
        model["source"] = source
    return parse_manifest({"schema_version": 1, "models": [model]})


def make_manager(manifest: Manifest, tmp_path: Path, **options: Any) -> ModelManager:
    """A manager whose every folder lives under `tmp_path`."""
    options.setdefault("user_dir", tmp_path / "user-models")
    options.setdefault("settings_path", tmp_path / "config" / "model-locations.json")
    options.setdefault("http_timeout_s", 10.0)
    options.setdefault("retry_delay_s", 0.0)  # real backoff delays are tested separately
    return ModelManager(manifest, cache_dir=tmp_path / "cache", **options)


def listing(folder: Path) -> list[str]:
    """Every file under `folder`, relative, sorted (empty when it does not exist)."""
    if not folder.exists():
        return []
    return sorted(
        os.path.relpath(os.path.join(root, name), folder)
        for root, _, names in os.walk(folder)
        for name in names
    )

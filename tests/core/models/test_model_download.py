"""Plain-HTTP downloads against a real local server: progress, resume, corruption, cancel."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from anonnet_studio.core.errors import (
    ModelIntegrityError,
    ModelUnavailableError,
    OperationCancelled,
)
from anonnet_studio.core.models import FileStatus, ModelManager, ModelOrigin
from anonnet_studio.core.progress import CancelToken, Progress
from tests.core.models.download_support import (
    FakeServer,
    listing,
    make_manager,
    one_model_manifest,
    random_bytes,
    sha256_of,
)

PAYLOAD = random_bytes(1_500_000)
PATH = "/files/weights.bin"


def _manager(
    server: FakeServer, tmp_path: Path, *, sha256: str | None = sha256_of(PAYLOAD), **options
) -> ModelManager:
    url = server.base_url + PATH
    files = [{"path": "weights.bin", "size": len(PAYLOAD), "sha256": sha256}]
    manifest = one_model_manifest("tiny", files, source={"type": "url", "url": url})
    return make_manager(manifest, tmp_path, **options)


def test_download_reports_byte_progress_and_lands_atomically(
    fake_server: FakeServer, tmp_path: Path
) -> None:
    fake_server.add(PATH, PAYLOAD)
    manager = _manager(fake_server, tmp_path)
    events: list[Progress] = []

    folder = manager.download("tiny", on_progress=events.append)

    assert folder == manager.cache_folder("tiny") == tmp_path / "cache" / "tiny" / "r1"
    assert (folder / "weights.bin").read_bytes() == PAYLOAD
    assert listing(folder) == ["weights.bin"]  # no .part or staging left behind
    assert events[-1].done == events[-1].total == len(PAYLOAD)
    byte_counts = [e.done for e in events]
    assert byte_counts == sorted(byte_counts)
    assert all(e.stage == "Downloading tiny" for e in events)
    location = manager.locate("tiny")
    assert location is not None and location.origin is ModelOrigin.CACHE
    assert manager.verify("tiny").fully_verified

    # Already present: a second call neither downloads nor fails.
    manager.download("tiny")
    assert len(fake_server.gets(PATH)) == 1


def test_download_resumes_from_an_existing_part_file(
    fake_server: FakeServer, tmp_path: Path
) -> None:
    fake_server.add(PATH, PAYLOAD)
    manager = _manager(fake_server, tmp_path)
    part = manager.cache_folder("tiny") / "weights.bin.part"
    part.parent.mkdir(parents=True)
    part.write_bytes(PAYLOAD[:600_000])
    events: list[Progress] = []

    manager.download("tiny", on_progress=events.append)

    (request,) = fake_server.gets(PATH)
    assert request.range == "bytes=600000-"
    assert request.bytes_sent == len(PAYLOAD) - 600_000
    assert manager.file("tiny", "weights.bin").read_bytes() == PAYLOAD
    assert not part.exists()
    assert min(e.done for e in events if e.done > 0) >= 600_000


def test_a_server_ignoring_range_restarts_the_file_cleanly(
    fake_server: FakeServer, tmp_path: Path
) -> None:
    fake_server.add(PATH, PAYLOAD, honour_range=False)
    manager = _manager(fake_server, tmp_path)
    part = manager.cache_folder("tiny") / "weights.bin.part"
    part.parent.mkdir(parents=True)
    part.write_bytes(PAYLOAD[:300_000])

    manager.download("tiny")

    assert manager.file("tiny", "weights.bin").read_bytes() == PAYLOAD


def test_a_corrupt_transfer_is_rejected_and_retried(
    fake_server: FakeServer, tmp_path: Path
) -> None:
    fake_server.add(PATH, PAYLOAD, corrupt_first=1)
    manager = _manager(fake_server, tmp_path)
    events: list[Progress] = []

    manager.download("tiny", on_progress=events.append)

    assert len(fake_server.gets(PATH)) == 2
    assert manager.file("tiny", "weights.bin").read_bytes() == PAYLOAD
    assert any("retrying" in e.message for e in events)


def test_a_permanently_corrupt_file_ends_in_an_integrity_error(
    fake_server: FakeServer, tmp_path: Path
) -> None:
    fake_server.add(PATH, PAYLOAD, corrupt_first=100)
    manager = _manager(fake_server, tmp_path, max_attempts=3)

    with pytest.raises(ModelIntegrityError) as raised:
        manager.download("tiny")

    assert len(fake_server.gets(PATH)) == 3
    message = raised.value.user_message()
    assert "weights.bin" in message and "'tiny'" in message and sha256_of(PAYLOAD) in message
    assert listing(manager.cache_folder("tiny")) == []  # neither final file nor .part
    assert not manager.is_available("tiny")


def test_cancel_keeps_only_a_resumable_part_then_resumes(
    fake_server: FakeServer, tmp_path: Path
) -> None:
    cancel = CancelToken()
    manager = _manager(fake_server, tmp_path)
    part = manager.cache_folder("tiny") / "weights.bin.part"

    def cancel_once_bytes_are_on_disk(sent: int) -> None:
        # Hold the transfer a third of the way in until the client has written bytes, then
        # press cancel: the client stops between two chunks whatever the machine's speed.
        if sent == 512 * 1024:
            deadline = time.monotonic() + 20
            while not (part.exists() and part.stat().st_size > 0):
                assert time.monotonic() < deadline, "client never wrote to its .part"
                time.sleep(0.01)
            cancel.cancel()

    fake_server.add(PATH, PAYLOAD, after_chunk=cancel_once_bytes_are_on_disk)

    with pytest.raises(OperationCancelled):
        manager.download("tiny", cancel=cancel)

    assert listing(part.parent) == ["weights.bin.part"]
    kept = part.stat().st_size
    assert 0 < kept < len(PAYLOAD)
    assert not manager.is_available("tiny")

    fake_server.routes[PATH].after_chunk = None
    manager.download("tiny")
    assert fake_server.gets(PATH)[-1].range == f"bytes={kept}-"
    assert manager.file("tiny", "weights.bin").read_bytes() == PAYLOAD


def test_unpublished_sha256_is_recorded_on_first_download_and_enforced(
    fake_server: FakeServer, tmp_path: Path
) -> None:
    fake_server.add(PATH, PAYLOAD)
    manager = _manager(fake_server, tmp_path, sha256=None)

    manager.download("tiny")

    lock = json.loads((tmp_path / "cache" / "trusted-sha256.json").read_text())
    assert lock["tiny/r1/weights.bin"]["sha256"] == sha256_of(PAYLOAD)
    assert lock["tiny/r1/weights.bin"]["origin"] == fake_server.base_url + PATH
    (check,) = manager.verify("tiny").files
    assert check.status is FileStatus.TRUSTED
    assert "trust on first use" in check.detail

    # The publisher's file changes under the same revision: the recorded hash catches it.
    (manager.cache_folder("tiny") / "weights.bin").unlink()
    fake_server.add(PATH, random_bytes(len(PAYLOAD), seed=7))
    with pytest.raises(ModelIntegrityError) as raised:
        manager.download("tiny")
    assert "trust on first use" in raised.value.user_message()


def test_offline_mode_refuses_without_touching_the_network(
    tmp_path: Path, no_network: list[object]
) -> None:
    manifest = one_model_manifest(
        "tiny", [{"path": "a.bin", "source": {"type": "url", "url": "https://example.org/a.bin"}}]
    )
    manager = make_manager(manifest, tmp_path, offline=True)

    with pytest.raises(ModelUnavailableError) as raised:
        manager.download("tiny")

    text = raised.value.user_message()
    assert "'tiny'" in text and "offline mode is on" in text
    assert str(manager.user_folder("tiny")) in text
    assert no_network == []
    assert listing(tmp_path / "cache") == []


def test_http_errors_become_clear_model_errors(fake_server: FakeServer, tmp_path: Path) -> None:
    manager = _manager(fake_server, tmp_path)  # nothing is served at PATH: 404
    with pytest.raises(ModelUnavailableError, match="HTTP 404"):
        manager.download("tiny")


def test_a_multi_file_model_reports_one_total(fake_server: FakeServer, tmp_path: Path) -> None:
    first, second = random_bytes(400_000, seed=1), random_bytes(300_000, seed=2)
    files = [
        {
            "path": f"sub/{name}",
            "size": len(body),
            "sha256": sha256_of(body),
            "source": {"type": "url", "url": fake_server.add(f"/files/{name}", body)},
        }
        for name, body in (("one.bin", first), ("two.bin", second))
    ]
    manager = make_manager(one_model_manifest("pair", files), tmp_path)
    events: list[Progress] = []

    folder = manager.download("pair", on_progress=events.append)

    assert listing(folder) == ["sub/one.bin", "sub/two.bin"]
    assert {e.total for e in events} == {700_000}
    assert events[-1].done == 700_000


def _two_source_manager(
    server: FakeServer, tmp_path: Path, first: str, second: str, **options
) -> ModelManager:
    files = [
        {
            "path": "weights.bin",
            "size": len(PAYLOAD),
            "sha256": sha256_of(PAYLOAD),
            "sources": [
                {"type": "url", "url": server.base_url + first},
                {"type": "url", "url": server.base_url + second},
            ],
        }
    ]
    return make_manager(one_model_manifest("tiny", files), tmp_path, **options)


def test_a_missing_file_on_the_first_host_falls_back_to_the_mirror(
    fake_server: FakeServer, tmp_path: Path
) -> None:
    fake_server.add("/mirror/weights.bin", PAYLOAD)  # nothing at /dead/weights.bin: 404
    manager = _two_source_manager(fake_server, tmp_path, "/dead/weights.bin", "/mirror/weights.bin")

    manager.download("tiny")

    assert manager.file("tiny", "weights.bin").read_bytes() == PAYLOAD
    assert len(fake_server.gets("/dead/weights.bin")) == 1  # a 404 is not retried
    assert len(fake_server.gets("/mirror/weights.bin")) == 1


def test_a_first_host_that_times_out_falls_back_to_the_mirror(
    fake_server: FakeServer, tmp_path: Path
) -> None:
    # The first host accepts the connection and then says nothing for longer than the
    # client waits: a dead host, not a refusal.
    fake_server.add("/slow/weights.bin", PAYLOAD, stall_first=1, stall_s=3.0)
    fake_server.add("/mirror/weights.bin", PAYLOAD)
    manager = _two_source_manager(
        fake_server, tmp_path, "/slow/weights.bin", "/mirror/weights.bin", http_timeout_s=0.3
    )

    manager.download("tiny")

    assert manager.file("tiny", "weights.bin").read_bytes() == PAYLOAD
    assert fake_server.routes["/slow/weights.bin"].requests == 1
    assert len(fake_server.gets("/mirror/weights.bin")) == 1


def test_a_dropped_connection_is_retried_and_resumed(
    fake_server: FakeServer, tmp_path: Path
) -> None:
    fake_server.add(PATH, PAYLOAD, drop_first=1, drop_after=700_000)
    manager = _manager(fake_server, tmp_path)
    events: list[Progress] = []

    manager.download("tiny", on_progress=events.append)

    first, second = fake_server.gets(PATH)
    assert (first.range, first.bytes_sent) == (None, 700_000)
    assert second.range == "bytes=700000-"  # resumed, not started over
    assert manager.file("tiny", "weights.bin").read_bytes() == PAYLOAD
    assert any("dropped" in e.message and "retrying" in e.message for e in events)


def test_transient_errors_are_retried_with_exponential_backoff(
    fake_server: FakeServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    delays: list[float] = []
    monkeypatch.setattr(
        "anonnet_studio.core.models.downloader.wait", lambda seconds, cancel: delays.append(seconds)
    )
    fake_server.add(PATH, PAYLOAD, fail_first=3, fail_status=503)
    manager = _manager(fake_server, tmp_path, max_attempts=5, retry_delay_s=0.5)

    manager.download("tiny")

    assert delays == [0.5, 1.0, 2.0]
    assert manager.file("tiny", "weights.bin").read_bytes() == PAYLOAD


def test_a_network_that_stays_down_ends_in_a_clear_error(
    fake_server: FakeServer, tmp_path: Path
) -> None:
    fake_server.add(PATH, PAYLOAD, fail_first=100, fail_status=503)
    manager = _manager(fake_server, tmp_path, max_attempts=3)

    with pytest.raises(ModelUnavailableError) as raised:
        manager.download("tiny")

    assert fake_server.routes[PATH].requests == 3
    message = raised.value.user_message()
    assert "'weights.bin' of model 'tiny'" in message and "HTTP 503" in message
    assert "resumes where it stopped" in message


def test_a_pinned_hash_rejects_a_tampered_file_and_takes_the_mirror(
    fake_server: FakeServer, tmp_path: Path
) -> None:
    tampered = random_bytes(len(PAYLOAD), seed=9)  # same size, other content
    fake_server.add("/evil/weights.bin", tampered)
    fake_server.add("/mirror/weights.bin", PAYLOAD)
    manager = _two_source_manager(fake_server, tmp_path, "/evil/weights.bin", "/mirror/weights.bin")

    manager.download("tiny")

    assert manager.file("tiny", "weights.bin").read_bytes() == PAYLOAD


def test_a_tampered_file_on_every_source_is_never_kept(
    fake_server: FakeServer, tmp_path: Path
) -> None:
    tampered = random_bytes(len(PAYLOAD), seed=9)
    fake_server.add("/evil/weights.bin", tampered)
    fake_server.add("/also-evil/weights.bin", tampered)
    manager = _two_source_manager(
        fake_server, tmp_path, "/evil/weights.bin", "/also-evil/weights.bin", max_attempts=2
    )

    with pytest.raises(ModelIntegrityError) as raised:
        manager.download("tiny")

    assert f"expected {sha256_of(PAYLOAD)}" in raised.value.user_message()
    assert listing(manager.cache_folder("tiny")) == []
    assert not manager.is_available("tiny")


def test_backoff_doubles_up_to_its_cap() -> None:
    from anonnet_studio.core.models.retry import Backoff

    backoff = Backoff(base_s=1.0, max_s=30.0)
    assert [backoff.delay(n) for n in range(1, 8)] == [1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0]
    assert backoff.delay(10_000) == 30.0
    assert Backoff(base_s=0.0).delay(3) == 0.0


def test_a_flaky_connection_that_keeps_making_progress_is_not_given_up(
    fake_server: FakeServer, tmp_path: Path
) -> None:
    # Five drops in a row would exhaust two attempts, but each one delivered new bytes.
    fake_server.add(PATH, PAYLOAD, drop_first=5, drop_after=200_000)
    manager = _manager(fake_server, tmp_path, max_attempts=2)

    manager.download("tiny")

    ranges = [r.range for r in fake_server.gets(PATH)]
    assert ranges == [None] + [f"bytes={n * 200_000}-" for n in range(1, 6)]
    assert manager.file("tiny", "weights.bin").read_bytes() == PAYLOAD

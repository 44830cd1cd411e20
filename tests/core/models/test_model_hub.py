"""Hub downloads run the real `huggingface_hub.hf_hub_download` against a local endpoint."""

from __future__ import annotations

from pathlib import Path

import pytest

from anonnet_studio.core.errors import ModelUnavailableError, OperationCancelled
from anonnet_studio.core.models import ModelManager
from anonnet_studio.core.progress import CancelToken, Progress
from tests.core.models.download_support import (
    HUB_COMMIT,
    FakeServer,
    listing,
    make_manager,
    one_model_manifest,
    random_bytes,
    sha256_of,
)

REPO = "someone/tiny-parser"
REVISION = HUB_COMMIT
FILENAME = "weights/79999_iter.pth"
PAYLOAD = random_bytes(900_000, seed=3)
HUB_PATH = f"/{REPO}/resolve/{REVISION}/{FILENAME}"


@pytest.fixture(autouse=True)
def _hub_online(monkeypatch: pytest.MonkeyPatch) -> None:
    # huggingface_hub reads HF_HUB_OFFLINE once at import; a developer's shell setting must
    # not turn this test of the online path into a skip-by-error.
    import huggingface_hub.constants

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)


def _manager(server: FakeServer, tmp_path: Path, sha256: str | None) -> ModelManager:
    manifest = one_model_manifest(
        "parser",
        [{"path": FILENAME, "size": len(PAYLOAD), "sha256": sha256}],
        source={"type": "huggingface", "repo": REPO, "revision": REVISION},
    )
    return make_manager(manifest, tmp_path, hf_endpoint=server.base_url)


def test_hub_file_arrives_in_our_cache_layout(fake_server: FakeServer, tmp_path: Path) -> None:
    fake_server.add_hub_file(REPO, REVISION, FILENAME, PAYLOAD)
    manager = _manager(fake_server, tmp_path, sha256_of(PAYLOAD))
    events: list[Progress] = []

    folder = manager.download("parser", on_progress=events.append)

    assert folder == tmp_path / "cache" / "parser" / "r1"
    assert manager.file("parser", FILENAME).read_bytes() == PAYLOAD
    assert listing(folder) == [FILENAME]  # hub staging folder removed
    # repo, revision and file name reached the hub API as huggingface_hub builds its URL.
    methods = [r.method for r in fake_server.requests if r.path == HUB_PATH]
    assert methods[0] == "HEAD" and "GET" in methods
    assert events[-1].done == events[-1].total == len(PAYLOAD)


def test_hub_corrupt_download_is_retried(fake_server: FakeServer, tmp_path: Path) -> None:
    fake_server.add_hub_file(REPO, REVISION, FILENAME, PAYLOAD, corrupt_first=1)
    manager = _manager(fake_server, tmp_path, sha256_of(PAYLOAD))

    manager.download("parser")

    assert len(fake_server.gets(HUB_PATH)) == 2
    assert manager.file("parser", FILENAME).read_bytes() == PAYLOAD


def test_hub_file_without_published_hash_is_trusted_on_first_use(
    fake_server: FakeServer, tmp_path: Path
) -> None:
    fake_server.add_hub_file(REPO, REVISION, FILENAME, PAYLOAD)
    manager = _manager(fake_server, tmp_path, sha256=None)

    manager.download("parser")

    (check,) = manager.verify("parser").files
    assert check.expected == sha256_of(PAYLOAD)
    assert f"huggingface.co/{REPO}@{REVISION}" in check.detail


def test_hub_cancel_leaves_no_complete_looking_file(
    fake_server: FakeServer, tmp_path: Path
) -> None:
    cancel = CancelToken()
    fake_server.add_hub_file(
        REPO, REVISION, FILENAME, PAYLOAD, after_chunk=lambda _: cancel.cancel()
    )
    manager = _manager(fake_server, tmp_path, sha256_of(PAYLOAD))

    with pytest.raises(OperationCancelled):
        manager.download("parser", cancel=cancel)

    leftovers = listing(tmp_path / "cache")
    assert not any(Path(name).name == Path(FILENAME).name for name in leftovers), leftovers
    assert not manager.is_available("parser")


def test_missing_hub_file_is_a_clear_error(fake_server: FakeServer, tmp_path: Path) -> None:
    manager = _manager(fake_server, tmp_path, sha256_of(PAYLOAD))
    with pytest.raises(ModelUnavailableError) as raised:
        manager.download("parser")
    text = raised.value.user_message()
    assert REPO in text and REVISION in text and FILENAME in text

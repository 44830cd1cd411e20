"""Hub downloads run the real `huggingface_hub.hf_hub_download` against a local endpoint."""

from __future__ import annotations

from pathlib import Path

import pytest

from anonnet_studio.core.errors import (
    ModelIntegrityError,
    ModelUnavailableError,
    OperationCancelled,
)
from anonnet_studio.core.models import FileStatus, ModelManager
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


def _manager(
    server: FakeServer, tmp_path: Path, sha256: str | None, revision: str = REVISION
) -> ModelManager:
    manifest = one_model_manifest(
        "parser",
        [{"path": FILENAME, "size": len(PAYLOAD), "sha256": sha256}],
        source={"type": "huggingface", "repo": REPO, "revision": revision},
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
    assert check.status is FileStatus.HUB
    assert check.expected == sha256_of(PAYLOAD)
    assert f"huggingface.co/{REPO}@{REVISION}" in check.detail

    # Every later verify compares with the Hub's hash: a changed file is caught.
    damaged = manager.file("parser", FILENAME)
    damaged.write_bytes(b"x" + PAYLOAD[1:])
    (check,) = manager.verify("parser").files
    assert check.status is FileStatus.MISMATCH


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


def test_an_interrupted_hub_download_resumes_from_its_part_file(
    fake_server: FakeServer, tmp_path: Path
) -> None:
    fake_server.add_hub_file(REPO, REVISION, FILENAME, PAYLOAD)
    manager = _manager(fake_server, tmp_path, sha256_of(PAYLOAD))
    part = manager.cache_folder("parser") / (FILENAME + ".part")
    part.parent.mkdir(parents=True)
    part.write_bytes(PAYLOAD[:400_000])

    manager.download("parser")

    (request,) = fake_server.gets(HUB_PATH)
    assert request.range == "bytes=400000-"
    assert request.bytes_sent == len(PAYLOAD) - 400_000
    assert manager.file("parser", FILENAME).read_bytes() == PAYLOAD


def test_a_dropped_hub_transfer_is_resumed(fake_server: FakeServer, tmp_path: Path) -> None:
    fake_server.add_hub_file(REPO, REVISION, FILENAME, PAYLOAD, drop_first=1, drop_after=300_000)
    manager = _manager(fake_server, tmp_path, sha256_of(PAYLOAD))

    manager.download("parser")

    first, second = fake_server.gets(HUB_PATH)
    assert first.bytes_sent == 300_000 and second.range == "bytes=300000-"
    assert manager.file("parser", FILENAME).read_bytes() == PAYLOAD


def test_a_revision_that_resolves_to_another_commit_is_refused(
    fake_server: FakeServer, tmp_path: Path
) -> None:
    pinned = "f" * 40  # the server answers every revision with HUB_COMMIT
    fake_server.add_hub_file(REPO, pinned, FILENAME, PAYLOAD)
    manager = _manager(fake_server, tmp_path, sha256_of(PAYLOAD), revision=pinned)

    with pytest.raises(ModelUnavailableError, match=f"with commit {HUB_COMMIT}"):
        manager.download("parser")

    assert fake_server.gets(f"/{REPO}/resolve/{pinned}/{FILENAME}") == []


def test_a_hub_hash_that_contradicts_the_pin_is_refused_before_downloading(
    fake_server: FakeServer, tmp_path: Path
) -> None:
    fake_server.add_hub_file(REPO, REVISION, FILENAME, random_bytes(len(PAYLOAD), seed=4))
    manager = _manager(fake_server, tmp_path, sha256_of(PAYLOAD))

    with pytest.raises(ModelIntegrityError, match="The Hub reports sha256"):
        manager.download("parser")

    assert fake_server.gets(HUB_PATH) == []
    assert listing(tmp_path / "cache") == []


def test_a_plain_git_hub_file_is_checked_against_its_git_blob_id(
    fake_server: FakeServer, tmp_path: Path
) -> None:
    config = b'{"hidden_size": 8}\n' * 100
    fake_server.add_hub_file(REPO, REVISION, "config.json", config, lfs=False, corrupt_first=1)
    manifest = one_model_manifest(
        "parser",
        [{"path": "config.json", "sha256": None, "no_public_hash": "test file"}],
        source={"type": "huggingface", "repo": REPO, "revision": REVISION},
    )
    manager = make_manager(manifest, tmp_path, hf_endpoint=fake_server.base_url)
    events: list[Progress] = []

    manager.download("parser", on_progress=events.append)

    assert len(fake_server.gets(f"/{REPO}/resolve/{REVISION}/config.json")) == 2
    assert any("Git blob id is" in e.message for e in events)  # the damaged copy
    assert manager.file("parser", "config.json").read_bytes() == config
    (check,) = manager.verify("parser").files
    assert check.status is FileStatus.HUB and check.expected == sha256_of(config)


def test_a_hub_mirror_may_keep_the_file_under_another_path(
    fake_server: FakeServer, tmp_path: Path
) -> None:
    fake_server.add_hub_file(REPO, REVISION, "auxiliary/landmarks.zip", PAYLOAD)
    files = [
        {
            "path": "landmarks.zip",
            "size": len(PAYLOAD),
            "sha256": sha256_of(PAYLOAD),
            "sources": [
                {"type": "url", "url": fake_server.base_url + "/gone/landmarks.zip"},
                {
                    "type": "huggingface",
                    "repo": REPO,
                    "revision": REVISION,
                    "path": "auxiliary/landmarks.zip",
                },
            ],
        }
    ]
    manager = make_manager(
        one_model_manifest("fan", files), tmp_path, hf_endpoint=fake_server.base_url
    )

    folder = manager.download("fan")

    assert listing(folder) == ["landmarks.zip"]
    assert (folder / "landmarks.zip").read_bytes() == PAYLOAD

"""Download plans (sizes, bytes left, disk space, whole-set progress) and licence consent."""

from __future__ import annotations

from pathlib import Path

import pytest

from anonnet_studio.core.errors import ModelError
from anonnet_studio.core.models import ModelManager, parse_manifest
from anonnet_studio.core.models.download_plan import (
    MIN_FREE_MARGIN,
    SetProgress,
    check_free_space,
    format_bytes,
    plan_downloads,
    required_space,
    with_remote_sizes,
)
from anonnet_studio.core.models.licences import (
    LicencesNotAccepted,
    confirm_licences,
    licence_text,
)
from anonnet_studio.core.progress import Progress
from tests.core.models.download_support import (
    HUB_COMMIT,
    FakeServer,
    make_manager,
    random_bytes,
    sha256_of,
)

BIG = random_bytes(500_000, seed=11)
SMALL = random_bytes(120_000, seed=12)


def _model(name: str, files: list[dict], **extra: object) -> dict:
    return {
        "name": name,
        "purpose": f"{name} model",
        "kind": "downloaded",
        "licence": extra.pop("licence", "MIT"),
        "revision": "v1",
        "files": files,
        **extra,
    }


def _manager(server: FakeServer, tmp_path: Path, *, sizes: bool = True) -> ModelManager:
    big = server.add("/files/big.bin", BIG)
    small = server.add("/files/small.bin", SMALL)
    server.add_hub_file("owner/repo", HUB_COMMIT, "hub.bin", SMALL)
    models = [
        _model(
            "alpha",
            [
                {
                    "path": "big.bin",
                    "size": len(BIG) if sizes else None,
                    "sha256": sha256_of(BIG),
                    "source": {"type": "url", "url": big},
                },
                {
                    "path": "small.bin",
                    "size": len(SMALL),
                    "sha256": sha256_of(SMALL),
                    "source": {"type": "url", "url": small},
                },
            ],
        ),
        _model(
            "beta",
            [{"path": "hub.bin", "size": len(SMALL) if sizes else None, "sha256": None}],
            source={"type": "huggingface", "repo": "owner/repo", "revision": HUB_COMMIT},
            licence="CC-BY-NC-4.0",
            non_commercial=True,
        ),
    ]
    manifest = parse_manifest({"schema_version": 1, "models": models})
    return make_manager(manifest, tmp_path, hf_endpoint=server.base_url)


def test_a_plan_counts_what_is_left_including_resumed_parts(
    fake_server: FakeServer, tmp_path: Path
) -> None:
    manager = _manager(fake_server, tmp_path)
    alpha = manager.cache_folder("alpha")
    alpha.mkdir(parents=True)
    (alpha / "small.bin").write_bytes(SMALL)  # complete already
    (alpha / "big.bin.part").write_bytes(BIG[:200_000])  # a third of the way

    plan = plan_downloads(manager, ["alpha", "beta"])

    first, _ = plan.models
    assert [f.path for f in first.files] == ["big.bin"]
    assert first.present == len(SMALL) and first.left == len(BIG) - 200_000
    assert first.total == len(BIG) + len(SMALL)
    assert plan.left == len(BIG) - 200_000 + len(SMALL)
    assert plan.total == len(BIG) + 2 * len(SMALL)
    notices = plan.licences()
    assert [(n.model, n.non_commercial, n.size) for n in notices] == [
        ("alpha", False, len(BIG) - 200_000),
        ("beta", True, len(SMALL)),
    ]
    assert fake_server.requests == []  # planning never goes online


def test_sizes_the_manifest_lacks_are_asked_from_the_sources(
    fake_server: FakeServer, tmp_path: Path
) -> None:
    manager = _manager(fake_server, tmp_path, sizes=False)
    plan = plan_downloads(manager, ["alpha", "beta"])
    assert plan.total is None and plan.unknown_sizes == 2

    plan = with_remote_sizes(plan, manager)

    assert plan.unknown_sizes == 0
    assert plan.total == len(BIG) + 2 * len(SMALL)
    assert {r.method for r in fake_server.requests} == {"HEAD"}  # sizes, not bodies


def test_free_space_is_checked_with_a_margin(fake_server: FakeServer, tmp_path: Path) -> None:
    plan = plan_downloads(_manager(fake_server, tmp_path), ["alpha", "beta"])
    needed = required_space(plan.known_left)
    assert needed == plan.known_left + MIN_FREE_MARGIN

    check_free_space(plan, tmp_path / "not-yet-created", free=needed)
    with pytest.raises(ModelError) as raised:
        check_free_space(plan, tmp_path / "cache", free=needed - 1)
    text = raised.value.user_message()
    assert f"the download needs {format_bytes(plan.known_left)}" in text
    assert "$ANONNET_MODELS_CACHE" in text
    # Large downloads keep 5% spare rather than the fixed minimum.
    assert required_space(100 * 10**9) == 105 * 10**9


def test_set_progress_reports_each_model_and_the_bytes_left_overall(
    fake_server: FakeServer, tmp_path: Path
) -> None:
    manager = _manager(fake_server, tmp_path)
    plan = plan_downloads(manager, ["alpha", "beta"])
    events: list[Progress] = []
    progress = SetProgress(plan, events.append)

    for index, model in enumerate(plan.models):
        manager.download(model.spec.name, on_progress=progress.model(index))
        progress.finished(index)

    assert {e.stage for e in events} == {"[1/2] alpha", "[2/2] beta"}
    last_alpha = [e for e in events if e.stage == "[1/2] alpha"][-1]
    assert last_alpha.done == last_alpha.total == len(BIG) + len(SMALL)
    assert last_alpha.message.endswith(
        f"{format_bytes(len(SMALL))} of {format_bytes(plan.total)} left"
    )
    assert events[-1].message.endswith(f"0 B of {format_bytes(plan.total)} left")
    assert all(e.unit == "B" for e in events)


def test_licence_consent(fake_server: FakeServer, tmp_path: Path) -> None:
    notices = plan_downloads(_manager(fake_server, tmp_path), ["alpha", "beta"]).licences()
    lines = licence_text(notices, format_bytes)
    assert lines[1] == "  alpha   620.0 KB  MIT"
    assert lines[2] == "  beta    120.0 KB  CC-BY-NC-4.0  [NON-COMMERCIAL]"

    confirm_licences(notices, accepted=True, ask=None, how_to_accept="flag")
    confirm_licences((), accepted=False, ask=None, how_to_accept="flag")  # nothing to accept
    with pytest.raises(LicencesNotAccepted, match="listed above: use the flag"):
        confirm_licences(notices, accepted=False, ask=None, how_to_accept="use the flag")
    questions: list[str] = []
    confirm_licences(
        notices, accepted=False, ask=lambda q: questions.append(q) or True, how_to_accept=""
    )
    assert questions == ["Accept the licences above and download 2 models?"]
    with pytest.raises(LicencesNotAccepted, match="not accepted"):
        confirm_licences(notices, accepted=False, ask=lambda q: False, how_to_accept="")

"""Concurrent saves and hostile project files (issue 20, defects 5 and 6), with real
processes: two savers at once, and the CLI opening files built to crash or exhaust it."""

from __future__ import annotations

import json
import os
import re
import resource
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from anonnet_studio.project.io import SAVE_LOCK_NAME, load_project, save_project, sidecar_dir
from tests.bad_input.cli_runs import CLI, assert_clean_failure, cli_env, listing, sha256
from tests.bad_input.hostile_arrays import (
    members_of,
    npy_bytes,
    npy_header,
    plain_member,
    replace_arrays,
    zero_bomb_member,
)
from tests.conftest import REPO_ROOT
from tests.project.factories import make_demo_project

SAVES_PER_PROCESS = 25
BOXES = "tracks[1].boxes"  # an array of the demo project
# A regression must fail the test, not exhaust the shared machine's memory.
MEMORY_LIMIT_BYTES = 3 * 1024**3

_SAVER = """
import sys
from anonnet_studio.project.io import load_project, save_project
path, tag, count = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
project = load_project(path)
for i in range(count):
    project.identities[0].name = f"saver {tag} save {i}"
    project.tracks[1].scores[0] = (tag + i) / 1000  # new arrays, so a new sidecar each save
    save_project(project, path)
"""


def test_two_processes_saving_one_project_take_turns(tmp_path: Path) -> None:
    path = tmp_path / "shared.anonproj"
    save_project(make_demo_project(), path)
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    savers = [
        subprocess.Popen([sys.executable, "-c", _SAVER, str(path), str(tag),
                          str(SAVES_PER_PROCESS)], env=env, stderr=subprocess.PIPE, text=True)
        for tag in (1, 2)
    ]  # fmt: skip
    for saver in savers:
        _, err = saver.communicate(timeout=300)
        assert saver.returncode == 0, err  # no save failed
    project = load_project(path)
    assert project.identities[0].name.endswith(f"save {SAVES_PER_PROCESS - 1}")
    (sidecar,) = [name for name in listing(sidecar_dir(path)) if name != SAVE_LOCK_NAME]
    assert json.loads(path.read_text())["arrays"]["file"].endswith(sidecar)
    assert listing(tmp_path) == sorted([path.name, sidecar_dir(path).name,
                                        f"{sidecar_dir(path).name}/{sidecar}",
                                        f"{sidecar_dir(path).name}/{SAVE_LOCK_NAME}"])  # fmt: skip


@pytest.fixture
def saved(tmp_path: Path) -> Path:
    (tmp_path / "files").mkdir()
    path = tmp_path / "files" / "hostile.anonproj"
    save_project(make_demo_project(), path)
    return path


def _with_boxes(path: Path, boxes_member) -> None:
    members = [plain_member(f"{key}.npy", npy_bytes(value))
               for key, value in members_of(path).items() if key != BOXES]  # fmt: skip
    replace_arrays(path, [*members, boxes_member])


def _huge_declared_array(path: Path) -> None:
    # 100 GB of float32 boxes declared by a header followed by a few bytes.
    header = npy_header((6_250_000_000, 4))
    _with_boxes(path, plain_member(f"{BOXES}.npy", header + b"\0" * 64))


def _decompression_bomb(path: Path) -> None:
    # A real 4 GiB member (header + zeros) deflated to about 4 MB.
    _with_boxes(path, zero_bomb_member(f"{BOXES}.npy", npy_header((268_435_456, 4)), 4 << 30))


def _boxes(path: Path, value: float) -> None:
    boxes = members_of(path)[BOXES].copy()
    boxes[:] = value
    _with_boxes(path, plain_member(f"{BOXES}.npy", npy_bytes(boxes)))


def _nan_literal(path: Path) -> None:
    text, count = re.subn(r'"strength": [0-9.]+', '"strength": NaN', path.read_text(), count=1)
    assert count == 1
    path.write_text(text)


HOSTILE = {
    "array declaring 100 GB": (_huge_declared_array, f"{BOXES}: declares shape (6250000000, 4)"),
    "4 GiB decompression bomb": (_decompression_bomb, f"{BOXES}: declares 4294967424 bytes"),
    "all-NaN boxes": (lambda p: _boxes(p, np.nan), f"{BOXES}: row 0 is not a finite number"),
    "boxes far outside the frame": (lambda p: _boxes(p, 1e9), f"{BOXES}: row 0"),
    "NaN in the JSON": (_nan_literal, "holds the number NaN"),
}


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT_BYTES, MEMORY_LIMIT_BYTES))


@pytest.mark.parametrize("case", sorted(HOSTILE))
@pytest.mark.parametrize("command", ["report", "export"])
def test_hostile_project_files_are_refused_naming_the_field(
    case: str, command: str, saved: Path, tmp_path: Path
) -> None:
    make_hostile, phrase = HOSTILE[case]
    make_hostile(saved)
    files = saved.parent
    before = {name: sha256(files / name) for name in listing(files) if (files / name).is_file()}
    args = [command, str(saved)] + (["-o", str(files / "out.mp4")] if command == "export" else [])
    result = subprocess.run(
        [*CLI, *args], cwd=tmp_path, env=cli_env(tmp_path / "models"), capture_output=True,
        text=True, timeout=300, preexec_fn=_limit_memory,
    )  # fmt: skip
    assert_clean_failure(result, phrase)
    after = {name: sha256(files / name) for name in listing(files) if (files / name).is_file()}
    assert after == before  # nothing written, the hostile file itself untouched

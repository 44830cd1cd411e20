"""Temp files, stale-file sweeping and output transactions (`core.fileio`)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from anonnet_studio.core.errors import OutputError
from anonnet_studio.core.fileio import (
    MAX_NAME_BYTES,
    OutputTransaction,
    TempFile,
    is_temp_name,
    sweep_stale_temp_files,
    temp_name_for,
)
from tests.support.processes import finished_process_id


@pytest.mark.parametrize("name", ["a" * 255, "é" * 127 + ".mp4", "clip.mp4"])
def test_temp_names_fit_the_file_system_and_are_recognisable(name: str) -> None:
    temp = temp_name_for(name)
    assert len(os.fsencode(temp)) <= MAX_NAME_BYTES
    assert is_temp_name(temp) and temp.startswith(".anonnet-") and temp.endswith(".partial")
    assert not is_temp_name(name) and not is_temp_name(".clip.mp4.partial")


def test_sweep_removes_only_abandoned_temp_files_of_ours(tmp_path: Path) -> None:
    own = TempFile(tmp_path, "mine.mp4")  # this process is alive: never swept
    gone = finished_process_id()
    stale = tmp_path / f".anonnet-{gone}-0123abcd-x.mp4.partial"
    stale.write_bytes(b"half a video")
    foreign = tmp_path / f".other-{gone}-0123abcd-x.mp4.partial"
    foreign.write_bytes(b"not ours")
    assert sweep_stale_temp_files(tmp_path) == [stale]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([foreign.name, own.path.name])
    own.discard()


def test_sweep_keeps_a_file_whose_writer_is_alive(tmp_path: Path) -> None:
    """Another process writing in the folder: its temp file survives our sweep."""
    script = (
        "import sys\n"
        "from anonnet_studio.core.fileio import TempFile\n"
        f"t = TempFile({str(tmp_path)!r}, 'theirs.mp4'); print(t.path.name, flush=True)\n"
        "sys.stdin.read()"
    )
    holder = subprocess.Popen(
        [sys.executable, "-c", script],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])},
    )
    try:
        name = holder.stdout.readline().strip()  # type: ignore[union-attr]
        assert sweep_stale_temp_files(tmp_path) == []
        assert (tmp_path / name).exists()
    finally:
        holder.kill()
        holder.wait()
    assert sweep_stale_temp_files(tmp_path) == [tmp_path / name]  # its writer is gone now


def test_transaction_commits_all_or_leaves_none(tmp_path: Path) -> None:
    with OutputTransaction() as outputs:
        for name in ("a.json", "b.html"):
            outputs.stage(tmp_path / name).write_all(name.encode())
        assert sorted(is_temp_name(p.name) for p in tmp_path.iterdir()) == [True, True]
        outputs.commit()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.json", "b.html"]

    fresh = tmp_path / "fresh"
    fresh.mkdir()
    with pytest.raises(RuntimeError, match="stop"), OutputTransaction() as outputs:
        outputs.stage(fresh / "a.json").write_all(b"a")
        raise RuntimeError("stop")
    assert list(fresh.iterdir()) == []


def test_a_rename_failing_half_way_removes_what_was_renamed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_replace = os.replace

    def failing_second(src: str, dst: str) -> None:
        if Path(dst).name == "b.html":
            raise OSError(28, "No space left on device")
        real_replace(src, dst)

    outputs = OutputTransaction()
    outputs.stage(tmp_path / "a.json").write_all(b"a")
    outputs.stage(tmp_path / "b.html").write_all(b"b")
    monkeypatch.setattr(os, "replace", failing_second)
    with pytest.raises(OutputError, match="none of them was kept"):
        outputs.commit()
    assert list(tmp_path.iterdir()) == []


@pytest.mark.skipif(os.name != "posix", reason="flock")
def test_sweep_keeps_a_locked_file_even_if_its_process_id_looks_dead(tmp_path: Path) -> None:
    """The lock protects where the pid cannot (another pid namespace, a reused name)."""
    locked = tmp_path / f".anonnet-{finished_process_id()}-0123abcd-x.mp4.partial"
    script = (
        "import fcntl, os, sys\n"
        f"fd = os.open({str(locked)!r}, os.O_RDWR | os.O_CREAT)\n"
        "fcntl.flock(fd, fcntl.LOCK_EX); print('locked', flush=True); sys.stdin.read()"
    )
    holder = subprocess.Popen(
        [sys.executable, "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout.readline().strip() == "locked"  # type: ignore[union-attr]
        assert sweep_stale_temp_files(tmp_path) == []
        assert locked.exists()
    finally:
        holder.kill()
        holder.wait()
    assert sweep_stale_temp_files(tmp_path) == [locked]

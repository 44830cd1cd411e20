"""A disk that fills up while writing (issue 16, item 5): real processes under a file-size
limit (RLIMIT_FSIZE: a write past it fails with EFBIG, as a full disk fails one with
ENOSPC; Python ignores SIGXFSZ), so the product's own writes fail in the middle. The run
ends with one line and exit 2, and leaves no file, not even a temp file."""

from __future__ import annotations

import re
import resource
import subprocess
from pathlib import Path

import pytest

from tests.bad_input.cli_runs import CLI, build_clip, cli_env, listing, sha256

LIMIT_BYTES = 12 * 1024  # well under the video (about 25 KB) and the project's arrays


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_clip(tmp_path_factory.mktemp("full_disk_clip"), 20)


def _limited() -> None:
    resource.setrlimit(resource.RLIMIT_FSIZE, (LIMIT_BYTES, LIMIT_BYTES))


@pytest.mark.parametrize(
    ("command", "message"),
    [
        (
            ["anonymize", "{clip}", "-o", "{out}/v.mp4", "--report", "{out}/r.json"],
            r"error: (Writing|Finishing) v\.mp4 failed: File too large\. Check that the dest",
        ),
        (
            ["analyze", "{clip}", "-o", "{out}/p.anonproj"],
            r"error: Could not save the project to {out}/p\.anonproj: File too large\.",
        ),
    ],
    ids=["anonymize", "analyze"],
)
def test_a_disk_that_fills_up_mid_write_leaves_no_file(
    clip: Path, tmp_path: Path, command: list[str], message: str
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    before = sha256(clip)
    argv = [part.format(clip=clip, out=out) for part in command]
    result = subprocess.run(
        [*CLI, *argv, "-q"], cwd=tmp_path, env=cli_env(tmp_path / "models"),
        capture_output=True, text=True, timeout=600, preexec_fn=_limited,
    )  # fmt: skip
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, result.stderr
    assert re.match(message.replace("{out}", re.escape(str(out))), errors[0]), errors[0]
    assert ".partial" not in errors[0]  # the user never sees a temp file's name
    assert listing(out) == []
    assert sha256(clip) == before

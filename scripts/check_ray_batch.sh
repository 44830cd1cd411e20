#!/usr/bin/env bash
# Runs the Ray local-mode batch test (tests/cli/test_batch.py::test_ray_in_local_mode...)
# with Ray installed beside the project's venv, not into it: Ray is an optional extra
# ([cluster]) and the test skips where it is not importable.
#
#   scripts/check_ray_batch.sh            # PY defaults to .venv/bin/python
#
# Ray and those of its dependencies the venv lacks are linked into one folder put on
# PYTHONPATH (so Ray's worker processes find them too); the venv's own packages are not
# shadowed. About 30 s and 260 MB the first time.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
TARGET=${RAY_TARGET:-/tmp/anonnet-ray}
if [ ! -d "$TARGET/site/ray" ]; then
    "$PY" -m pip install -q --disable-pip-version-check --target "$TARGET/site" "ray>=2.40,<3"
fi
rm -rf "$TARGET/only" && mkdir -p "$TARGET/only"
"$PY" - "$TARGET" <<'PYCODE'
import importlib.util
import sys
from pathlib import Path

target = Path(sys.argv[1])
for entry in sorted((target / "site").iterdir()):
    if entry.name in ("bin", "__pycache__") or entry.name.endswith(".dist-info"):
        continue
    name = entry.name.removesuffix(".py")
    if importlib.util.find_spec(name) is None:  # missing from the venv: take Ray's copy
        (target / "only" / entry.name).symlink_to(entry)
for info in (target / "site").glob("ray-*.dist-info"):
    (target / "only" / info.name).symlink_to(info)
PYCODE
PYTHONPATH="$PWD:$TARGET/only" QT_QPA_PLATFORM=offscreen "$PY" -m pytest \
    "tests/cli/test_batch.py::test_ray_in_local_mode_processes_every_file" -q -rs -p no:cacheprovider

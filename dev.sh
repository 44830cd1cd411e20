#!/usr/bin/env bash
# One entry point for a fresh machine:
#   ./dev.sh demo   install everything into .venv, then anonymize a fixture clip
#   ./dev.sh test   install everything into .venv, then run lint + the whole test suite
set -euo pipefail
cd "$(dirname "$0")"

VENV=.venv
PY="$VENV/bin/python"
FIXTURES="${ANONNET_FIXTURES:-../shared/fixtures}"

ensure_env() {
    # Reinstall only when the dependency declarations changed since the last install.
    local stamp
    stamp=$(cat pyproject.toml requirements/*.txt | sha256sum | cut -d' ' -f1)
    if [ -x "$PY" ] && [ -f "$VENV/.stamp" ] && [ "$(cat "$VENV/.stamp")" = "$stamp" ]; then
        return
    fi
    echo "Installing AnonNET Studio into $VENV (first run takes a few minutes)..." >&2
    [ -x "$PY" ] || python3 -m venv "$VENV"
    "$PY" -m pip install -q --upgrade pip
    "$PY" -m pip install -q -e ".[dev]"
    "$PY" -m pip install -q --no-deps -r requirements/no-deps.txt
    echo "$stamp" > "$VENV/.stamp"
}

cmd="${1:-}"
shift || true
case "$cmd" in
    demo)
        ensure_env
        mkdir -p out
        clip="${1:-$FIXTURES/video/lp_d19.mp4}"
        "$VENV/bin/anonnet-studio" anonymize "$clip" -o out/demo_anonymized.mp4 \
            --report out/demo_report.json --overwrite  # the demo replaces its own outputs
        echo "Wrote out/demo_anonymized.mp4 and out/demo_report.{json,html}"
        ;;
    test)
        ensure_env
        export QT_QPA_PLATFORM=offscreen
        set +e
        "$PY" -m pytest "$@"
        rc=$?
        set -e
        if [ "$rc" -eq 5 ]; then
            echo "error: pytest collected no tests" >&2
            exit 1
        fi
        exit "$rc"
        ;;
    install)
        ensure_env
        ;;
    *)
        echo "usage: ./dev.sh demo [VIDEO] | test [PYTEST ARGS] | install" >&2
        exit 2
        ;;
esac

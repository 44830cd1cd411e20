"""Benchmark a model download through faults against a clean download of the same file.

    python scripts/bench_download.py               # 60 MB, first host dead, mirror drops 4x
    python scripts/bench_download.py --mb 200 --drops 8

Both runs go through the real model manager against a local HTTP server (the tests'
fake hub, on 127.0.0.1) in the same process, so the ratio shows what the faults cost:
the dead first host, the dropped connections (each resumed with a Range request), and
the sha256 check at the end. The retry backoff is the product's default.
"""

from __future__ import annotations

import argparse
import http.server
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from anonnet_studio.core.models import ModelManager  # noqa: E402
from tests.core.models.download_support import (  # noqa: E402
    FakeServer,
    handler_for,
    one_model_manifest,
    random_bytes,
    sha256_of,
)


def _manager(server: FakeServer, folder: Path, paths: list[str], payload: bytes) -> ModelManager:
    files = [
        {
            "path": "weights.bin",
            "size": len(payload),
            "sha256": sha256_of(payload),
            "sources": [{"type": "url", "url": server.base_url + p} for p in paths],
        }
    ]
    return ModelManager(
        one_model_manifest("bench", files),
        cache_dir=folder / "cache",
        user_dir=folder / "user-models",
        settings_path=folder / "config" / "locations.json",
        http_timeout_s=10.0,
        retry_delay_s=0.2,  # short first backoff so the run measures transfer, not sleeping
    )


def _timed_download(manager: ModelManager) -> float:
    start = time.perf_counter()
    manager.download("bench")
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mb", type=int, default=60, help="file size in MB (10^6 bytes)")
    parser.add_argument("--drops", type=int, default=4, help="dropped connections on the mirror")
    args = parser.parse_args()
    payload = random_bytes(args.mb * 1_000_000)

    server = FakeServer(base_url="")
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler_for(server))
    httpd.daemon_threads = True
    server.base_url = f"http://127.0.0.1:{httpd.server_address[1]}"
    threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True).start()
    try:
        with tempfile.TemporaryDirectory(prefix="anonnet-bench-download-") as tmp:
            folder = Path(tmp)
            server.add("/clean/weights.bin", payload)
            clean_s = _timed_download(
                _manager(server, folder / "a", ["/clean/weights.bin"], payload)
            )

            step = len(payload) // (args.drops + 1)
            server.add("/mirror/weights.bin", payload, drop_first=args.drops, drop_after=step)
            manager = _manager(
                server, folder / "b", ["/dead/weights.bin", "/mirror/weights.bin"], payload
            )
            faulty_s = _timed_download(manager)
            landed = manager.file("bench", "weights.bin").read_bytes()
    finally:
        httpd.shutdown()
        httpd.server_close()

    gets = server.gets("/mirror/weights.bin")
    print(f"file: {len(payload):,} bytes")
    print(f"clean download (1 host):            {clean_s:6.2f} s")
    print(
        f"dead first host + {args.drops} drops on mirror: {faulty_s:6.2f} s "
        f"({faulty_s / clean_s:.2f}x clean), {len(gets)} GETs on the mirror, "
        f"resumed at {[g.range for g in gets[1:]]}"
    )
    intact = landed == payload
    print(f"landed bytes: {len(landed):,}, identical to the source: {intact}")
    return 0 if intact else 1


if __name__ == "__main__":
    raise SystemExit(main())

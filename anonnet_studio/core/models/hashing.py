"""Streaming sha256 of model files, cancellable and with byte progress."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

from anonnet_studio.core.progress import CancelToken, check_cancel

HASH_CHUNK_BYTES = 1 << 20


def sha256_file(
    path: Path,
    *,
    on_bytes: Callable[[int], None] | None = None,
    cancel: CancelToken | None = None,
) -> str:
    """Hex sha256 of `path`; `on_bytes(n)` is called after each chunk of n bytes."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(HASH_CHUNK_BYTES):
            check_cancel(cancel)
            digest.update(chunk)
            if on_bytes is not None:
                on_bytes(len(chunk))
    return digest.hexdigest()

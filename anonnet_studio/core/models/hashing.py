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


def sha256_and_git_sha1(path: Path, *, cancel: CancelToken | None = None) -> tuple[str, str]:
    """(sha256, Git blob sha1) of `path` in one pass.

    The Hub identifies a file kept in plain Git (not LFS) by its Git blob id:
    sha1 of "blob <size>\\0" followed by the content.
    """
    sha256 = hashlib.sha256()
    git = hashlib.sha1(f"blob {path.stat().st_size}\0".encode(), usedforsecurity=False)
    with path.open("rb") as handle:
        while chunk := handle.read(HASH_CHUNK_BYTES):
            check_cancel(cancel)
            sha256.update(chunk)
            git.update(chunk)
    return sha256.hexdigest(), git.hexdigest()

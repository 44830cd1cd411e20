"""Fetch one file from a Hugging Face Hub repository through `huggingface_hub`.

`hf_hub_download` handles the hub's redirects, auth tokens and Xet storage; we point it at
a staging folder (`local_dir`) and move the verified file into our own cache layout.
Its `tqdm_class` hook is our progress and cancellation point. huggingface_hub 2.x writes
to a process-unique temporary file that it deletes on failure, so an interrupted hub
download restarts that file from zero (it does resume by itself after transient network
errors within one call).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from anonnet_studio import __version__
from anonnet_studio.core.errors import AnonNetError, ModelUnavailableError
from anonnet_studio.core.models.manifest import HubSource
from anonnet_studio.core.progress import CancelToken, check_cancel


def fetch_from_hub(
    source: HubSource,
    filename: str,
    staging_dir: Path,
    *,
    endpoint: str | None,
    timeout_s: float,
    on_bytes: Callable[[int], None],
    cancel: CancelToken | None = None,
    force: bool = False,
) -> Path:
    """Download `filename` of `source` into `staging_dir`; returns the downloaded file.

    `force` re-downloads even if a copy is already staged (used after a failed check).
    """
    # Imported here: huggingface_hub is slow to import and only needed for downloads.
    from huggingface_hub import hf_hub_download

    check_cancel(cancel)
    try:
        path = hf_hub_download(
            repo_id=source.repo,
            filename=filename,
            revision=source.revision,
            repo_type=source.repo_type,
            local_dir=staging_dir,
            endpoint=endpoint,
            etag_timeout=timeout_s,
            force_download=force,
            tqdm_class=_progress_class(on_bytes, cancel),  # type: ignore[arg-type]
            library_name="anonnet-studio",
            library_version=__version__,
        )
    except AnonNetError:
        raise  # our own cancellation, raised from inside the progress hook
    except Exception as exc:
        # huggingface_hub raises many types (HTTP, offline, missing entry, metadata); at
        # this boundary they all mean "the file could not be fetched".
        raise ModelUnavailableError(
            f"Could not download '{filename}' from the Hugging Face repository "
            f"{source.repo} at revision {source.revision}: {_first_line(exc)}",
            hint="Check the connection (and a token, for gated repositories) and try again.",
        ) from exc
    return Path(str(path))


def _progress_class(on_bytes: Callable[[int], None], cancel: CancelToken | None) -> type:
    """A minimal stand-in for tqdm that forwards byte counts and polls the cancel token.

    huggingface_hub instantiates it with tqdm keyword arguments and calls `update(n)` per
    chunk (a negative n when it restarts a file); raising there aborts the transfer and
    huggingface_hub deletes its temporary file.
    """

    class HubProgress:
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            self.n = int(kwargs.get("initial") or 0)
            self.total = kwargs.get("total")
            if self.n:
                on_bytes(self.n)

        def update(self, n: float | None = 1) -> None:
            check_cancel(cancel)
            delta = int(n or 0)
            self.n += delta
            on_bytes(delta)

        def close(self) -> None:
            pass

        def __enter__(self) -> HubProgress:
            return self

        def __exit__(self, *exc: object) -> None:
            self.close()

    return HubProgress


def _first_line(exc: BaseException) -> str:
    """The first line of the error, plus that of its cause (hub errors wrap the HTTP one)."""
    text = (str(exc).strip() or type(exc).__name__).splitlines()[0]
    cause = exc.__cause__ or exc.__context__
    if cause is not None and str(cause).strip():
        text += f" (cause: {str(cause).strip().splitlines()[0]})"
    return text

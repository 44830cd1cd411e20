"""Hugging Face Hub files: what the Hub says about a file, then a resumable download of it.

`huggingface_hub` (2.x) downloads into a process-unique temporary file that it deletes when
a call fails, so an interrupted 3.4 GB file would restart from zero. We therefore ask
`huggingface_hub` only for the file's metadata at the pinned revision (it handles the
Hub's redirects, renamed repositories and headers) and download the bytes ourselves with
`http_download.fetch_to_part`, which resumes a `.part` file with an HTTP Range request.

The metadata carries what makes a Hub file checkable even without a published hash: for a
Git LFS file the Hub reports its sha256 (`X-Linked-Etag`), for a small Git file the Git
blob sha1 (`ETag`); and the commit the revision resolved to (`X-Repo-Commit`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from anonnet_studio import __version__
from anonnet_studio.core.errors import ModelUnavailableError
from anonnet_studio.core.models.http_download import (
    PermanentDownloadError,
    TransientDownloadError,
    http_status_error,
)
from anonnet_studio.core.models.manifest import HubSource

_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_GIT_SHA1 = re.compile(r"^[0-9a-f]{40}$")
# HTTP statuses after which a Hub source will not serve the file however often we ask.
_PERMANENT_STATUSES = frozenset({400, 401, 403, 404, 410})


@dataclass(frozen=True, slots=True)
class HubFileInfo:
    """The Hub's metadata for one file at one revision."""

    url: str  # where to GET the bytes (the resolve URL, or the CDN it redirects to)
    commit: str | None  # the commit the revision resolved to
    size: int | None
    sha256: str | None  # Git LFS files: the sha256 of the content
    git_sha1: str | None  # plain Git files: the Git blob id of the content


def resolve_url(source: HubSource, filename: str, endpoint: str | None) -> str:
    """The `/resolve/<revision>/<path>` URL of a file, as huggingface_hub builds it."""
    # Imported here: huggingface_hub is slow to import and only needed for downloads.
    from huggingface_hub import hf_hub_url

    return hf_hub_url(
        repo_id=source.repo,
        filename=filename,
        repo_type=source.repo_type,
        revision=source.revision,
        endpoint=endpoint,
    )


def hub_file_info(
    source: HubSource, filename: str, *, endpoint: str | None, timeout_s: float
) -> HubFileInfo:
    """Ask the Hub about `filename` at the pinned revision (one HEAD request, no body).

    Raises `PermanentDownloadError` when the repository, revision or file does not exist
    (or is gated), and `TransientDownloadError` for network problems and overloads.
    """
    from huggingface_hub import get_hf_file_metadata

    url = resolve_url(source, filename, endpoint)
    try:
        metadata = get_hf_file_metadata(
            url,
            timeout=timeout_s,
            endpoint=endpoint,
            library_name="anonnet-studio",
            library_version=__version__,
        )
    except Exception as exc:  # huggingface_hub and httpx raise many types; classify them
        raise _classified(exc, source, filename) from exc
    etag = (metadata.etag or "").strip('"').lower()
    return HubFileInfo(
        url=metadata.location or url,
        commit=metadata.commit_hash,
        size=metadata.size,
        sha256=etag if _SHA256.match(etag) else None,
        git_sha1=etag if _GIT_SHA1.match(etag) else None,
    )


def check_commit(info: HubFileInfo, source: HubSource, filename: str) -> None:
    """A pinned revision must resolve to itself: anything else is not the pinned file."""
    if source.unpinned or info.commit is None or info.commit == source.revision:
        return
    raise PermanentDownloadError(
        f"The Hugging Face repository {source.repo} answered for revision {source.revision} "
        f"with commit {info.commit}, so '{filename}' there is not the pinned file."
    )


def describe(source: HubSource, filename: str | None = None) -> str:
    where = f"huggingface.co/{source.repo}@{source.revision}"
    return f"{where}/{filename}" if filename else where


def _classified(exc: Exception, source: HubSource, filename: str) -> ModelUnavailableError:
    from huggingface_hub.errors import HfHubHTTPError, OfflineModeIsEnabled

    what = (
        f"'{filename}' in the Hugging Face repository {source.repo} at revision {source.revision}"
    )
    if isinstance(exc, OfflineModeIsEnabled):
        return PermanentDownloadError(
            f"Could not look up {what}: huggingface_hub is in offline mode (HF_HUB_OFFLINE)."
        )
    if isinstance(exc, HfHubHTTPError) and exc.response is not None:
        status = exc.response.status_code
        if status in _PERMANENT_STATUSES:
            return PermanentDownloadError(
                f"Could not download {what}: the Hub answered HTTP {status} ({_first_line(exc)}).",
                hint="Check the repository name and revision (and a token, for gated ones).",
            )
        return http_status_error(describe(source, filename), status, _first_line(exc))
    return TransientDownloadError(
        f"Could not reach the Hugging Face Hub for {what}: {_first_line(exc)}",
        hint="Check the connection and run the download again; it resumes where it stopped.",
    )


def _first_line(exc: BaseException) -> str:
    """The first line of the error, plus that of its cause (hub errors wrap the HTTP one)."""
    text = (str(exc).strip() or type(exc).__name__).splitlines()[0]
    cause = exc.__cause__ or exc.__context__
    if cause is not None and str(cause).strip():
        text += f" (cause: {str(cause).strip().splitlines()[0]})"
    return text

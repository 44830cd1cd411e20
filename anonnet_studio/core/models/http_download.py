"""Resumable plain-HTTP(S) download of one file into a `.part` file.

Uses the standard library only (`urllib`), so it adds no dependency. The `.part` file is the
resume point: a later call asks the server for the remaining bytes with an HTTP Range
header. Deciding whether the finished `.part` is correct (size, sha256) and moving it into
place is the caller's job, and so is retrying: every failure is raised as either
`TransientDownloadError` (worth retrying: timeouts, dropped connections, 5xx, 429) or
`PermanentDownloadError` (this source will not serve the file: 404, 403, ...).
"""

from __future__ import annotations

import http.client
import os
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path

from anonnet_studio import __version__
from anonnet_studio.core.errors import ModelError, ModelUnavailableError
from anonnet_studio.core.progress import CancelToken, check_cancel

DOWNLOAD_CHUNK_BYTES = 256 * 1024
USER_AGENT = f"anonnet-studio/{__version__}"
_RESUME_HINT = "Check the connection and run the download again; it resumes where it stopped."
# HTTP statuses that mean "try again later" rather than "this source has no such file".
RETRYABLE_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})


class TransientDownloadError(ModelUnavailableError):
    """A failure that may go away on its own (network, timeout, overload): retry later."""


class PermanentDownloadError(ModelUnavailableError):
    """This source cannot serve the file (missing, forbidden): try another source."""


def http_status_error(url: str, status: int, reason: str) -> ModelUnavailableError:
    """The error for an HTTP error status, classified as transient or permanent."""
    message = f"Downloading {url} failed: the server answered HTTP {status} {reason}."
    if status in RETRYABLE_STATUSES or status >= 500:
        return TransientDownloadError(message, hint=_RESUME_HINT)
    return PermanentDownloadError(message)


def fetch_to_part(
    url: str,
    part: Path,
    *,
    expected_size: int | None,
    timeout_s: float,
    on_bytes: Callable[[int], None],
    cancel: CancelToken | None = None,
) -> None:
    """Append the rest of `url` to `part` (starting it when absent).

    `on_bytes(delta)` reports bytes written; a negative delta means the server ignored the
    resume request and the `.part` was restarted from zero. Raises `ModelUnavailableError`
    for network/HTTP failures (the `.part` is kept for the next attempt) and
    `OperationCancelled` between chunks.
    """
    check_cancel(cancel)
    offset = part.stat().st_size if part.exists() else 0
    if expected_size is not None and offset >= expected_size:
        # Complete (or too long): nothing to fetch; the caller's verification decides.
        return
    headers = {"User-Agent": USER_AGENT, "Accept-Encoding": "identity"}
    if offset:
        headers["Range"] = f"bytes={offset}-"
    request = urllib.request.Request(url, headers=headers)
    try:
        response = urllib.request.urlopen(request, timeout=timeout_s)
    except urllib.error.HTTPError as exc:
        exc.close()
        if exc.code == 416 and offset:
            # The server has no bytes past our .part: it is complete or longer than the file.
            return
        raise http_status_error(url, exc.code, str(exc.reason)) from exc
    except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
        reason = getattr(exc, "reason", None) or exc
        raise TransientDownloadError(
            f"Could not reach {urllib.parse.urlsplit(url).netloc} to download {url}: {reason}.",
            hint=_RESUME_HINT,
        ) from exc
    with response:
        mode = _write_mode(response, url, part, offset, on_bytes)
        _stream_body(response, part, mode, url, on_bytes, cancel)


def _write_mode(
    response: http.client.HTTPResponse,
    url: str,
    part: Path,
    offset: int,
    on_bytes: Callable[[int], None],
) -> str:
    if offset and response.status == 206:
        content_range = response.headers.get("Content-Range", "")
        if not content_range.startswith(f"bytes {offset}-"):
            # Appending these bytes would corrupt the prefix: drop it, the retry restarts.
            part.unlink(missing_ok=True)
            on_bytes(-offset)
            raise TransientDownloadError(
                f"Downloading {url} failed: asked to resume at byte {offset}, "
                f"the server sent {content_range or 'no range'}; starting that file over.",
                hint=_RESUME_HINT,
            )
        return "ab"
    if response.status == 200:
        if offset:
            on_bytes(-offset)  # the server ignored Range: start over
        return "wb"
    raise http_status_error(url, response.status, response.reason)


def _stream_body(
    response: http.client.HTTPResponse,
    part: Path,
    mode: str,
    url: str,
    on_bytes: Callable[[int], None],
    cancel: CancelToken | None,
) -> None:
    part.parent.mkdir(parents=True, exist_ok=True)
    announced = _content_length(response)
    received = 0
    with part.open(mode) as out:
        try:
            while True:
                check_cancel(cancel)
                try:
                    chunk = response.read(DOWNLOAD_CHUNK_BYTES)
                except (OSError, http.client.HTTPException) as exc:
                    raise TransientDownloadError(
                        f"The connection dropped while downloading {url}: {exc}.",
                        hint=_RESUME_HINT,
                    ) from exc
                if not chunk:
                    break
                try:
                    out.write(chunk)
                except OSError as exc:
                    raise ModelError(
                        f"Cannot write the download to {part}: {exc.strerror}.",
                        hint="Free some disk space or choose another models folder.",
                    ) from exc
                received += len(chunk)
                on_bytes(len(chunk))
        finally:
            # Whatever happened, what is on disk must be a clean prefix to resume from.
            out.flush()
            os.fsync(out.fileno())
    if announced is not None and received < announced:
        # http.client reports a connection closed early as a normal end of body.
        raise TransientDownloadError(
            f"The connection dropped while downloading {url} after {received} of "
            f"{announced} bytes.",
            hint=_RESUME_HINT,
        )


def _content_length(response: http.client.HTTPResponse) -> int | None:
    value = response.headers.get("Content-Length")
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def probe_url_size(url: str, *, timeout_s: float) -> int | None:
    """The size a server announces for `url` (HEAD request), or None when it does not say."""
    request = urllib.request.Request(
        url, method="HEAD", headers={"User-Agent": USER_AGENT, "Accept-Encoding": "identity"}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            return _content_length(response)
    except urllib.error.HTTPError as exc:
        exc.close()
        raise http_status_error(url, exc.code, str(exc.reason)) from exc
    except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
        raise TransientDownloadError(f"Could not reach {url}: {exc}.") from exc

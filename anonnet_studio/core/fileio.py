"""Atomic file writes: temp file in the destination folder, fsync, rename.

Every file the tool writes (videos, reports, projects, summaries) is first written under a
temp name of one recognisable form in the destination folder,

    .anonnet-<pid>-<8 hex>-<start of the final name>.partial

and renamed onto its final name only when it is complete, so the final name never holds a
half-written file. The writing process holds an exclusive `flock` on the temp file for as
long as it exists. A temp file left by a killed process (SIGKILL, power loss) is therefore
provably stale when its process is gone and nobody holds its lock; `sweep_stale_temp_files`
deletes exactly those, and every new temp file sweeps its folder first, so leftovers vanish
on the next run without ever touching a concurrent run's file.

`OutputTransaction` stages several outputs and renames them together at the end (or
deletes them all), so a run that fails half-way leaves none of its outputs.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path
from types import TracebackType

from anonnet_studio.core.errors import OutputError

TEMP_PREFIX = ".anonnet-"
TEMP_SUFFIX = ".partial"
# Most file systems limit one name to 255 bytes; the temp name must fit even when the
# final name uses all of them, so only a short, recognisable start of it is kept.
MAX_NAME_BYTES = 255
_NAME_HINT_BYTES = 64
_TEMP_NAME = re.compile(
    rf"^{re.escape(TEMP_PREFIX)}(?P<pid>\d+)-[0-9a-f]{{8}}-.*{re.escape(TEMP_SUFFIX)}$", re.DOTALL
)

try:  # POSIX
    import fcntl
except ImportError:  # Windows: an open file cannot be deleted, which protects it instead
    fcntl = None  # type: ignore[assignment]


def temp_name_for(final_name: str) -> str:
    """A fresh temp name for `final_name`, at most `MAX_NAME_BYTES` bytes long."""
    hint = _truncate_utf8(final_name, _NAME_HINT_BYTES)
    name = f"{TEMP_PREFIX}{os.getpid()}-{secrets.token_hex(4)}-{hint}{TEMP_SUFFIX}"
    assert len(os.fsencode(name)) <= MAX_NAME_BYTES
    return name


def is_temp_name(name: str) -> bool:
    return _TEMP_NAME.match(name) is not None


class TempFile:
    """A locked temp file in `folder`, to become `final_name` there by `commit()`.

    Created exclusively (never reusing a name), locked at once, removed by `discard()`.
    `fd` is open for writing; `path` may also be opened by name (e.g. by FFmpeg).
    """

    def __init__(self, folder: Path, final_name: str) -> None:
        self.folder = Path(folder) if str(folder) else Path(".")
        self.final_path = self.folder / final_name
        sweep_stale_temp_files(self.folder)
        self.path = self.folder / temp_name_for(final_name)
        try:
            self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o666)
        except OSError as exc:
            raise OutputError(
                f"Cannot write in {self.folder}: {exc.strerror or exc}.",
                hint="Choose a folder you can write to.",
            ) from exc
        if fcntl is not None:
            # Some network file systems have no flock; the live pid still protects the file.
            with contextlib.suppress(OSError):
                fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        self._done = False

    def write_all(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            view = view[os.write(self.fd, view) :]

    def commit(self, final_name: str | None = None) -> Path:
        """fsync the content, rename onto the final name (or `final_name`, in the same
        folder, when it is only known now), fsync the folder; returns the final path."""
        if self._done:
            raise RuntimeError(f"{self.path} was already committed or discarded")
        if final_name is not None:
            self.final_path = self.folder / final_name
        os.fsync(self.fd)
        # Closed first: Windows cannot rename a file that is open. Our live pid still
        # protects it from sweeps until the rename.
        self._close()
        os.replace(self.path, self.final_path)
        self._done = True
        fsync_dir(self.folder)
        return self.final_path

    def discard(self) -> None:
        """Remove the temp file (idempotent; never touches the final name)."""
        if self._done:
            return
        self._done = True
        with contextlib.suppress(OSError):
            self.path.unlink()
        self._close()

    @property
    def finished(self) -> bool:
        return self._done

    def _close(self) -> None:
        fd, self.fd = self.fd, -1
        if fd >= 0:
            with contextlib.suppress(OSError):
                os.close(fd)  # closing releases the lock

    def __enter__(self) -> TempFile:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *_: object) -> None:
        self.discard()


def sweep_stale_temp_files(folder: Path) -> list[Path]:
    """Delete the temp files in `folder` whose writer is provably gone; returns them.

    A file qualifies only if its name has our temp form, its process id is not ours and no
    longer alive, and nobody holds its lock. Anything else is left alone: a file that is
    not ours, or a concurrent run's, is never deleted. Errors are ignored (a leftover only
    wastes space).
    """
    removed: list[Path] = []
    try:
        names = os.listdir(folder)
    except OSError:
        return removed
    for name in names:
        match = _TEMP_NAME.match(name)
        if match is None:
            continue
        pid = int(match.group("pid"))
        if pid == os.getpid() or _process_alive(pid):
            continue
        path = Path(folder) / name
        if _remove_if_unlocked(path):
            removed.append(path)
    return removed


def atomic_write_bytes(
    path: Path, data: bytes, *, transaction: OutputTransaction | None = None
) -> None:
    """Write `data` to `path` atomically; with `transaction`, only stage it there."""
    path = Path(path)
    temp = TempFile(_existing_folder(path), path.name)
    try:
        temp.write_all(data)
        if transaction is not None:
            transaction.adopt(temp)
        else:
            temp.commit()
    except OSError as exc:
        temp.discard()
        raise OutputError(f"Cannot write {path}: {exc.strerror or exc}.") from exc
    except BaseException:
        temp.discard()
        raise


def atomic_write_text(
    path: Path, text: str, *, transaction: OutputTransaction | None = None
) -> None:
    atomic_write_bytes(path, text.encode("utf-8"), transaction=transaction)


class OutputTransaction:
    """Outputs of one run, written as temp files and renamed onto their names together.

    `commit()` renames every staged file in the order staged, then runs the callbacks
    given to `after_commit`; `discard()` (also on leaving a `with` block with an
    exception) deletes every staged file and runs `after_discard` callbacks. If a rename
    fails half-way, the files already renamed are removed again, so the run leaves either
    all of its outputs or none.
    """

    def __init__(self) -> None:
        self._staged: list[TempFile] = []
        self._on_commit: list[Callable[[], None]] = []
        self._on_discard: list[Callable[[], None]] = []
        self._finally: list[Callable[[], None]] = []
        self._closed = False

    def stage(self, path: Path) -> TempFile:
        """A new temp file that becomes `path` on commit."""
        path = Path(path)
        return self.adopt(TempFile(_existing_folder(path), path.name))

    def adopt(self, temp: TempFile) -> TempFile:
        if self._closed:
            temp.discard()
            raise RuntimeError("the output transaction is already closed")
        self._staged.append(temp)
        return temp

    def staged_path(self, final_path: Path) -> Path | None:
        """Where the content of `final_path` is until commit, if staged."""
        for temp in self._staged:
            if temp.final_path == Path(final_path):
                return temp.path
        return None

    def after_commit(self, callback: Callable[[], None]) -> None:
        self._on_commit.append(callback)

    def after_discard(self, callback: Callable[[], None]) -> None:
        self._on_discard.append(callback)

    def on_close(self, callback: Callable[[], None]) -> None:
        """Run after commit or discard, whichever happens (e.g. releasing a lock)."""
        self._finally.append(callback)

    def commit(self) -> list[Path]:
        if self._closed:
            raise RuntimeError("the output transaction is already closed")
        done: list[Path] = []
        try:
            for temp in self._staged:
                done.append(temp.commit())
        except BaseException as exc:
            for path in done:
                with contextlib.suppress(OSError):
                    path.unlink()
            self._staged = [t for t in self._staged if not t.finished]
            self.discard()
            if isinstance(exc, OSError):
                raise OutputError(
                    f"Could not finish writing the outputs: {exc.strerror or exc}; "
                    "none of them was kept."
                ) from exc
            raise
        self._closed = True
        try:
            _run_all(self._on_commit)
        finally:
            _run_all(self._finally)
        return done

    def discard(self) -> None:
        if self._closed:
            return
        self._closed = True
        for temp in self._staged:
            temp.discard()
        try:
            _run_all(self._on_discard)
        finally:
            _run_all(self._finally)

    def __enter__(self) -> OutputTransaction:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        # Leaving without commit (an error, a cancel, a signal) keeps nothing.
        self.discard()


@contextlib.contextmanager
def joined_or_own(transaction: OutputTransaction | None) -> Iterator[OutputTransaction]:
    """`transaction` itself (its owner commits it), or a new one that is committed when the
    block ends normally and discarded when it raises."""
    if transaction is not None:
        yield transaction
        return
    with OutputTransaction() as own:
        yield own
        own.commit()


def fsync_dir(folder: Path) -> None:
    """Makes a rename durable; not every platform lets a folder be opened."""
    if os.name != "posix":
        return
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


# --- internals -------------------------------------------------------------------------


def _existing_folder(path: Path) -> Path:
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise OutputError(f"The destination folder does not exist: {folder}")
    return folder


def _truncate_utf8(text: str, max_bytes: int) -> str:
    """The longest start of `text` that encodes to at most `max_bytes` (whole characters)."""
    kept, size = [], 0
    for char in text:
        size += len(os.fsencode(char))
        if size > max_bytes:
            break
        kept.append(char)
    return "".join(kept)


def _process_alive(pid: int) -> bool:
    if os.name != "posix":
        # os.kill(pid, 0) would terminate the process on Windows; rely on the file being
        # impossible to delete while its writer has it open.
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # EPERM: alive, owned by someone else
        return True
    return True


def _remove_if_unlocked(path: Path) -> bool:
    if fcntl is None:
        try:
            path.unlink()
        except OSError:
            return False
        return True
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        return False
    try:
        # Still the same file under that name (not replaced since we opened it)?
        if os.path.samestat(os.fstat(fd), os.lstat(path)):
            path.unlink()
            return True
        return False
    except OSError:
        return False
    finally:
        os.close(fd)


def _run_all(callbacks: list[Callable[[], None]]) -> None:
    errors: list[BaseException] = []
    for callback in callbacks:
        try:
            callback()
        except Exception as exc:  # run every cleanup even if one fails
            errors.append(exc)
    callbacks.clear()
    if errors:
        raise errors[0]

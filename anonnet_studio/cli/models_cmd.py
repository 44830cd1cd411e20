"""`anonnet-studio models list|download|verify`: see and fetch the models the tool uses."""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path
from typing import Any

from anonnet_studio.cli.progress_bar import TerminalProgress
from anonnet_studio.core.errors import AnonNetError, OperationCancelled
from anonnet_studio.core.models import FileStatus, ModelManager, ModelSpec, VerifyReport
from anonnet_studio.core.progress import Progress, ProgressCallback

_MB = 1_000_000  # decimal, to match the sizes printed beside the bar
_COLUMN_CAPS = {"LICENCE": 34, "PURPOSE": 60}


def register(subparsers: Any) -> None:
    """Add the `models` subcommand and its actions."""
    parser = subparsers.add_parser(
        "models",
        help="list, download and verify the models AnonNET Studio uses",
        description="List, download and verify models. Downloads go to the download cache "
        "($ANONNET_MODELS_CACHE); files you place in the models folder are used first.",
    )
    _add_common_options(parser, suppress=False)
    actions = parser.add_subparsers(dest="models_action", metavar="ACTION", required=True)

    list_parser = actions.add_parser("list", help="show every model, where it is found, its size")
    list_parser.add_argument("--paths", action="store_true", help="also print each model's folder")
    list_parser.set_defaults(handler=run_list)

    download_parser = actions.add_parser("download", help="download models (resumes partial ones)")
    download_parser.add_argument("names", nargs="*", metavar="NAME", help="models to download")
    download_parser.add_argument(
        "--all", action="store_true", help="download every downloadable model that is missing"
    )
    download_parser.set_defaults(handler=run_download)

    verify_parser = actions.add_parser("verify", help="check model files against their sha256")
    verify_parser.add_argument("names", nargs="*", metavar="NAME", help="models (default: all)")
    verify_parser.set_defaults(handler=run_verify)

    for action_parser in (list_parser, download_parser, verify_parser):
        _add_common_options(action_parser, suppress=True)


def _add_common_options(parser: argparse.ArgumentParser, *, suppress: bool) -> None:
    # Accepted before and after the action; SUPPRESS keeps the action-level copy from
    # overwriting a value given at the `models` level.
    parser.add_argument(
        "--models-dir",
        type=Path,
        default=argparse.SUPPRESS if suppress else None,
        help="folder with one sub-folder of files per model, searched first "
        "(default: $ANONNET_MODELS_DIR or the platform data folder)",
    )
    parser.add_argument(
        "--offline",
        action="store_true",
        default=argparse.SUPPRESS if suppress else False,
        help="never use the network (also $ANONNET_OFFLINE=1 or $HF_HUB_OFFLINE=1)",
    )


def _manager(args: argparse.Namespace) -> ModelManager:
    return ModelManager.from_environment(
        models_dir=args.models_dir, offline=True if args.offline else None
    )


def run_list(args: argparse.Namespace) -> int:
    """Print a table of every model: kind, status (and where found), size, licence, purpose."""
    manager = _manager(args)
    rows = []
    folders = []
    for spec in manager.specs():
        location = manager.locate(spec.name)
        status = f"available ({location.describe()})" if location else "missing"
        size = _on_disk_size(spec, location.folder) if location else spec.total_size
        rows.append([spec.name, spec.kind, status, _human_size(size), spec.licence, spec.purpose])
        folders.append(location.folder if location else None)
    header = ["NAME", "KIND", "STATUS", "SIZE", "LICENCE", "PURPOSE"]
    lines = _table(header, rows)
    print(lines[0])
    for line, folder in zip(lines[1:], folders, strict=True):
        print(line)
        if args.paths and folder is not None:
            print(f"    {folder}")
    if manager.offline:
        print("(offline mode: downloads are disabled)")
    return 0


def run_download(args: argparse.Namespace) -> int:
    """Download the named models (or all missing downloadable ones) with a progress bar."""
    manager = _manager(args)
    if args.all:
        names = [s.name for s in manager.specs() if s.kind == "downloaded"]
    else:
        names = list(dict.fromkeys(args.names))
    if not names:
        raise AnonNetError("Name at least one model to download, or pass --all.")
    for name in names:
        manager.spec(name)  # unknown names fail before anything is downloaded
    failures = 0
    for name in names:
        location = manager.locate(name)
        if location is not None:
            print(f"{name}: already available ({location.describe()}) in {location.folder}")
            continue
        try:
            with _progress_bar() as bar:
                folder = manager.download(name, on_progress=_in_megabytes(bar))
        except OperationCancelled:
            raise
        except KeyboardInterrupt:
            print(
                f"Interrupted; the partial download of {name} is kept and resumes next time.",
                file=sys.stderr,
            )
            return 130
        except AnonNetError as exc:
            failures += 1
            print(f"error: {exc.user_message()}", file=sys.stderr)
            continue
        print(f"{name}: downloaded to {folder}")
    return 2 if failures else 0


def run_verify(args: argparse.Namespace) -> int:
    """sha256-check models; exit 1 if any file mismatches or a named model is missing."""
    manager = _manager(args)
    names = list(dict.fromkeys(args.names)) or [s.name for s in manager.specs()]
    for name in names:
        manager.spec(name)
    failed = False
    for name in names:
        with _progress_bar() as bar:
            report = manager.verify(name, on_progress=_in_megabytes(bar))
        _print_report(report)
        if report.location is None:
            failed = failed or bool(args.names)
        elif not report.ok:
            failed = True
    return 1 if failed else 0


def _print_report(report: VerifyReport) -> None:
    if report.location is None:
        print(f"{report.name}: missing (not found in any models folder, package or cache)")
        return
    print(f"{report.name}: {report.location.describe()}, {report.location.folder}")
    width = max(len(check.status.value) for check in report.files)
    for check in report.files:
        line = f"  {check.status.value:<{width}}  {check.path}"
        if check.status is FileStatus.MISMATCH:
            line += f"\n      expected {check.expected}\n      actual   {check.actual}"
        if check.status in (FileStatus.TRUSTED, FileStatus.UNVERIFIED, FileStatus.MISMATCH):
            line += f"\n      {check.detail}"
        if check.status is FileStatus.UNVERIFIED:
            line += f"\n      sha256 {check.actual}"
        print(line)


def _progress_bar() -> TerminalProgress:
    # Only on a terminal: redirected output (logs, CI) should not fill with bar redraws.
    return TerminalProgress(enabled=sys.stderr is not None and sys.stderr.isatty())


def _in_megabytes(sink: ProgressCallback) -> ProgressCallback:
    """Byte progress shown as megabyte counts, so the terminal bar stays readable."""

    def forward(progress: Progress) -> None:
        total = None if progress.total is None else max(1, math.ceil(progress.total / _MB))
        done = progress.done // _MB
        if total is not None and progress.total is not None and progress.done >= progress.total:
            done = total  # a 100 KB model must still end at 100%
        amount = f"{_human_size(progress.done)} of {_human_size(progress.total)}"
        message = f"{amount} {progress.message}".strip()
        sink(Progress(progress.stage, done, total, message))

    return forward


def _on_disk_size(spec: ModelSpec, folder: Path) -> int:
    return sum((folder / f.path).stat().st_size for f in spec.files)


def _human_size(size: int | None) -> str:
    if size is None:
        return "?"
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{value:.1f} GB"


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    """Left-aligned columns; long licence/purpose cells are cut with an ellipsis."""
    cells = [header] + [
        [_clip(cell, _COLUMN_CAPS.get(name)) for name, cell in zip(header, row, strict=True)]
        for row in rows
    ]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    return [
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in cells
    ]


def _clip(text: str, limit: int | None) -> str:
    return text if limit is None or len(text) <= limit else text[: limit - 1] + "…"

"""`anonnet-studio models list|download|verify`: see and fetch the models the tool uses."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from anonnet_studio.cli.progress_bar import TerminalProgress
from anonnet_studio.core.errors import AnonNetError, OperationCancelled
from anonnet_studio.core.models import FileStatus, ModelManager, ModelSpec, VerifyReport
from anonnet_studio.core.models.download_plan import (
    DownloadPlan,
    SetProgress,
    check_free_space,
    format_bytes,
    plan_downloads,
    with_remote_sizes,
)
from anonnet_studio.core.models.licences import confirm_licences, licence_text

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

    download_parser = actions.add_parser(
        "download",
        help="download models (shows their licences first; resumes partial downloads)",
        description="Download models. Their licences are listed first and must be accepted: "
        "on a terminal you are asked, in scripts pass --accept-licences.",
    )
    download_parser.add_argument("names", nargs="*", metavar="NAME", help="models to download")
    download_parser.add_argument(
        "--all",
        action="store_true",
        help="download every downloadable model that is missing (except ones whose "
        "revision cannot be pinned; name those to get them)",
    )
    download_parser.add_argument(
        "--accept-licences",
        action="store_true",
        help="accept the licences of the models to download without being asked",
    )
    download_parser.set_defaults(handler=run_download)

    verify_parser = actions.add_parser("verify", help="check model files against their sha256")
    verify_parser.add_argument("names", nargs="*", metavar="NAME", help="models (default: all)")
    verify_parser.set_defaults(handler=run_verify)

    use_parser = actions.add_parser(
        "use",
        help="load one model from a folder you already have (checked against its sha256)",
        description="Load model NAME from FOLDER from now on (for example a copy made on "
        "another machine). The folder must directly hold the model's files; they are "
        "hashed now, and a folder whose files differ from the known sha256 is refused.",
    )
    use_parser.add_argument("name", metavar="NAME", help="the model (see `models list`)")
    use_parser.add_argument("folder", nargs="?", type=Path, metavar="FOLDER")
    use_parser.add_argument(
        "--forget", action="store_true", help="stop using the folder chosen for NAME"
    )
    use_parser.set_defaults(handler=run_use)

    for action_parser in (list_parser, download_parser, verify_parser, use_parser):
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
    """Print a table of every model: kind, status, size, hash, licence, purpose."""
    manager = _manager(args)
    rows = []
    folders = []
    unverifiable: list[str] = []
    for spec in manager.specs():
        location = manager.locate(spec.name)
        status = f"available ({location.describe()})" if location else "missing"
        size = _on_disk_size(spec, location.folder) if location else spec.total_size
        hashes, notes = _hash_state(manager, spec)
        unverifiable.extend(notes)
        rows.append([spec.name, spec.kind, status, format_bytes(size), hashes, spec.licence])
        rows[-1].append(spec.purpose)
        folders.append(location.folder if location else None)
    header = ["NAME", "KIND", "STATUS", "SIZE", "HASH", "LICENCE", "PURPOSE"]
    lines = _table(header, rows)
    print(lines[0])
    for line, folder in zip(lines[1:], folders, strict=True):
        print(line)
        if args.paths and folder is not None:
            print(f"    {folder}")
    if unverifiable:
        print("\nNo known sha256 (checked only against what the first download recorded):")
        for note in unverifiable:
            print(f"  {note}")
    if manager.offline:
        print("(offline mode: downloads are disabled)")
    return 0


def _hash_state(manager: ModelManager, spec: ModelSpec) -> tuple[str, list[str]]:
    """The HASH column for a model, and a note for each file with no known hash.

    pinned: every file has a published sha256 in the manifest; recorded: the others have
    the hash recorded on download (the Hub's, or the first download's); none (n files):
    n files were never downloaded by us and have no published hash to check them against.
    """
    unpublished = [f for f in spec.files if f.sha256 is None]
    unknown = [f for f in unpublished if manager.recorded_hash(spec.name, f.path) is None]
    notes = [
        f"{spec.name}/{f.path}: {f.no_public_hash.split('. ')[0].rstrip('.') or 'no public sha256'}"
        for f in unknown
    ]
    if spec.unpinned_reason:
        notes.append(f"{spec.name}: its revision is not pinned to a commit")
    if unknown:
        return f"none ({len(unknown)} file{'s' if len(unknown) > 1 else ''})", notes
    return ("recorded" if unpublished else "pinned"), notes


def run_download(args: argparse.Namespace) -> int:
    """Download the named models (or all missing downloadable ones), licences first."""
    manager = _manager(args)
    if args.all:
        names = [s.name for s in manager.specs() if s.kind == "downloaded"] + list(args.names)
    else:
        names = list(dict.fromkeys(args.names))
    if not names:
        raise AnonNetError("Name at least one model to download, or pass --all.")
    for name in names:
        manager.spec(name)  # unknown names fail before anything is downloaded
    plan = plan_downloads(manager, names, skip_unpinned=args.all and not args.names)
    for location in plan.available:
        print(f"{location.name}: already available ({location.describe()}) in {location.folder}")
    for name, reason in plan.unpinned:
        print(f"{name}: skipped by --all ({reason.split('. ')[0]}); name it to download it.")
    failures = 0
    for name in plan.not_downloadable:
        failures += _report(manager, name)
    if not plan.models:
        return 2 if failures else 0
    if manager.offline:
        # Refused without a connection; no licences to agree to for a download that won't run.
        return 2 if failures + sum(_report(manager, m.spec.name) for m in plan.models) else 0
    for line in licence_text(plan.licences(), format_bytes):
        print(line)
    confirm_licences(
        plan.licences(),
        accepted=args.accept_licences,
        ask=_ask_on_terminal() if sys.stdin is not None and sys.stdin.isatty() else None,
        how_to_accept="pass --accept-licences (or run it in a terminal to be asked).",
    )
    if plan.unknown_sizes:
        plan = with_remote_sizes(plan, manager)
    check_free_space(plan, manager.cache_dir)
    left = f"{format_bytes(plan.left)} to download" if plan.left is not None else "downloading"
    print(f"{len(plan.models)} model(s), {left} into {manager.cache_dir}")
    try:
        failures += _download_all(manager, plan)
    except KeyboardInterrupt:
        return 130  # _download_all said what was kept
    return 2 if failures else 0


def _download_all(manager: ModelManager, plan: DownloadPlan) -> int:
    """Download every model of the plan; returns how many failed."""
    failures = 0
    with _progress_bar() as bar:
        progress = SetProgress(plan, bar)
        for index, model in enumerate(plan.models):
            name = model.spec.name
            try:
                folder = manager.download(name, on_progress=progress.model(index))
            except OperationCancelled:
                raise
            except KeyboardInterrupt:
                bar.close()
                print(
                    f"Interrupted; the partial download of {name} is kept and resumes next time.",
                    file=sys.stderr,
                )
                raise
            except AnonNetError as exc:
                failures += 1
                bar.close()
                print(f"error: {exc.user_message()}", file=sys.stderr)
                continue
            progress.finished(index)
            bar.close()
            print(f"{name}: downloaded to {folder}")
    return failures


def _report(manager: ModelManager, name: str) -> int:
    """Print why `name` cannot be downloaded now (no network is opened); returns 1."""
    try:
        manager.download(name)
    except AnonNetError as exc:
        print(f"error: {exc.user_message()}", file=sys.stderr)
        return 1
    return 0


def _ask_on_terminal() -> Callable[[str], bool]:
    def ask(question: str) -> bool:
        try:
            answer = input(f"{question} [y/N] ")
        except EOFError:
            return False
        return answer.strip().lower() in {"y", "yes"}

    return ask


def run_verify(args: argparse.Namespace) -> int:
    """sha256-check models; exit 1 if any file mismatches or a named model is missing."""
    manager = _manager(args)
    names = list(dict.fromkeys(args.names)) or [s.name for s in manager.specs()]
    for name in names:
        manager.spec(name)
    failed = False
    for name in names:
        with _progress_bar() as bar:
            report = manager.verify(name, on_progress=bar)
        _print_report(report)
        if report.location is None:
            failed = failed or bool(args.names)
        elif not report.ok:
            failed = True
    return 1 if failed else 0


def run_use(args: argparse.Namespace) -> int:
    """Choose (or with --forget, drop) the folder one model loads from."""
    if args.forget == (args.folder is not None):
        raise AnonNetError(
            "Give either a FOLDER or --forget.",
            hint="For example: anonnet-studio models use sd15-inpainting ~/models/sd15",
        )
    manager = _manager(args)
    if args.forget:
        previous = manager.local_path(args.name)
        manager.use_folder(args.name, None)
        print(
            f"{args.name}: no longer loaded from {previous}"
            if previous
            else f"{args.name}: no folder was chosen for it"
        )
        return 0
    with _progress_bar() as bar:
        report = manager.use_folder(args.name, args.folder, on_progress=bar)
    assert report is not None
    _print_report(report)
    return 0


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
        if check.status in (
            FileStatus.TRUSTED,
            FileStatus.HUB,
            FileStatus.UNVERIFIED,
            FileStatus.MISMATCH,
        ):
            line += f"\n      {check.detail}"
        if check.status is FileStatus.UNVERIFIED:
            line += f"\n      sha256 {check.actual}"
        print(line)


def _progress_bar() -> TerminalProgress:
    # A bar on a terminal; redirected (logs, CI), a few plain lines per file.
    return TerminalProgress()


def _on_disk_size(spec: ModelSpec, folder: Path) -> int:
    return sum((folder / f.path).stat().st_size for f in spec.files)


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

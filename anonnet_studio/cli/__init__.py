"""`anonnet-studio` entry point: no arguments opens the editor, a video or project as the
only argument opens the editor on it, subcommands run headless."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from anonnet_studio import __version__
from anonnet_studio.cli.open_file import file_to_open
from anonnet_studio.cli.signals import TerminationRequested, sigterm_interrupts
from anonnet_studio.core.diagnostics import EX_SOFTWARE, record_crash
from anonnet_studio.core.errors import AnonNetError, OperationCancelled

# Each module exposes `register(subparsers)`; it adds one subcommand whose parser sets
# `handler=<function(args) -> int>`.
_SUBCOMMAND_MODULES = (
    "probe_cmd",
    "analyze_cmd",
    "anonymize_cmd",
    "models_cmd",
    "batch_cmd",
)


EXIT_CODES = """exit codes:
  0    success
  1    `models verify`: a model file is missing or changed
  2    bad usage or input: a damaged or unsupported file, an unsafe output, a missing model
  3    the audit report says FAIL (a face may be visible)
  70   internal error (a bug): one line names it and the log file holding the details
  130  interrupted (Ctrl+C); nothing was written (batch: the files it finished are kept)
  143  terminated (SIGTERM); nothing was written (batch: the files it finished are kept)"""


class _Parser(argparse.ArgumentParser):
    """Usage errors in one line (the full usage of a subcommand is a screen long)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="anonnet-studio",
        description="Anonymize people in video. Run without arguments, or with a video or "
        "a .anonproj project as the only argument, to open the editor.",
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    import importlib

    for name in _SUBCOMMAND_MODULES:
        try:
            module = importlib.import_module(f"anonnet_studio.cli.{name}")
        except ModuleNotFoundError as exc:  # a subcommand not built yet
            if exc.name != f"anonnet_studio.cli.{name}":
                raise
            continue
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    try:
        to_open = file_to_open(argv, _commands(parser))
    except AnonNetError as exc:
        print(f"error: {exc.one_line()}", file=sys.stderr)
        return 2
    if to_open is not None:
        return _open_editor(parser, to_open)
    args = parser.parse_args(argv)
    if args.command is None:
        return _open_editor(parser)
    try:
        with sigterm_interrupts():
            return int(args.handler(args) or 0)
    except OperationCancelled:
        print("Cancelled.", file=sys.stderr)
        return 130
    except TerminationRequested:
        print(_stopped("Terminated", args.command), file=sys.stderr)
        return 143
    except KeyboardInterrupt:
        print(_stopped("Interrupted", args.command), file=sys.stderr)
        return 130
    except AnonNetError as exc:
        print(f"error: {exc.one_line()}", file=sys.stderr)
        return 2
    except Exception as exc:  # a bug: one line here, the traceback in the crash log
        report = record_crash(exc, f"`{args.command}`")
        print(f"error: {report.one_line()}", file=sys.stderr)
        return EX_SOFTWARE


def _stopped(how: str, command: str) -> str:
    if command == "batch":  # each file is its own transaction: finished ones stay
        return f"{how}; the files finished so far are kept, and the same command does the rest."
    return f"{how}; nothing was written."


def _commands(parser: argparse.ArgumentParser) -> list[str]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return list(action.choices)
    return []


def _open_editor(parser: argparse.ArgumentParser, path: Path | None = None) -> int:
    try:
        from anonnet_studio.ui.app import run_editor
    except ModuleNotFoundError:
        parser.print_help()
        return 0
    return run_editor([] if path is None else [str(path)])

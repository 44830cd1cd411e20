"""`anonnet-studio` entry point: no arguments opens the editor, subcommands run headless."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import NoReturn

from anonnet_studio import __version__
from anonnet_studio.cli.signals import TerminationRequested, sigterm_interrupts
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


class _Parser(argparse.ArgumentParser):
    """Usage errors in one line (the full usage of a subcommand is a screen long)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="anonnet-studio",
        description="Anonymize people in video. Run without arguments to open the editor.",
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
    parser = build_parser()
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
        print("Terminated; nothing was written.", file=sys.stderr)
        return 143
    except KeyboardInterrupt:
        print("Interrupted; nothing was written.", file=sys.stderr)
        return 130
    except AnonNetError as exc:
        print(f"error: {exc.user_message()}", file=sys.stderr)
        return 2


def _open_editor(parser: argparse.ArgumentParser) -> int:
    try:
        from anonnet_studio.ui.app import run_editor
    except ModuleNotFoundError:
        parser.print_help()
        return 0
    return run_editor()

"""The `parley` command line: parse it, then hand `serve` and `exec [serve flags] -- CMD …` to `launch` (the
server stack, imported only then) and the admin subcommands (`parley reset`, `parley faults add`,
`parley wait`, `parley export`, …) to `commands`."""

from __future__ import annotations

import argparse
import gc
import sys
from collections.abc import Sequence

from parley import __version__
from parley.settings import add_arguments, option_names

EXEC_USAGE = "parley exec [serve flags] -- CMD [ARG ...]"
SERVING = ("serve", "exec")


EXEC_TEXT = "start Parley on a free port, run CMD with the SDK environment pointing at it, stop, exit with CMD's code"


def _parser(first: str) -> argparse.ArgumentParser:
    """The whole command line's parser; when it starts with serve or exec (`first`), with that subcommand
    alone: the other's ~90 options are not built and the admin subcommands' module is not imported on the
    server's start-up path. A subcommand's parsing, usage and errors are its own either way."""
    parser = argparse.ArgumentParser(prog="parley", description="Amazon Connect chat and participants, self-hosted.")
    parser.add_argument("--version", action="version", version=f"parley {__version__}")
    subcommands = parser.add_subparsers(dest="command")
    if first != "exec":
        serve = subcommands.add_parser("serve", help="run the server (the default)", description="Run the server.")
        add_arguments(serve)
        serve.set_defaults(parser=serve)
    if first != "serve":
        description = EXEC_TEXT[0].upper() + EXEC_TEXT[1:]
        run_command = subcommands.add_parser("exec", help=EXEC_TEXT, description=description, usage=EXEC_USAGE)
        add_arguments(run_command)
        run_command.set_defaults(parser=run_command)
    if first not in SERVING:
        from parley import commands

        commands.add_commands(subcommands)
    return parser


def _is_command(word: str) -> bool:
    """A subcommand or a top-level option; anything else (a serve flag) means `parley serve …`."""
    if word in (*SERVING, "-h", "--help", "--version"):
        return True
    if word.startswith("-"):
        return False
    from parley import commands

    return word in commands.COMMANDS


def _split_command(words: list[str]) -> tuple[list[str], list[str]]:
    """`exec FLAGS -- CMD …` -> (`exec FLAGS`, CMD …); no `--` or no CMD is a usage error."""
    if "--" not in words or words.index("--") == len(words) - 1:
        print(f"usage: {EXEC_USAGE}\nparley exec: error: give the command after --", file=sys.stderr)
        raise SystemExit(2)
    cut = words.index("--")
    return words[:cut], words[cut + 1 :]


def main(argv: Sequence[str] | None = None) -> int:
    words = list(sys.argv[1:] if argv is None else argv)
    if not words or not _is_command(words[0]):
        words.insert(0, "serve")  # `parley` alone serves
    command_line: list[str] = []
    if words[0] == "exec" and not {"-h", "--help"} & set(words[: words.index("--") if "--" in words else None]):
        words, command_line = _split_command(words)
    args, extra = _parser(words[0]).parse_known_args(words)
    if extra:  # the subcommand's own usage, not the top-level one
        args.parser.error(f"unrecognized arguments: {' '.join(extra)}")
    if args.command not in SERVING:
        from parley import commands

        return commands.run(args)
    options = set(option_names())
    flags = {name: value for name, value in vars(args).items() if name in options}
    # Start-up makes ~90,000 objects and frees almost none, so the cyclic GC's passes over them are wasted
    # (~20 % of start-up); launch.main turns it back on once the app is built (BENCHMARKS.md, "Startup").
    gc.disable()
    from parley import launch  # the server stack: not loaded for the admin subcommands

    return launch.main(flags, command_line if args.command == "exec" else None)

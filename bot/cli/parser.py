"""The command line's grammar: every subcommand with a one-line description, help for each
argument, its defaults and an example, and the exit codes they share.

Kept apart from the commands so that `--help` costs no engine import and the whole grammar
reads in one place."""

from __future__ import annotations

import argparse
import os
import sys
import textwrap
from importlib import metadata
from pathlib import Path

# Exit codes (the README's "Exit codes" and "Command line" sections list them). Each fault is
# one line on stderr and its own code, so a supervisor's log or a script says what to fix.
EXIT_OK = 0
EXIT_KNOWLEDGE = 1  # the FAQ has problems (the same lines as `validate`); a briefing not posted
EXIT_USAGE = 2  # a wrong argument, a file that cannot be read, a missing or malformed setting
EXIT_SETTINGS = 2
EXIT_STORAGE = 3  # the state cannot be opened: BOT_DATA_DIR or DATABASE_URL
EXIT_REFUSED = 4  # the Bot API answered no: a rejected token, a refused webhook
EXIT_UNREACHABLE = 5  # the Bot API could not be reached or did not answer in time
EXIT_INTERRUPTED = 130  # Ctrl-C (128 + SIGINT), as shells report it
EXIT_PIPE = 141  # the reader of our output went away (`| head`): 128 + SIGPIPE, silently

# bin/bot changes into the repository (for .env and data/) and says where the user was, and
# how they called it, in these two variables.
CALLER_CWD = "NKBOT_CWD"
CALLER_PROG = "NKBOT_PROG"

DESCRIPTION = (
    "A sourced FAQ bot on North Korea's human-rights record and the Trump–Kim summits: "
    "the Telegram bot, a console chat, and the tools to check, measure and export its FAQ."
)
EXIT_CODES = """\
exit codes:
  0    done
  1    the FAQ has problems (listed one a line, as file:line: message)
  2    a wrong argument, an unreadable file, a missing or malformed setting
  3    the bot's state cannot be opened (BOT_DATA_DIR, DATABASE_URL)
  4,5  Telegram refused the bot, or could not be reached (run, brief --post)
  130  interrupted (Ctrl-C)
  141  the output was closed early (for instance by `| head`)"""


def user_path(text: str) -> Path:
    """A path as the user typed it, relative to the folder they typed it in (bin/bot runs
    Python from the repository, so the current folder is not theirs)."""
    path = Path(text).expanduser()
    base = os.environ.get(CALLER_CWD)
    return path if path.is_absolute() or not base else Path(base) / path


def user_url(text: str) -> str:
    """A storage URL; a relative sqlite:/// path is the user's, like any other path."""
    if text.startswith("sqlite:///") and not text.startswith("sqlite:////"):
        return f"sqlite:///{user_path(text.removeprefix('sqlite:///'))}"
    return text


def program_name() -> str:
    """The program as it was invoked: bin/bot, nkbot, or python -m bot."""
    if os.environ.get(CALLER_PROG):
        return os.environ[CALLER_PROG]
    name = Path(sys.argv[0]).name if sys.argv and sys.argv[0] else ""
    return "python -m bot" if name in ("", "__main__.py", "-c") else name


def version() -> str:
    try:
        return metadata.version("nk-rights-bot")
    except metadata.PackageNotFoundError:  # running from a tree that was never installed
        return "unknown"


class _Formatter(argparse.RawDescriptionHelpFormatter):
    """Defaults after each help line that has one worth saying (not a flag's False);
    descriptions, examples and exit codes kept as written (they are wrapped beforehand)."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        help = action.help or ""
        if "%(default)" in help or "default:" in help or action.default in (None, False):
            return help
        if action.default is argparse.SUPPRESS or not action.option_strings and not action.nargs:
            return help
        if isinstance(action.default, Path):
            return f"{help} (default: {_shown(action.default)})"
        return f"{help} (default: %(default)s)"


def _shown(path: Path) -> str:
    """A path of the clone as help shows it: relative to the repository (the clone's own
    folder is long and would be broken mid-word), kept as is when outside it."""
    root = Path(__file__).resolve().parents[2]
    if not path.is_relative_to(root):
        return str(path)
    return f"{path.relative_to(root)}{'/' if path.is_dir() else ''}"


def _paragraphs(text: str) -> str:
    return "\n\n".join(textwrap.fill(p, 79) for p in text.split("\n\n") if p)


def _example(*lines: str) -> str:
    return "example:\n" + "\n".join(f"  %(prog)s {line}".rstrip() for line in lines)


def _common(parser: argparse.ArgumentParser, default_knowledge: Path) -> None:
    """--knowledge in either place: `bot --knowledge DIR ask …` and `bot ask … --knowledge
    DIR`. On a subcommand it defaults to SUPPRESS so it never overwrites the main one."""
    parser.add_argument(
        "--knowledge",
        type=user_path,
        metavar="DIR",
        default=argparse.SUPPRESS,
        help=f"the knowledge directory (default: {_shown(default_knowledge)})",
    )


def build_parser(prog: str | None = None) -> argparse.ArgumentParser:
    from bot.cli.evaluation import DEFAULT_SET
    from bot.engine.knowledge import DEFAULT_DIR

    prog = prog or program_name()
    parser = argparse.ArgumentParser(
        prog=prog,
        description=_paragraphs(DESCRIPTION),
        epilog=(
            f"examples:\n  {prog} run               # the bot (without a token: a chat)"
            f"\n  {prog} ask what is the kwanliso\n  {prog} validate\n"
            f"  {prog} help ask          # one command's options\n\n{EXIT_CODES}"
        ),
        formatter_class=_Formatter,
    )
    parser.add_argument(
        "--knowledge",
        type=user_path,
        metavar="DIR",
        default=DEFAULT_DIR,
        help="the knowledge directory",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def command(name: str, summary: str, details: str, example: str) -> argparse.ArgumentParser:
        p = sub.add_parser(
            name,
            help=summary,
            description=_paragraphs(f"{summary[0].upper()}{summary[1:]}.\n\n{details}"),
            epilog=f"{example}\n\n{EXIT_CODES}",
            formatter_class=_Formatter,
        )
        _common(p, DEFAULT_DIR)
        return p

    p = command(
        "chat",
        "a local console chat with the bot's engine and texts",
        "Type a question; /topics, /briefing [topic], /about and help work as in Telegram. "
        "Questions the FAQ missed are recorded in the bot's store (BOT_DATA_DIR or "
        "DATABASE_URL), so `report` and `suggest` show them.",
        _example("", "--no-record"),
    )
    p.add_argument(
        "--no-record", action="store_true", help="do not record the questions in the store"
    )
    p.set_defaults(func="chat")

    p = command(
        "run",
        "the Telegram bot (at a terminal without TELEGRAM_BOT_TOKEN, the console chat)",
        "Settings come from the environment or .env (see .env.example). Without "
        "TELEGRAM_BOT_TOKEN, --webhook, or stdin that is not a terminal (a platform, systemd), "
        "is a configuration error (exit 2).",
        _example("", "--webhook"),
    )
    p.add_argument("--webhook", action="store_true", help="serve a webhook instead of polling")
    p.add_argument(
        "--no-record", action="store_true", help="console chat only: do not record questions"
    )
    p.set_defaults(func="run")

    p = command(
        "ask",
        "answer one question, with its sources",
        "The words need no quotes. '-' reads one question a line from stdin and writes one "
        "JSON line each, in order.",
        _example(
            "what is the kwanliso", '--json "why can\'t sanctions be lifted?"', "--json - < q.txt"
        ),
    )
    p.add_argument("question", nargs="+", help="the question, or '-' for one a line from stdin")
    p.add_argument("--json", action="store_true", help="print one JSON object with the scores")
    p.set_defaults(func="ask")

    p = command(
        "validate",
        "check the knowledge base",
        "Prints a summary and exits 0, or lists every problem as file:line: message and "
        "exits 1. Root causes (a file that does not load) come first.",
        _example("", "mykb/"),
    )
    p.add_argument(
        "dir", nargs="?", type=user_path, help="the directory to check (default: --knowledge)"
    )
    p.set_defaults(func="validate")

    p = command(
        "export",
        "the whole FAQ as JSON or as a Markdown document",
        "--bot-username adds each entry's deep link (https://t.me/NAME?start=ENTRY) to the "
        "Markdown.",
        _example("--format markdown --bot-username nkrights_bot > faq.md"),
    )
    p.add_argument("--format", choices=("json", "markdown"), default="json", help="output format")
    p.add_argument(
        "--bot-username",
        metavar="NAME",
        help="the bot's @username (without @), to link each Markdown entry to it",
    )
    p.set_defaults(func="export")

    p = command(
        "eval",
        "score the matcher on a question set",
        "Wrong answers, right shown or one tap away, declined right and answered right, then"
        " per topic and style, then the misses. A set whose header says FROZEN shows its totals"
        " only.",
        _example("", "tests/eval/dev.yaml --quiet"),
    )
    p.add_argument(
        "file",
        nargs="?",
        type=user_path,
        default=DEFAULT_SET,
        help=f"the question set (YAML; default: {DEFAULT_SET.relative_to(DEFAULT_SET.parents[2])})",
    )
    p.add_argument(
        "--quiet", action="store_true", help="figures only, no misses (a FROZEN set: always)"
    )
    p.set_defaults(func="eval")

    data_dir = "read this SQLite folder instead of the bot's store (BOT_DATA_DIR / DATABASE_URL)"
    p = command(
        "report",
        "what users asked that the FAQ missed, disliked and never-matched entries",
        "Reads the bot's store; creates nothing.",
        _example("", "--format json --data-dir data/"),
    )
    p.add_argument(
        "--format", choices=("markdown", "json"), default="markdown", help="output format"
    )
    p.add_argument("--data-dir", type=user_path, metavar="DIR", help=data_dir)
    p.set_defaults(func="report")

    p = command(
        "suggest",
        "YAML phrasings to review, from frequent misses",
        "Prints snippets to paste into knowledge/faq/; writes nothing.",
        _example("", "--min-count 3"),
    )
    p.add_argument("--min-count", type=int, default=2, help="only misses asked this often")
    p.add_argument("--data-dir", type=user_path, metavar="DIR", help=data_dir)
    p.set_defaults(func="suggest")

    p = command(
        "brief",
        "print a briefing, or post it once to a chat",
        "The topic may be an id or a title, typos and all.",
        _example("--topic camps", "--topic warmbier --post @yourchannel"),
    )
    p.add_argument("--topic", help="a topic id or title (default: the first in rotation)")
    p.add_argument(
        "--post", metavar="CHAT_ID", help="post it via the Bot API: a chat id or @channel"
    )
    p.set_defaults(func="brief")

    p = command(
        "migrate-store",
        "copy the bot's state into another, empty store",
        "Stop the bot first. sqlite:///PATH takes a relative path, sqlite:////PATH an "
        "absolute one.",
        _example('--from sqlite:///data/bot.sqlite3 --to "$DATABASE_URL"'),
    )
    p.add_argument(
        "--from",
        dest="source",
        type=user_url,
        required=True,
        metavar="URL",
        help="sqlite:///PATH or postgresql://…",
    )
    p.add_argument(
        "--to",
        dest="target",
        type=user_url,
        required=True,
        metavar="URL",
        help="an empty store: $DATABASE_URL or sqlite:///PATH",
    )
    p.set_defaults(func="migrate_store")

    p = command(
        "bench",
        "print match-time, start-up and memory figures",
        "The real FAQ (x1) and synthetic ones N times larger, against a naive baseline, each "
        "in its own process. x1 and x10 take under a minute; x100 takes minutes and x1000 "
        "hours and gigabytes, so they run only when asked.",
        _example("", "--sizes 1,10,100"),
    )
    p.add_argument("--sizes", default="1,10", help="FAQ size multipliers, comma-separated")
    p.add_argument("--questions", type=int, default=200, help="questions timed per size")
    p.add_argument(
        "--worker", nargs=3, metavar=("ENGINE", "FACTOR", "LIMIT"), help=argparse.SUPPRESS
    )
    p.set_defaults(func="bench")

    p = command(
        "help",
        "show the help of the program or of one command",
        "",
        _example("", "ask"),
    )
    p.add_argument("topic", nargs="?", metavar="COMMAND", help="the command to explain")
    p.set_defaults(func="help")
    return parser

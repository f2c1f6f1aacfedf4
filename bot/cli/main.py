"""`python -m bot ...`: one entry point for maintainers, deployers and the tests.

The grammar and the exit codes live in bot.cli.parser; here each command does its work and
every fault a user can cause ends as one line on stderr and a documented code, never a
traceback."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from bot.cli.parser import (
    EXIT_INTERRUPTED,
    EXIT_KNOWLEDGE,
    EXIT_PIPE,
    EXIT_REFUSED,
    EXIT_SETTINGS,
    EXIT_STORAGE,
    EXIT_UNREACHABLE,
    EXIT_USAGE,
    build_parser,
)
from bot.engine import knowledge as kb

__all__ = [
    "EXIT_KNOWLEDGE",
    "EXIT_REFUSED",
    "EXIT_SETTINGS",
    "EXIT_STORAGE",
    "EXIT_UNREACHABLE",
    "main",
]


class Failure(Exception):
    """A fault the user can fix: printed as one line, the process exits with `code`."""

    def __init__(self, message: str, code: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.code = code


def _report_problems(exc: kb.KnowledgeError) -> None:
    for problem in exc.problems:
        print(problem, file=sys.stderr)
    print(f"{len(exc.problems)} problem(s); nothing was loaded.", file=sys.stderr)


def _load(directory: Path) -> kb.Knowledge:
    try:
        return kb.load(directory)
    except kb.KnowledgeError as exc:
        _report_problems(exc)
        raise Failure("", EXIT_KNOWLEDGE) from None


def _matcher(args: argparse.Namespace):
    from bot.engine.matcher import Matcher

    return Matcher(_load(args.knowledge))


def cmd_validate(args: argparse.Namespace) -> int:
    knowledge = _load(args.dir or args.knowledge)
    for review in knowledge.reviews:
        print(review, file=sys.stderr)
    print(knowledge.summary())
    print("OK" if not knowledge.reviews else f"OK, with {len(knowledge.reviews)} to review")
    return 0


def cmd_ask(args: argparse.Namespace) -> int:
    from bot.engine import render

    matcher = _matcher(args)
    if args.question == ["-"]:
        for line in sys.stdin:
            result = matcher.match(line.rstrip("\n"))
            print(json.dumps(render.result_dict(result, matcher.knowledge), ensure_ascii=False))
        return 0
    result = matcher.match(" ".join(args.question))
    if args.json:
        print(
            json.dumps(render.result_dict(result, matcher.knowledge), ensure_ascii=False, indent=2)
        )
    else:
        print(render.plain(result, matcher.knowledge))
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from bot.cli import export

    knowledge = _load(args.knowledge)
    username = (args.bot_username or "").removeprefix("@") or None
    if args.format == "json":
        print(export.as_json(knowledge))
    else:
        print(export.as_markdown(knowledge, bot_username=username), end="")
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    from bot.cli import evaluation

    try:
        cases = evaluation.load_cases(args.file)
    except OSError as exc:
        raise Failure(f"error: cannot read {args.file}: {exc.strerror or exc}") from None
    except evaluation.CasesError as exc:
        raise Failure(f"error: {args.file} is not a question set: {exc}") from None
    report = evaluation.evaluate(_matcher(args), cases)
    frozen = evaluation.is_frozen(args.file)  # its totals only: never its questions
    print(evaluation.format_report(report, misses=not args.quiet, details=not frozen))
    return 0


def cmd_chat(args: argparse.Namespace) -> int:
    from bot.cli.console import run_console
    from bot.engine.service import FaqService

    try:
        service = FaqService(args.knowledge)  # the FAQ first: a broken one creates no data/
    except kb.KnowledgeError as exc:
        _report_problems(exc)
        return EXIT_KNOWLEDGE
    if not args.no_record:
        service.store = _store(args, create=True)
    try:
        return run_console(service, service.store.description if service.store else None)
    finally:
        if service.store is not None:
            service.store.close()


def _settings():
    """The settings (Failure, exit 2, when one is malformed). From here on nothing this
    process prints can show the token, the webhook secret or a password."""
    from bot import logs
    from bot.settings import SettingsError, load_settings

    try:
        settings = load_settings()
    except SettingsError as exc:
        raise Failure(f"configuration error: {exc}", EXIT_SETTINGS) from None
    logs.protect(settings.secrets)
    return settings


def cmd_run(args: argparse.Namespace) -> int:
    from bot import logs

    settings = _settings()
    if settings.token is None:
        if args.webhook or not sys.stdin.isatty():
            # Under a platform or systemd, exit 0 would read as "done": the bot silently never
            # ran. The console is for a person at a terminal.
            raise Failure("configuration error: TELEGRAM_BOT_TOKEN is not set", EXIT_SETTINGS)
        print("TELEGRAM_BOT_TOKEN is not set: starting the local console chat.", file=sys.stderr)
        args.knowledge = settings.knowledge_dir
        return cmd_chat(args)
    webhook = args.webhook or bool(settings.webhook_url)
    if webhook and not (settings.webhook_url and settings.webhook_secret):
        raise Failure(
            "configuration error: webhook mode needs WEBHOOK_URL and WEBHOOK_SECRET", EXIT_SETTINGS
        )
    logs.setup(settings.log_level, settings.secrets)
    from bot.storage import StoreError
    from bot.telegram.app import StartFailed, run
    from bot.telegram.webhook import ListenFailed

    try:
        run(settings, webhook=webhook)
    except kb.KnowledgeError as exc:
        _report_problems(exc)
        return EXIT_KNOWLEDGE
    except StoreError as exc:
        raise Failure(f"storage error: {exc}", EXIT_STORAGE) from None
    except StartFailed as exc:
        raise Failure(
            f"telegram error: {exc}", EXIT_REFUSED if exc.reached else EXIT_UNREACHABLE
        ) from None
    except ListenFailed as exc:
        raise Failure(f"configuration error: {exc} (WEBHOOK_LISTEN, PORT)", EXIT_SETTINGS) from None
    return 0


def _sqlite_dir(args: argparse.Namespace) -> tuple[Path | None, str | None]:
    """Where the state lives: (a SQLite folder, None) or (None, a PostgreSQL URL)."""
    if getattr(args, "data_dir", None):
        return args.data_dir, None
    settings = _settings()
    return (None, settings.database) if settings.database else (settings.bot_data_dir, None)


def _store(args: argparse.Namespace, *, create: bool):
    """--data-dir's SQLite file, or the store the bot itself uses (DATABASE_URL, else
    BOT_DATA_DIR). Without `create`, a SQLite file that does not exist yet gives None: reading
    a report must not leave an empty data/ folder behind."""
    from bot.storage import SQLITE_FILE, StoreError, open_store

    folder, url = _sqlite_dir(args)
    if folder is not None:
        if folder.exists() and not folder.is_dir():
            raise Failure(f"storage error: {folder} is not a folder", EXIT_STORAGE)
        if not create and not (folder / SQLITE_FILE).is_file():
            return None
    try:
        return open_store(url, folder)
    except StoreError as exc:
        raise Failure(f"storage error: {exc}", EXIT_STORAGE) from None


def _nothing_recorded(args: argparse.Namespace) -> str:
    folder, _ = _sqlite_dir(args)
    return (
        f"No questions recorded yet: there is no {folder}/bot.sqlite3. The bot and the "
        "console chat create it when they record a question."
    )


def cmd_report(args: argparse.Namespace) -> int:
    from bot.engine import report

    matcher = _matcher(args)
    knowledge = matcher.knowledge
    store = _store(args, create=False)
    if store is None:
        print(_nothing_recorded(args), file=sys.stderr if args.format == "json" else sys.stdout)
        if args.format == "json":
            print(report.as_json(report.Report([], [], list(knowledge.entries))))
        return 0
    try:
        data = report.build(knowledge, store, matcher)
    finally:
        store.close()
    text = report.as_json(data) if args.format == "json" else report.as_markdown(data)
    print(text, end="" if text.endswith("\n") else "\n")
    return 0


def cmd_suggest(args: argparse.Namespace) -> int:
    from bot.engine import report

    matcher = _matcher(args)
    store = _store(args, create=False)
    if store is None:
        print(_nothing_recorded(args))
        return 0
    try:
        data = report.build(matcher.knowledge, store, matcher)
    finally:
        store.close()
    print(report.phrasing_snippets(matcher, data, args.min_count), end="")
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    from bot.cli import bench

    if args.worker:
        engine, factor, limit = args.worker
        print(json.dumps(bench.worker(engine, int(factor), int(limit))))
        return 0
    try:
        sizes = [int(f) for f in args.sizes.split(",")]
    except ValueError:
        raise Failure(
            f"error: --sizes: {args.sizes!r} is not a list of numbers like 1,10"
        ) from None
    if not sizes or min(sizes) < 1:
        raise Failure("error: --sizes: each size is a whole number of 1 or more")
    bench.main(sizes, args.questions)
    return 0


def cmd_brief(args: argparse.Namespace) -> int:
    """A briefing as a fresh chat would get it: printed, or posted once with --post."""
    from bot.engine import briefings

    knowledge = _load(args.knowledge)
    topic_id = None
    if args.topic:
        match = briefings.find_topic(knowledge, args.topic)
        if match.topic is None:
            choices = match.candidates or tuple(knowledge.topics.values())
            raise Failure(
                f"error: no single topic matches {args.topic!r}; "
                f"try one of: {', '.join(t.id for t in choices)}"
            )
        topic_id = match.topic.id
    briefing = briefings.pick(knowledge, briefings.Rotation(), topic_id).briefing
    if args.post is None:
        print(briefings.briefing_text(briefing))
        return 0
    return _post_briefing(args.post, briefing)


def _post_briefing(chat: str, briefing) -> int:
    import asyncio

    from bot.telegram.briefings import PostFailed, post_once

    if not (chat.startswith("@") or chat.lstrip("-").isdigit()):
        raise Failure(f"error: {chat!r} is not a chat id or @channelname")
    settings = _settings()
    if settings.token is None:
        raise Failure("configuration error: TELEGRAM_BOT_TOKEN is not set", EXIT_SETTINGS)
    target = chat if chat.startswith("@") else int(chat)
    try:
        message_id = asyncio.run(post_once(settings, target, briefing))
    except PostFailed as exc:
        raise Failure(f"error: could not post to {chat}: {exc}", 1) from None
    print(f"posted the briefing on {briefing.topic.id} to {chat} (message {message_id})")
    return 0


def cmd_migrate_store(args: argparse.Namespace) -> int:
    """For a deployer who started on SQLite and moves to PostgreSQL (or back): the bot must be
    stopped meanwhile; the target must be empty. Both stores are brought to this bot's schema."""
    from bot import logs
    from bot.storage import StoreError, open_store, pgurl

    for name, url in (("SOURCE", args.source), ("TARGET", args.target)):
        try:  # read as libpq reads it: the password is then known before anything is printed
            if url.startswith(pgurl.SCHEMES):
                pgurl.parse(url)
        except pgurl.BadDatabaseUrl as exc:
            raise Failure(f"configuration error: {name}: {exc}", EXIT_SETTINGS) from None
    logs.protect(pgurl.password(url) for url in (args.source, args.target))
    stores = []
    try:
        if args.source.startswith("sqlite:///"):
            path = Path(args.source.removeprefix("sqlite:///"))
            if not path.is_file():
                raise StoreError(f"there is no SQLite file at {path}")
        for url in (args.source, args.target):
            stores.append(open_store(url))
        source, target = stores
        copied = target.copy_from(source)
    except StoreError as exc:
        raise Failure(f"storage error: {exc}", EXIT_STORAGE) from None
    finally:
        for store in stores:
            store.close()
    counts = ", ".join(f"{n} {table}" for table, n in copied.items())
    print(f"copied {source.description} to {target.description}: {counts}")
    return 0


def cmd_help(args: argparse.Namespace) -> int:
    parser = build_parser()
    if args.topic is None:
        parser.print_help()
        return 0
    choices = parser._subparsers._group_actions[0].choices  # the one subparsers action
    if args.topic not in choices:
        raise Failure(f"error: no command {args.topic!r}; the commands: {', '.join(choices)}")
    choices[args.topic].print_help()
    return 0


COMMANDS = {
    "validate": cmd_validate,
    "ask": cmd_ask,
    "export": cmd_export,
    "eval": cmd_eval,
    "chat": cmd_chat,
    "run": cmd_run,
    "report": cmd_report,
    "suggest": cmd_suggest,
    "bench": cmd_bench,
    "brief": cmd_brief,
    "migrate_store": cmd_migrate_store,
    "help": cmd_help,
}


def _quiet_stdout() -> None:
    """After a broken pipe: point stdout at /dev/null so the interpreter's final flush does
    not complain about the reader that left (Python's documented remedy)."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


def _parse(argv: list[str] | None) -> argparse.Namespace:
    """argparse leaves a subcommand's unknown option to the top-level parser, which answers
    `ask --jsn` with the program's usage; the command's own usage says what `ask` takes."""
    parser = build_parser()
    args, unknown = parser.parse_known_args(argv)
    if unknown:
        commands = parser._subparsers._group_actions[0].choices  # the one subparsers action
        commands[args.command].error(f"unrecognized arguments: {' '.join(unknown)}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    try:
        code = COMMANDS[args.func](args)
        sys.stdout.flush()  # inside the try: `| head` may have left already
        return code
    except Failure as exc:
        if str(exc):
            print(exc, file=sys.stderr)
        return exc.code
    except BrokenPipeError:
        _quiet_stdout()
        return EXIT_PIPE
    except KeyboardInterrupt:
        print(file=sys.stderr)
        return EXIT_INTERRUPTED

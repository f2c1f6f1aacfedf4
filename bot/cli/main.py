"""`python -m bot ...`: one entry point for maintainers, deployers and the tests."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from bot.engine import knowledge as kb
from bot.engine import render
from bot.engine.matcher import Matcher

# Exit codes of `run` (the README's deploying section lists them): each fault one line on
# stderr and its own code, so a supervisor's log says what to fix without a traceback.
EXIT_KNOWLEDGE = 1  # the FAQ has problems (the same lines as `validate`)
EXIT_SETTINGS = 2  # a missing or malformed setting
EXIT_STORAGE = 3  # the state cannot be opened: BOT_DATA_DIR or DATABASE_URL
EXIT_REFUSED = 4  # the Bot API answered no: a rejected token, a refused webhook
EXIT_UNREACHABLE = 5  # the Bot API could not be reached or did not answer in time


def _report_problems(exc: kb.KnowledgeError) -> None:
    for problem in exc.problems:
        print(problem, file=sys.stderr)
    print(f"{len(exc.problems)} problem(s); nothing was loaded.", file=sys.stderr)


def _load_or_report(directory: Path) -> kb.Knowledge | None:
    try:
        return kb.load(directory)
    except kb.KnowledgeError as exc:
        _report_problems(exc)
        return None


def _matcher(args: argparse.Namespace) -> Matcher | None:
    knowledge = _load_or_report(args.knowledge)
    return Matcher(knowledge) if knowledge else None


def cmd_validate(args: argparse.Namespace) -> int:
    knowledge = _load_or_report(args.dir or args.knowledge)
    if knowledge is None:
        return 1
    for review in knowledge.reviews:
        print(review, file=sys.stderr)
    print(knowledge.summary())
    print("OK" if not knowledge.reviews else f"OK, with {len(knowledge.reviews)} to review")
    return 0


def cmd_ask(args: argparse.Namespace) -> int:
    matcher = _matcher(args)
    if matcher is None:
        return 1
    if args.question == "-":
        for line in sys.stdin:
            result = matcher.match(line.rstrip("\n"))
            print(json.dumps(render.result_dict(result, matcher.knowledge), ensure_ascii=False))
        return 0
    result = matcher.match(args.question)
    if args.json:
        print(
            json.dumps(render.result_dict(result, matcher.knowledge), ensure_ascii=False, indent=2)
        )
    else:
        print(render.plain(result, matcher.knowledge))
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from bot.cli import export

    knowledge = _load_or_report(args.knowledge)
    if knowledge is None:
        return 1
    print(export.as_json(knowledge) if args.format == "json" else export.as_markdown(knowledge))
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    from bot.cli import evaluation

    matcher = _matcher(args)
    if matcher is None:
        return 1
    report = evaluation.evaluate(matcher, evaluation.load_cases(args.file))
    print(evaluation.format_report(report, misses=not args.quiet))
    return 0


def cmd_chat(args: argparse.Namespace) -> int:
    from bot.cli.console import chat

    matcher = _matcher(args)
    if matcher is None:
        return 1
    try:
        chat(matcher, _stdin_lines(), print)
    except KeyboardInterrupt:
        print()
    return 0


def _settings():
    """The settings, or None after one clear line on stderr (callers exit 2). From here on
    nothing this process prints can show the token, the webhook secret or a password."""
    from bot import logs
    from bot.settings import SettingsError, load_settings

    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return None
    logs.protect(settings.secrets)
    return settings


def cmd_run(args: argparse.Namespace) -> int:
    from bot import logs

    settings = _settings()
    if settings is None:
        return EXIT_SETTINGS
    if settings.token is None:
        print("TELEGRAM_BOT_TOKEN is not set: starting the local console chat.", file=sys.stderr)
        args.knowledge = settings.knowledge_dir
        return cmd_chat(args)
    webhook = args.webhook or bool(settings.webhook_url)
    if webhook and not (settings.webhook_url and settings.webhook_secret):
        print(
            "configuration error: webhook mode needs WEBHOOK_URL and WEBHOOK_SECRET",
            file=sys.stderr,
        )
        return EXIT_SETTINGS
    logs.setup(settings.log_level, settings.secrets)
    from bot.storage import StoreError
    from bot.telegram.app import StartFailed, run

    try:
        run(settings, webhook=webhook)
    except kb.KnowledgeError as exc:
        _report_problems(exc)
        return EXIT_KNOWLEDGE
    except StoreError as exc:
        print(f"storage error: {exc}", file=sys.stderr)
        return EXIT_STORAGE
    except StartFailed as exc:
        print(f"telegram error: {exc}", file=sys.stderr)
        return EXIT_REFUSED if exc.reached else EXIT_UNREACHABLE
    return 0


def _store(args: argparse.Namespace):
    """--data-dir's SQLite file, or the store the bot itself uses (DATABASE_URL or
    BOT_DATA_DIR); None after one line on stderr."""
    from bot.storage import StoreError, open_store

    settings = None if args.data_dir else _settings()
    if settings is None and not args.data_dir:
        return None
    try:
        if args.data_dir:
            return open_store(data_dir=args.data_dir)
        return open_store(settings.database, settings.bot_data_dir)
    except StoreError as exc:
        print(f"storage error: {exc}", file=sys.stderr)
        return None


def cmd_report(args: argparse.Namespace) -> int:
    from bot.engine import report

    knowledge = _load_or_report(args.knowledge)
    store = _store(args)
    if knowledge is None or store is None:
        return 1 if knowledge is None else 2
    data = report.build(knowledge, store)
    print(report.as_json(data) if args.format == "json" else report.as_markdown(data), end="")
    return 0


def cmd_suggest(args: argparse.Namespace) -> int:
    from bot.engine import report

    knowledge = _load_or_report(args.knowledge)
    store = _store(args)
    if knowledge is None or store is None:
        return 1 if knowledge is None else 2
    print(
        report.phrasing_snippets(knowledge, report.build(knowledge, store), args.min_count), end=""
    )
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    from bot.cli import bench

    if args.worker:
        engine, factor, limit = args.worker
        print(json.dumps(bench.worker(engine, int(factor), int(limit))))
        return 0
    bench.main([int(f) for f in args.sizes.split(",")], args.questions)
    return 0


def cmd_brief(args: argparse.Namespace) -> int:
    """A briefing as a fresh chat would get it: printed, or posted once with --post."""
    from bot.engine import briefings

    knowledge = _load_or_report(args.knowledge)
    if knowledge is None:
        return 1
    topic_id = None
    if args.topic:
        match = briefings.find_topic(knowledge, args.topic)
        if match.topic is None:
            choices = match.candidates or tuple(knowledge.topics.values())
            print(
                f"error: no single topic matches {args.topic!r}; "
                f"try one of: {', '.join(t.id for t in choices)}",
                file=sys.stderr,
            )
            return 2
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
        print(f"error: {chat!r} is not a chat id or @channelname", file=sys.stderr)
        return 2
    settings = _settings()
    if settings is None:
        return 2
    if settings.token is None:
        print("configuration error: TELEGRAM_BOT_TOKEN is not set", file=sys.stderr)
        return 2
    target = chat if chat.startswith("@") else int(chat)
    try:
        message_id = asyncio.run(post_once(settings, target, briefing))
    except PostFailed as exc:
        print(f"error: could not post to {chat}: {exc}", file=sys.stderr)
        return 1
    print(f"posted the briefing on {briefing.topic.id} to {chat} (message {message_id})")
    return 0


def cmd_migrate_store(args: argparse.Namespace) -> int:
    """For a deployer who started on SQLite and moves to PostgreSQL (or back): the bot must be
    stopped meanwhile; the target must be empty. Both stores are brought to this bot's schema."""
    from urllib.parse import urlsplit

    from bot import logs
    from bot.storage import StoreError, open_store

    logs.protect(urlsplit(url).password for url in (args.source, args.target))
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
        print(f"storage error: {exc}", file=sys.stderr)
        return EXIT_STORAGE
    finally:
        for store in stores:
            store.close()
    counts = ", ".join(f"{n} {table}" for table, n in copied.items())
    print(f"copied {source.description} to {target.description}: {counts}")
    return 0


def _stdin_lines():
    while True:
        try:
            yield input("> " if sys.stdin.isatty() else "")
        except EOFError:
            return


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bot", description=__doc__)
    parser.add_argument(
        "--knowledge", type=Path, default=kb.DEFAULT_DIR, help="the knowledge directory"
    )
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("validate", help="check the knowledge base; exit 1 on any problem")
    p.add_argument("dir", nargs="?", type=Path)
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("ask", help="answer one question ('-' reads one a line from stdin, as JSON)")
    p.add_argument("question")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=cmd_ask)

    p = sub.add_parser("export", help="the whole FAQ as JSON or Markdown")
    p.add_argument("--format", choices=("json", "markdown"), default="json")
    p.set_defaults(func=cmd_export)

    from bot.cli.evaluation import DEFAULT_SET

    p = sub.add_parser("eval", help="score the matcher on a question set")
    p.add_argument("file", nargs="?", type=Path, default=DEFAULT_SET)
    p.add_argument("--quiet", action="store_true", help="figures only, no misses")
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser("chat", help="a local console chat with the same engine as the bot")
    p.set_defaults(func=cmd_chat)

    p = sub.add_parser("run", help="the Telegram bot (console chat when no token is set)")
    p.add_argument("--webhook", action="store_true", help="serve a webhook instead of polling")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("report", help="missed questions, disliked and never-matched entries")
    p.add_argument("--format", choices=("markdown", "json"), default="markdown")
    p.add_argument("--data-dir", type=Path, help="the bot's data directory (BOT_DATA_DIR)")
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("suggest", help="YAML phrasings to review, from frequent misses")
    p.add_argument("--min-count", type=int, default=2, help="only misses asked this often")
    p.add_argument("--data-dir", type=Path, help="the bot's data directory (BOT_DATA_DIR)")
    p.set_defaults(func=cmd_suggest)

    p = sub.add_parser("brief", help="print a briefing, or post it once to a chat (--post)")
    p.add_argument("--topic", help="a topic id or title (default: the first in rotation)")
    p.add_argument("--post", metavar="CHAT_ID", help="post it via the Bot API: an id or @channel")
    p.set_defaults(func=cmd_brief)

    p = sub.add_parser("migrate-store", help="copy the bot's state into another, empty store")
    p.add_argument("--from", dest="source", required=True, metavar="URL", help="sqlite:///PATH")
    p.add_argument("--to", dest="target", required=True, metavar="URL", help="$DATABASE_URL")
    p.set_defaults(func=cmd_migrate_store)

    p = sub.add_parser("bench", help="print match-time, start-up and memory figures")
    p.add_argument("--sizes", default="1,10,100,1000", help="FAQ size multipliers")
    p.add_argument("--questions", type=int, default=200, help="questions timed per size")
    p.add_argument(
        "--worker", nargs=3, metavar=("ENGINE", "FACTOR", "LIMIT"), help=argparse.SUPPRESS
    )
    p.set_defaults(func=cmd_bench)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)

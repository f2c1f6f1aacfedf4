"""Redaction holds however a secret reaches the output: split across writes, inside a log
record's arguments or its traceback, or as the private half of a token on its own."""

from __future__ import annotations

import io
import logging

from bot.logs import REDACTED, RedactingFormatter, RedactingStream, Redactor

TOKEN = "123456:AAE-private-half_of_the_token"


def redactor() -> Redactor:
    redact = Redactor()
    redact.add([TOKEN, "hook-secret", None, ""])
    return redact


def test_a_secret_split_across_writes_is_still_caught() -> None:
    out = io.StringIO()
    stream = RedactingStream(out, redactor())
    stream.write("GET /bot123456:AAE-private")
    stream.write("-half_of_the_token/getMe\nand hook-")
    assert "private" not in out.getvalue()  # only whole lines are written
    stream.write("secret")
    stream.flush()
    assert out.getvalue() == f"GET /bot{REDACTED}/getMe\nand {REDACTED}"


def test_the_private_half_alone_is_redacted_and_nothing_else_changes() -> None:
    redact = redactor()
    assert redact("token AAE-private-half_of_the_token") == f"token {REDACTED}"
    assert redact("bot id 123456 answered") == "bot id 123456 answered"


def test_a_log_record_with_the_token_in_args_and_traceback_is_formatted_whole() -> None:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(RedactingFormatter(redactor(), "%(levelname)s %(message)s"))
    logger = logging.getLogger("test_logs")
    logger.addHandler(handler)
    try:
        raise ValueError(f"The token `{TOKEN}` was rejected by the server.")
    except ValueError:
        logger.exception("calling %s failed", f"https://api.telegram.org/bot{TOKEN}/getMe")
    finally:
        logger.removeHandler(handler)
    text = out.getvalue()
    assert "private-half" not in text and "Traceback" in text
    assert f"bot{REDACTED}/getMe" in text and f"The token `{REDACTED}`" in text


def test_a_poll_the_bot_api_dropped_as_the_stop_began_is_one_info_line() -> None:
    """asyncio reports PTB's failed, cancelled polling task as an ERROR with a traceback (seen
    when the Bot API went away just as SIGTERM arrived); a stop is ordinary, so it is one line."""
    from telegram.error import NetworkError

    from bot.telegram.app import _QuietLostPoll

    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    log = logging.getLogger("asyncio")
    log.addHandler(handler)
    log.addFilter(quiet := _QuietLostPoll())
    try:
        error = NetworkError("httpx.RemoteProtocolError: Server disconnected")
        log.error(
            "Task exception was never retrieved\nfuture: <Task finished name='Task-136' "
            "coro=<Updater._start_polling.<locals>.polling_action_cb() done>>",
            exc_info=(NetworkError, error, None),
        )
        log.error("Task exception was never retrieved", exc_info=(ValueError, ValueError(), None))
    finally:
        log.removeFilter(quiet)
        log.removeHandler(handler)
    lines = out.getvalue().splitlines()
    assert lines[0] == (
        "INFO polling: the Bot API dropped the last poll (httpx.RemoteProtocolError: Server"
        " disconnected)"
    )
    assert lines[1] == "ERROR Task exception was never retrieved"  # a bug of ours still shows
    assert lines[2] == "ValueError"  # with its exception

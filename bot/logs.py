"""Output that never shows a secret: the bot token, the webhook secret, the database password.

Secrets reach text in many ways: httpx logs request URLs (which carry the token), python-
telegram-bot puts the token in InvalidToken's message, DEBUG logs the setWebhook parameters,
and an uncaught traceback is printed outside logging altogether. Rather than chase each one,
the process's stdout and stderr are wrapped so that whatever is written through them, by any
logger at any level or by plain print and traceback, is scrubbed on the way out; log records
are formatted first and scrubbed as a whole, so a record is never rewritten half-way."""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Iterable
from typing import TextIO

REDACTED = "[redacted]"


class Redactor:
    """Replaces every known secret, longest first, and the private half of a bot token on its
    own (the part after the colon is what makes it a credential)."""

    def __init__(self) -> None:
        self.secrets: list[str] = []

    def add(self, secrets: Iterable[str | None]) -> None:
        found = set(self.secrets)
        for secret in secrets:
            if not secret:
                continue
            found.add(secret)
            bot_id, colon, private = secret.partition(":")
            if colon and bot_id.isdigit() and private:
                found.add(private)
        self.secrets = sorted(found, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for secret in self.secrets:
            if secret in text:
                text = text.replace(secret, REDACTED)
        return text


class RedactingStream:
    """A text stream that writes whole lines, scrubbed, to the stream it wraps (a partial line
    waits for its newline or a flush, so a secret split across two writes is still caught)."""

    def __init__(self, stream: TextIO, redact: Redactor) -> None:
        self.wrapped = stream
        self.redact = redact
        self._pending = ""
        self._lock = threading.Lock()

    def write(self, text: str) -> int:
        with self._lock:
            self._pending += text
            head, newline, self._pending = self._pending.rpartition("\n")
            if newline:
                self.wrapped.write(self.redact(head + newline))
        return len(text)

    def flush(self) -> None:
        with self._lock:
            if self._pending:
                self.wrapped.write(self.redact(self._pending))
                self._pending = ""
            self.wrapped.flush()

    def writelines(self, lines: Iterable[str]) -> None:
        for line in lines:
            self.write(line)

    def __getattr__(self, name: str):  # encoding, isatty, fileno ... of the real stream
        return getattr(self.wrapped, name)


class RedactingFormatter(logging.Formatter):
    """The whole formatted record (message, arguments, traceback, stack) is scrubbed at once."""

    def __init__(self, redact: Redactor, fmt: str) -> None:
        super().__init__(fmt)
        self.redact = redact

    def format(self, record: logging.LogRecord) -> str:
        return self.redact(super().format(record))


_redactor = Redactor()


def protect(secrets: Iterable[str | None]) -> Redactor:
    """Scrub these secrets from everything this process writes to stdout and stderr from now on
    (calling it again adds secrets; the streams are wrapped once)."""
    _redactor.add(secrets)
    if not _redactor.secrets:  # nothing to hide: the console chat keeps the plain streams
        return _redactor
    if not isinstance(sys.stdout, RedactingStream):
        sys.stdout = RedactingStream(sys.stdout, _redactor)
    if not isinstance(sys.stderr, RedactingStream):
        sys.stderr = RedactingStream(sys.stderr, _redactor)
    return _redactor


def setup(level: str, secrets: Iterable[str | None]) -> None:
    """One handler on stderr, every line scrubbed; the chatty HTTP loggers turned down."""
    redact = protect(secrets)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        RedactingFormatter(redact, "%(asctime)s %(levelname)s %(name)s: %(message)s")
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("httpx", "httpcore", "apscheduler", "tornado.access"):
        logging.getLogger(noisy).setLevel(logging.WARNING)

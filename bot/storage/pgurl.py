"""DATABASE_URL read once, the way libpq reads it, so that what we redact and what we show is
what the driver will use.

libpq splits `user:password@host` at the FIRST `@` and ends the user part at the first `/`:
an unescaped `@` or `/` in a password therefore moves part of it into the host, the port or
the database name, where an error message would print it. Python's
urlsplit splits differently (last `@`, `#` as a fragment), so redacting by its idea of the
password missed exactly those parts. Here the URL is parsed by libpq itself
(PQconninfoParse, via psycopg) and refused, with a message that quotes none of it, when a
field holds what only a misplaced piece of a password would put there."""

from __future__ import annotations

import re
from dataclasses import dataclass

SCHEMES = ("postgres://", "postgresql://")
_HOST = re.compile(r"[A-Za-z0-9._\-:%\[\]]+")  # a name, an IPv4 or IPv6 address
ADVICE = "percent-encode @ / # : and spaces in the password (%40 %2F %23 %3A %20)"


class BadDatabaseUrl(ValueError):
    """DATABASE_URL cannot be used; the message shows no part of it past the scheme."""


@dataclass(frozen=True)
class PgUrl:
    """A parsed DATABASE_URL: `url` for the driver, the rest to show and to redact."""

    url: str
    user: str | None
    password: str | None
    host: str | None
    port: str | None
    dbname: str | None

    def where(self) -> str:
        """user@host:port/database, never the password (the start-up line, errors); a
        Unix socket's folder is shown as localhost."""
        user = f"{self.user}@" if self.user else ""
        port = f":{self.port}" if self.port else ""
        host = self.host if self.host and not self.host.startswith("/") else "localhost"
        return f"{user}{host}{port}/{self.dbname or ''}"


def parse(url: str) -> PgUrl:
    """BadDatabaseUrl unless libpq reads `url` as a plausible PostgreSQL URL."""
    from psycopg.conninfo import conninfo_to_dict  # psycopg loads only for PostgreSQL

    if not url.startswith(SCHEMES):
        raise BadDatabaseUrl("must be a postgres:// or postgresql:// URL")
    try:
        fields = {k: str(v) for k, v in conninfo_to_dict(url).items()}
    except Exception:  # noqa: BLE001 - libpq's own message quotes the URL
        raise BadDatabaseUrl(f"libpq cannot read it as a URL: {ADVICE}") from None
    for port in (fields.get("port") or "").split(","):
        if port and not (port.isdigit() and 1 <= int(port) <= 65535):
            raise BadDatabaseUrl(f"the port is not a number from 1 to 65535 ({ADVICE})")
    for host in (fields.get("host") or "").split(","):
        if host and not host.startswith("/") and not _HOST.fullmatch(host):
            raise BadDatabaseUrl(f"the host is not a host name or address ({ADVICE})")
    if any(c in (fields.get("dbname") or "") for c in "@/#"):
        raise BadDatabaseUrl(f"the database name holds @, / or # ({ADVICE})")
    return PgUrl(
        url,
        fields.get("user"),
        fields.get("password"),
        fields.get("host"),
        fields.get("port"),
        fields.get("dbname"),
    )


def password(url: str | None) -> str | None:
    """The password libpq would send, for redaction; None when there is none or `url` is not
    a PostgreSQL URL libpq reads (such a URL is refused before anything is printed)."""
    if not url or not url.startswith(SCHEMES):
        return None
    try:
        return parse(url).password
    except BadDatabaseUrl:
        return None

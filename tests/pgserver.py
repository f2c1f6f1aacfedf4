"""A throwaway PostgreSQL server for the tests: initdb into a temporary folder, listening only
on a Unix socket there, stopped and deleted at the end. Each test gets a fresh database.

Debian's `postgresql` package provides the binaries (found on PATH or under
/usr/lib/postgresql/*/bin). Where they are missing the PostgreSQL half of the tests is skipped
with a reason, except in CI (CI=true), where a missing server is a failure. TEST_DATABASE_URL
points the tests at an existing server instead (each test then creates its own database)."""

from __future__ import annotations

import glob
import itertools
import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path
from urllib.parse import quote

import psycopg


def binaries() -> Path | None:
    found = shutil.which("pg_ctl")
    if found and shutil.which("initdb"):
        return Path(found).resolve().parent
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), reverse=True)
    return Path(versions[0]).parent if versions else None


class PostgresServer:
    """Started once per test session; `fresh_url()` creates an empty database each call."""

    def __init__(self) -> None:
        self.root: Path | None = None
        self.admin_url = os.environ.get("TEST_DATABASE_URL", "")
        self._names = itertools.count(1)
        self._user: str | None = None

    def start(self) -> PostgresServer:
        if self.admin_url:
            return self
        bindir = binaries()
        if bindir is None:
            raise FileNotFoundError(
                "no PostgreSQL server binaries (initdb, pg_ctl): install Debian's postgresql "
                "package, or set TEST_DATABASE_URL"
            )
        self.root = Path(tempfile.mkdtemp(prefix="nkbot-pg-"))
        run_as = {}
        if os.geteuid() == 0:  # postgres refuses to run as root
            account = pwd.getpwnam("postgres" if _exists("postgres") else "nobody")
            os.chown(self.root, account.pw_uid, account.pw_gid)
            run_as = {"user": account.pw_uid, "group": account.pw_gid}
        data, sock = self.root / "data", self.root
        self._pg_ctl = [str(bindir / "pg_ctl"), "-D", str(data)]
        subprocess.run(
            [str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust",
             "--no-sync", "-E", "UTF8"],
            check=True, capture_output=True, **run_as,
        )
        options = f"-k {sock} -c listen_addresses='' -F -c max_connections=50"
        subprocess.run(
            [*self._pg_ctl, "-w", "-t", "60", "-l", str(self.root / "server.log"), "-o",
             options, "start"],
            check=True, capture_output=True, **run_as,
        )
        self._run_as = run_as
        self._options = options
        self.admin_url = f"postgresql://postgres@/postgres?host={quote(str(sock))}"
        return self

    def fresh_url(self) -> str:
        name = f"t{os.getpid()}_{next(self._names)}"
        with psycopg.connect(self.admin_url, autocommit=True) as db:
            db.execute(f'DROP DATABASE IF EXISTS "{name}"')
            db.execute(f'CREATE DATABASE "{name}" TEMPLATE template0')
        before, _, after = self.admin_url.partition("?")
        return f"{before.rsplit('/', 1)[0]}/{name}{'?' + after if after else ''}"

    def halt(self) -> None:
        """Stop the server as a crash would (its data kept): clients find nobody there."""
        subprocess.run([*self._pg_ctl, "-m", "immediate", "stop"], check=True,
                       capture_output=True, **self._run_as)

    def resume(self) -> None:
        """Start a halted server again, on the same socket and data."""
        subprocess.run(
            [*self._pg_ctl, "-w", "-t", "60", "-l", str(self.root / "server.log"), "-o",
             self._options, "start"],
            check=True, capture_output=True, **self._run_as,
        )

    def stop(self) -> None:
        if self.root is None:
            return
        subprocess.run([*self._pg_ctl, "-m", "immediate", "stop"], capture_output=True,
                       **self._run_as)
        shutil.rmtree(self.root, ignore_errors=True)
        self.root = None


def _exists(user: str) -> bool:
    try:
        pwd.getpwnam(user)
    except KeyError:
        return False
    return True

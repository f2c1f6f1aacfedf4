"""The start-up cache: what loading `knowledge/` works out (the validated FAQ, the checks'
reviews, every phrasing normalised), kept in one file per knowledge folder so that an unchanged
FAQ starts without parsing, validating and stemming it again.

A cache file is used only when its header names the same format, the same code (the modules
that decide what a load produces, and the versions of the libraries they lean on) and the same
content (every byte of every file under the folder), and its payload has the checksum the
header gives. Anything else (corrupt, truncated, from another FAQ or another version, not a
cache at all) is ignored and rebuilt over. The payload is JSON, never pickle: a file someone
else wrote can at worst be ignored, it cannot run code. Where it cannot be written (no home,
a read-only disk) the bot runs without it.

Where: $NKBOT_CACHE_DIR, else $XDG_CACHE_HOME/nk-rights-bot, else ~/.cache/nk-rights-bot;
NKBOT_CACHE_DIR=off turns it off."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sys
import tempfile
from functools import lru_cache
from pathlib import Path
from stat import S_ISREG
from typing import Any

FORMAT = "nk-rights-bot start-up cache 1"
ENV = "NKBOT_CACHE_DIR"
MAX_BYTES = 32 * 1024 * 1024  # today's is under 1 MB; a bigger file is not ours
MAX_CONTENT = 8 * 1024 * 1024  # knowledge/ is 0.4 MB; the loader refuses FAQ files over 1 MB
_ENGINE = Path(__file__).resolve().parent


def _code() -> list[Path]:
    """The code whose output is cached: all of the engine (a check added in a new module
    counts too) and bot/text.py. Any change to them is a new version."""
    return [*sorted(_ENGINE.rglob("*.py")), _ENGINE.parent / "text.py"]


def folder() -> Path | None:
    """Where cache files live, or None when the cache is turned off."""
    chosen = os.environ.get(ENV)
    if chosen == "off":
        return None
    if chosen:
        return Path(chosen)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "nk-rights-bot"


@lru_cache(maxsize=1)
def code_version() -> str:
    """The engine's bytes, Python's version and the libraries' versions, hashed."""
    import pydantic
    import rapidfuzz
    import snowballstemmer

    from bot.engine.normalize import word_list_version

    digest = hashlib.sha256(FORMAT.encode())
    for path in _code():
        name = path.relative_to(_ENGINE.parent).as_posix().encode()
        digest.update(b"%s:%d:" % (name, path.stat().st_size) + path.read_bytes())
    stemmer = Path(snowballstemmer.__file__).parent / "english_stemmer.py"
    stat = stemmer.stat()
    parts = [
        sys.version,
        pydantic.VERSION,
        rapidfuzz.__version__,
        f"{stat.st_size}:{stat.st_mtime_ns}",
        word_list_version(),
    ]
    digest.update("\n".join(parts).encode())
    return digest.hexdigest()


def content_version(root: Path) -> str | None:
    """Every regular file under `root`, by relative path and bytes, hashed; None (no cache)
    when they add up to more than any FAQ could, so that an oversize or hostile file is refused
    by the loader's size checks before anything reads it whole. A file that vanishes while
    listed (an editor's temporary file) is left out."""
    digest = hashlib.sha256()
    total = 0
    for path in sorted(root.rglob("*")):
        try:
            stat = path.stat()
            if not S_ISREG(stat.st_mode):  # folders; a FIFO or a device is never read
                continue
            total += stat.st_size
            if total > MAX_CONTENT:
                return None
            data = path.read_bytes()
        except FileNotFoundError:
            continue
        except OSError:  # unreadable: the loader says so, the cache keeps out of it
            return None
        name = path.relative_to(root).as_posix().encode()
        digest.update(b"%d:%s:%d:" % (len(name), name, len(data)))
        digest.update(data)
    return digest.hexdigest()


def _file(root: Path) -> Path | None:
    where = folder()
    if where is None:
        return None
    name = hashlib.sha256(str(root.resolve()).encode()).hexdigest()[:16]
    return where / f"knowledge-{name}.json"


def read(root: Path, content: str) -> dict[str, Any] | None:
    """The payload cached for this folder, content and code; None for anything else."""
    path = _file(root)
    if path is None:
        return None
    try:
        with open(path, "rb") as f:
            raw = f.read(MAX_BYTES + 1)
    except OSError:
        return None
    if len(raw) > MAX_BYTES:
        return None
    head, _, payload = raw.partition(b"\n")
    try:
        header = json.loads(head)
        if header != _header(content, payload):
            return None
        data = json.loads(payload)
    except ValueError:  # not JSON, not UTF-8
        return None
    return data if isinstance(data, dict) else None


def write(root: Path, content: str, data: dict[str, Any]) -> bool:
    """Keep `data` for this folder and content; False when it cannot be written. Written to a
    temporary file and renamed, so that a process starting meanwhile reads the old file or the
    new one, never half of one."""
    path = _file(root)
    if path is None:
        return False
    payload = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()
    body = json.dumps(_header(content, payload)).encode() + b"\n" + payload
    temporary = None
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(
            dir=path.parent, prefix=".tmp-", suffix=".json", delete=False
        ) as f:
            temporary = f.name
            f.write(body)
        os.replace(temporary, path)
        return True
    except OSError:
        if temporary:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
        return False


def _header(content: str, payload: bytes) -> dict[str, str]:
    return {
        "format": FORMAT,
        "code": code_version(),
        "content": content,
        "sha256": hashlib.sha256(payload).hexdigest(),
    }

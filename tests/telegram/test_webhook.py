"""The webhook server, end to end: real HTTP requests to the running bot's webhook port, and
updates pushed by the local Bot API server as Telegram pushes them.

A request is refused on its headers (no secret: 403; longer than an update can be: 413) before
its body is read; a body that is not an update is a 400 (Telegram does not retry a 4xx), never a
500; `application/json; charset=utf-8` is JSON."""

from __future__ import annotations

import json
import os
import socket
import time

import httpx
import pytest

from bot.telegram.webhook import HEADER_TIMEOUT

SECRET = "s3cret-token"


class Hook:
    def __init__(self, bot, url: str) -> None:
        self.bot = bot  # the bot process serving it, for its log
        self.url = url
        self.port = int(url.rsplit(":", 1)[1].split("/")[0])

    def post(self, body: bytes, *, secret: str | None = SECRET, **headers: str) -> int:
        headers.setdefault("Content-Type", "application/json")
        if secret is not None:
            headers["X-Telegram-Bot-Api-Secret-Token"] = secret
        return httpx.post(self.url, content=body, headers=headers, timeout=10).status_code

    def headers_only(self, length: int, *, secret: str | None = SECRET) -> int:
        """Send a request's headers announcing `length` bytes, and none of the body: the status
        the server answers before reading any of it (a server that reads first never answers)."""
        lines = [
            "POST /telegram HTTP/1.1",
            f"Host: 127.0.0.1:{self.port}",
            "Content-Type: application/json",
            f"Content-Length: {length}",
        ]
        if secret is not None:
            lines.append(f"X-Telegram-Bot-Api-Secret-Token: {secret}")
        with socket.create_connection(("127.0.0.1", self.port), timeout=3) as sock:
            sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
            try:
                status_line = sock.recv(1024).split(b"\r\n")[0]
            except TimeoutError:
                raise AssertionError("no answer before the body was sent") from None
        return int(status_line.split()[1])


def update(update_id: int, user: int, text: str) -> dict:
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": int(time.time()),
            "chat": {"id": user, "type": "private"},
            "from": {"id": user, "is_bot": False, "first_name": "A"},
            "text": text,
        },
    }


@pytest.fixture
def hook(api, webhook_bot) -> Hook:
    bot, url = webhook_bot(SECRET)
    assert api.calls("setWebhook")[0]["secret_token"] == SECRET
    return Hook(bot, url)


def test_a_body_that_is_not_an_update_is_a_400_and_the_bot_carries_on(api, hook) -> None:
    for body in (b"{not json", b"", b"\xff\xfe{}", b"[1, 2]", b'"text"', b'{"no": "update_id"}'):
        assert hook.post(body) == 400, body
    good = httpx.Request("POST", hook.url, json=update(5, 61, "who is olivia enos")).content
    assert hook.post(good) == 200
    assert "Heritage" in api.wait_for("sendMessage", lambda c: c["chat_id"] == 61)["text"]


def test_json_with_a_charset_is_accepted(api, hook) -> None:
    body = httpx.Request("POST", hook.url, json=update(6, 62, "who is olivia enos")).content
    assert hook.post(body, **{"Content-Type": "application/json; charset=utf-8"}) == 200
    assert "Heritage" in api.wait_for("sendMessage", lambda c: c["chat_id"] == 62)["text"]
    assert hook.post(body, **{"Content-Type": "text/plain"}) == 415


def test_the_secret_and_the_size_are_checked_before_the_body_is_read(hook) -> None:
    assert hook.headers_only(100_000_000, secret=None) == 403
    assert hook.headers_only(100_000_000, secret="wrong") == 403
    assert hook.headers_only(2_000_000) == 413
    assert hook.post(b"{" + b" " * 2_000_000 + b"}") == 413  # sent whole, still refused
    assert hook.post(b"{}", secret=None) == 403


def test_updates_telegram_pushes_are_answered_once(api, hook) -> None:
    for user in (63, 64, 65):
        api.message("how many people are in the camps", user_id=user)
    for user in (63, 64, 65):
        api.wait_for("sendMessage", lambda c, user=user: c["chat_id"] == user)
    time.sleep(1)
    assert [len(api.calls("sendMessage", chat_id=u)) for u in (63, 64, 65)] == [1, 1, 1]
    assert not api.pending_updates()


def test_an_update_posted_twice_is_answered_once(api, hook) -> None:
    body = httpx.Request("POST", hook.url, json=update(7, 66, "who is olivia enos")).content
    assert hook.post(body) == 200
    api.wait_for("sendMessage", lambda c: c["chat_id"] == 66)
    assert hook.post(body) == 200  # Telegram again: it never saw the first 200
    time.sleep(1.5)
    assert len(api.calls("sendMessage", chat_id=66)) == 1


def test_an_update_id_that_is_not_a_positive_64_bit_integer_is_a_400(api, hook) -> None:
    """Telegram's update ids are positive integers, and the store that keeps a redelivered
    update from being answered twice holds 64 bits: anything else is refused before a handler
    runs (it was answered, then broke the log line recording it, with a traceback)."""
    for n, update_id in enumerate(["13", 1.5, True, None, 0, -5, 2**63, 2**70]):
        body = update(1, 80 + n, "who is olivia enos") | {"update_id": update_id}
        assert hook.post(json.dumps(body).encode()) == 400, update_id
    largest = json.dumps(update(2**63 - 1, 90, "who is olivia enos")).encode()
    assert hook.post(largest) == 200
    api.wait_for("sendMessage", lambda c: c["chat_id"] == 90)
    time.sleep(1)
    assert not [c for c in api.calls("sendMessage") if 80 <= c["chat_id"] < 90]
    log = hook.bot.log()
    assert "Traceback" not in log and "Logging error" not in log


def test_a_message_without_a_chat_does_not_break_the_error_handler(api, hook) -> None:
    """Telegram never sends one, but whoever holds the secret can: the handlers fail on it,
    and the error handler, which must never raise, failed too on the missing chat."""
    body = update(8, 67, "who is olivia enos")
    del body["message"]["chat"]
    assert hook.post(json.dumps(body).encode()) == 200
    hook.bot.wait_log("error while handling an update")
    assert hook.post(json.dumps(update(9, 68, "who is olivia enos")).encode()) == 200
    api.wait_for("sendMessage", lambda c: c["chat_id"] == 68)
    assert "while handling the error" not in hook.bot.log()


# -- what a flood of connections or a kill can do ---------------------------------------------
def connect(port: int) -> socket.socket:
    return socket.create_connection(("127.0.0.1", port), timeout=10)


def closed_by_server(sock: socket.socket) -> bool:
    """True once the server has closed the connection (what is read is an end of file or a
    reset; a 408 or 400 status line first is fine)."""
    sock.settimeout(0.05)
    try:
        while data := sock.recv(4096):
            if not data.startswith(b"HTTP/"):
                return False
        return True
    except TimeoutError:
        return False
    except OSError:
        return True


def test_slow_and_idle_connections_are_closed_within_seconds(hook) -> None:
    idle = [connect(hook.port) for _ in range(100)]
    loris = [connect(hook.port) for _ in range(100)]
    bodies = [connect(hook.port) for _ in range(50)]
    for sock in loris:
        sock.sendall(b"POST /telegram HTTP/1.1\r\nHost: x\r\nX-Slow: ")
    for sock in bodies:
        sock.sendall(
            f"POST /telegram HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            f"X-Telegram-Bot-Api-Secret-Token: {SECRET}\r\nContent-Length: 1000\r\n\r\n{{".encode()
        )
    time.sleep(13)  # the header and body timeouts are 10 s
    for name, socks in (("idle", idle), ("slow headers", loris), ("slow body", bodies)):
        still_open = [s for s in socks if not closed_by_server(s)]
        assert not still_open, f"{len(still_open)} {name} connections still open"
        for sock in socks:
            sock.close()


def test_the_webhook_serves_telegram_while_2000_idle_connections_are_open(api, webhook_bot):
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard < 4096:
        pytest.skip(f"the hard limit on open files is {hard}: 2,000 connections need more")
    resource.setrlimit(resource.RLIMIT_NOFILE, (1024, hard))  # the bot starts with a common 1,024
    try:
        bot, url = webhook_bot(SECRET)
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, 4096), hard))
    port = int(url.rsplit(":", 1)[1].split("/")[0])
    flood = [connect(port) for _ in range(2000)]
    try:
        for user in (71, 72, 73):
            started = time.monotonic()
            api.message("who is olivia enos", user_id=user)
            api.wait_for("sendMessage", lambda c, u=user: c["chat_id"] == u, timeout=10)
            assert time.monotonic() - started < 3
    finally:
        for sock in flood:
            sock.close()
    log = bot.log()
    assert "Too many open files" not in log and "Traceback" not in log
    assert len(log.splitlines()) < 30


def test_a_wrong_secret_is_logged_once_a_minute(hook) -> None:
    for _ in range(20):
        assert hook.post(b"{}", secret="mistyped") == 403
    time.sleep(0.5)
    log = hook.bot.log()
    assert log.count("without the right secret") == 1, log
    assert "mistyped" not in log


def test_kill_9_during_a_burst_loses_at_most_32_acknowledged_updates(api, webhook_bot):
    """Telegram forgets an update once the webhook answers 200: the webhook acknowledges only
    what the bot will handle soon (503 past 32 unfinished, and Telegram sends it again)."""
    bot, _ = webhook_bot(SECRET)
    api.slow_down("sendMessage", 1.0)  # Telegram answers slower than updates arrive
    users = list(range(70_000, 70_300))
    for user in users:
        api.message("how many people are in the camps", user_id=user)
    time.sleep(6)
    bot.proc.kill()
    bot.proc.wait()
    pending = {u["message"]["chat"]["id"] for u in api.pending_updates()}
    acknowledged = set(users) - pending  # Telegram forgets these
    answered = {c["chat_id"] for c in api.calls("sendMessage") if c.ok}
    lost = acknowledged - answered
    assert len(lost) <= 32, f"{len(lost)} acknowledged updates lost on kill -9"
    assert pending, "the kill came after the burst"
    assert len(answered) >= 32, "the bot answered while acknowledging"


def test_running_out_of_descriptors_is_one_log_line_and_passes(api, webhook_bot):
    """Descriptors exhausted from outside the server's cap (here: its limit lowered under
    it): accept() fails; that is one line, not a traceback per attempt, and once descriptors
    are free again Telegram is served."""
    import resource

    bot, url = webhook_bot(SECRET)
    port = int(url.rsplit(":", 1)[1].split("/")[0])
    used = len(os.listdir(f"/proc/{bot.proc.pid}/fd"))
    resource.prlimit(bot.proc.pid, resource.RLIMIT_NOFILE, (used + 8, used + 8))
    flood = []
    for _ in range(200):
        sock = socket.socket()
        sock.setblocking(False)
        sock.connect_ex(("127.0.0.1", port))
        flood.append(sock)
    time.sleep(3)
    for sock in flood:
        sock.close()
    time.sleep(HEADER_TIMEOUT + 1)  # the connections it did accept time out
    api.message("who is olivia enos", user_id=74)
    api.wait_for("sendMessage", lambda c: c["chat_id"] == 74, timeout=15)
    log = bot.log()
    assert log.count("cannot accept connections") == 1, log
    assert "Traceback" not in log and len(log.splitlines()) < 30, log

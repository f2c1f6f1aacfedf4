"""A local, standard-library-only stand-in for the Telegram Bot API, for end-to-end tests.

The real bot (in-process or as a subprocess) is pointed at ``FakeBotAPI.url`` with
``Bot(token, base_url=f"{url}/bot")``.  Nothing in python-telegram-bot is mocked: PTB talks
HTTP to this server exactly as it would to api.telegram.org, so its encoding, error mapping
(BadRequest/Forbidden/RetryAfter/ChatMigrated/Conflict/NetworkError) and object parsing are
all exercised for real.  Validation mirrors Telegram's where bots commonly get it wrong
(HTML markup, text length, inline keyboards, inline results), because those bugs only surface
in production otherwise.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import itertools
import json
import re
import socket
import threading
import time
import urllib.request
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

from botapi.faults import Faults
from botapi.updates import UpdateBuilders
from botapi.validation import (
    DEFAULT_UPDATE_TYPES_EXCLUDED,
    NOT_MODIFIED,
    QUERY_INVALID,
    ApiError,
    Call,
    bad,
    check_inline_results,
    check_reply_markup,
    decode_params,
    render_text,
)


# --------------------------------------------------------------------------------- server
class _Handler(BaseHTTPRequestHandler):
    """Hands each request to FakeBotAPI; HTTP/1.1 so httpx can keep connections alive."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out separately: avoid 40 ms stalls

    def log_message(self, *args):  # quiet: tests read recorded calls, not stderr
        pass

    def do_GET(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        status, payload, ctype = self.server.fake._serve(
            self.path, self.headers.get("Content-Type"), body)
        try:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
        except OSError:  # client gave up (e.g. a cancelled long poll)
            self.close_connection = True

    do_POST = do_GET


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128  # bursts of concurrent connects must not be reset

    def handle_error(self, request, client_address):  # no tracebacks on dropped sockets
        pass

    def process_request(self, request, client_address):
        self.fake._sockets.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request):
        self.fake._sockets.discard(request)
        super().shutdown_request(request)


class FakeBotAPI(Faults, UpdateBuilders):
    """A Telegram Bot API server on 127.0.0.1 with update helpers, recording and faults."""

    def __init__(self, token="123456:TEST-token", bot_username="nkrights_bot", bot_id=None, *,
                 first_name="Test Bot", can_join_groups=True,
                 can_read_all_group_messages=False, strict_html=True):
        self.token, self.strict_html = token, strict_html
        head = token.split(":", 1)[0]
        self.bot_id = bot_id if bot_id is not None else int(head) if head.isdigit() else 123456
        self.bot_user = {"id": self.bot_id, "is_bot": True, "first_name": first_name,
                         "username": bot_username}
        self.bot_flags = {"can_join_groups": can_join_groups,
                          "can_read_all_group_messages": can_read_all_group_messages,
                          "supports_inline_queries": True}
        self._cond = threading.Condition(threading.RLock())
        self._server = self._thread = self._hook_thread = None
        self._sockets, self._stopping = set(), False
        self._calls, self._consumed, self._seq = [], set(), itertools.count(1)
        self._updates, self._update_ids, self._allowed = [], itertools.count(1), None
        self._poll_generation = 0
        self._chats, self._users, self._messages, self._next_mid = {}, {}, {}, {}
        self._members, self._open_queries, self._ids = {}, set(), itertools.count(1)
        self._commands, self._menu_buttons = {}, {}
        self.webhook = {"url": "", "secret_token": None, "last_error_message": None}
        self._faults, self._blocked, self._migrated, self._slow = [], {}, {}, []
        self._delays = {}
        self._limits, self._send_log = None, deque()
        self._methods = {name[3:].lower(): getattr(self, name)
                         for name in dir(self) if name.startswith("_m_")}

    # ---------------------------------------------------------------------- lifecycle
    @property
    def url(self):
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self):
        """Bind a free port and serve from daemon threads, so in-process and subprocess bots
        (and blocking ``wait_for`` calls in the test thread) all work."""
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.fake = self
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        self._hook_thread = threading.Thread(target=self._webhook_loop, daemon=True)
        self._hook_thread.start()
        return self

    def stop(self):
        """Release blocked long polls, stop serving and drop keep-alive connections."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if self._server:
            self._server.shutdown()
            for sock in list(self._sockets):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
            self._server.server_close()
            self._thread.join(5)
            self._hook_thread.join(5)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # ------------------------------------------------------------------- dispatching
    def _serve(self, path, content_type, body):
        """Route ``/bot<token>/<method>``; returns (status, payload bytes, content type)."""
        parts = urlsplit(path)
        route = re.fullmatch(r"/bot([^/]*)/([A-Za-z_]+)", parts.path)
        method = self._canon(route.group(2)) if route else parts.path
        try:
            params, error = decode_params(content_type, body, parts.query), None
        except ApiError as exc:
            params, error = {}, exc
        if not route:
            error = ApiError(404, "Not Found")
        elif route.group(1) != self.token:
            error = ApiError(401, "Unauthorized")
        self._delay(method)
        delay = 0
        with self._cond:
            try:
                if error:
                    raise error
                response = {"ok": True, "result": self._dispatch(method, params)}
                status, payload, ctype = 200, json.dumps(response).encode(), "application/json"
                delay = self._answer_delay(method, params)
            except ApiError as exc:
                status, (payload, ctype) = exc.status, exc.body()
                response = json.loads(payload) if ctype == "application/json" else payload
            self._calls.append(Call(method, params, time.time(), status, response,
                                    next(self._seq)))
            self._cond.notify_all()
        if delay:  # carried out and recorded; only the answer is late (outside the lock)
            time.sleep(delay)
        return status, payload, ctype

    def _dispatch(self, method, params):
        """Faults first (they model Telegram's front end), then the method handler."""
        self._apply_faults(method, params)
        handler = self._methods.get(method.lower())
        if handler is None:
            raise ApiError(404, "Not Found")
        try:
            return handler(params)
        except (TypeError, ValueError, KeyError, AttributeError) as exc:  # malformed params
            raise bad(f"invalid parameters for {method}: {exc!r}") from exc

    def _canon(self, name):
        """Telegram method names are case-insensitive; also accept PTB's snake_case."""
        key = name.replace("_", "").lower()
        for known in KNOWN_METHODS:
            if known.lower() == key:
                return known
        return name

    # ------------------------------------------------------------------ chats & users
    def _user(self, user_id, **fields):
        user = self._users.setdefault(user_id, {
            "id": user_id, "is_bot": False, "first_name": f"User{user_id}",
            "username": f"user{user_id}", "language_code": "en"})
        user.update({k: v for k, v in fields.items() if v is not None})
        return user

    def _chat(self, chat_id, chat_type=None, title=None):
        """Known chats keep their type/title; unknown ones default by the sign of the id."""
        if isinstance(chat_id, str):
            found = [c for c in self._chats.values() if f"@{c.get('username')}" == chat_id]
            if not found:
                raise bad("chat not found")
            return found[0]
        if chat_id is None:
            raise bad("chat_id is empty")
        chat = self._chats.get(chat_id)
        if chat is None or (chat_type and chat["type"] != chat_type):
            chat_type = chat_type or ("private" if chat_id > 0 else "supergroup")
            chat = {"id": chat_id, "type": chat_type}
            if chat_type == "private":
                user = self._user(chat_id)
                chat.update(first_name=user["first_name"], username=user["username"])
            else:
                chat["title"] = title or f"Test {chat_type} {chat_id}"
            self._chats[chat_id] = chat
        if title and chat["type"] != "private":
            chat["title"] = title
        return chat

    def _new_message(self, chat, sender, **fields):
        """Allocate the chat's next message_id, store the message and return it."""
        mid = self._next_mid.get(chat["id"], 0) + 1
        self._next_mid[chat["id"]] = mid
        msg = {"message_id": mid, "date": int(time.time()), "chat": dict(chat)}
        if sender is not None:
            msg["from"] = dict(sender)
        msg.update({k: v for k, v in fields.items() if v not in (None, [])})
        self._messages[(chat["id"], mid)] = msg
        return copy.deepcopy(msg)

    def _stored(self, chat_id, message_id, error):
        msg = self._messages.get((chat_id, message_id))
        if msg is None:
            raise bad(error)
        return msg

    # ---------------------------------------------------------------- method handlers
    def _m_getMe(self, p):
        return {**self.bot_user, **self.bot_flags}

    def _m_getUpdates(self, p):
        """Long poll: confirm < offset, then block up to ``timeout`` s for new updates."""
        if self.webhook["url"]:
            raise ApiError(409, "Conflict: can't use getUpdates method while webhook is "
                                "active; use deleteWebhook to delete the webhook first")
        if p.get("allowed_updates") is not None:
            self._allowed = set(p["allowed_updates"]) or None
        self._confirm(int(p.get("offset") or 0))
        limit, timeout = max(1, min(int(p.get("limit") or 100), 100)), float(p.get("timeout") or 0)
        self._poll_generation += 1
        self._cond.notify_all()  # wake wait_polling(): a poll is open now
        generation, deadline = self._poll_generation, time.monotonic() + timeout
        while True:
            if generation != self._poll_generation:
                raise ApiError(409, "Conflict: terminated by other getUpdates request; make "
                                    "sure that only one bot instance is running")
            ready = self._deliverable()
            remaining = deadline - time.monotonic()
            if ready or remaining <= 0 or self._stopping:
                return copy.deepcopy(ready[:limit])
            self._cond.wait(remaining)

    def _confirm(self, offset):
        if offset < 0:
            self._updates = self._updates[offset:]
        elif offset:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]

    def _deliverable(self):
        """Drop updates of types the bot did not subscribe to, as Telegram does."""
        def wanted(update):
            kind = next((k for k in update if k != "update_id"), None)
            if self._allowed:
                return kind is None or kind in self._allowed
            return kind not in DEFAULT_UPDATE_TYPES_EXCLUDED
        self._updates = [u for u in self._updates if wanted(u)]
        return self._updates

    def _m_setWebhook(self, p):
        if p.get("drop_pending_updates"):
            self._updates = []
        if p.get("allowed_updates") is not None:
            self._allowed = set(p["allowed_updates"]) or None
        self.webhook.update(url=p.get("url") or "", secret_token=p.get("secret_token"),
                            max_connections=p.get("max_connections", 40))
        self._cond.notify_all()
        return True

    def _m_deleteWebhook(self, p):
        if p.get("drop_pending_updates"):
            self._updates = []
        self.webhook.update(url="", secret_token=None)
        return True

    def _m_getWebhookInfo(self, p):
        info = {"url": self.webhook["url"], "has_custom_certificate": False,
                "pending_update_count": len(self._updates)}
        if self.webhook["url"]:
            info["max_connections"] = self.webhook.get("max_connections", 40)
            if self._allowed:
                info["allowed_updates"] = sorted(self._allowed)
            if self.webhook["last_error_message"]:
                info.update(last_error_date=int(time.time()),
                            last_error_message=self.webhook["last_error_message"])
        return info

    def _reply_target(self, chat, p):
        reply = p.get("reply_parameters") or {}
        mid = reply.get("message_id") or p.get("reply_to_message_id")
        if not mid:
            return None
        msg = self._messages.get((chat["id"], mid))
        if msg is None and not (reply.get("allow_sending_without_reply")
                                or p.get("allow_sending_without_reply")):
            raise bad("message to be replied not found")
        return copy.deepcopy(msg) if msg else None

    @staticmethod
    def _echo_markup(markup):
        """Telegram echoes only inline keyboards back in the returned Message."""
        return markup if markup and "inline_keyboard" in markup else None

    def _m_sendMessage(self, p):
        chat = self._chat(p.get("chat_id"))
        text, ents = render_text(p.get("text"), p.get("parse_mode"), p.get("entities"),
                                 self.strict_html)
        markup = check_reply_markup(p.get("reply_markup"))
        channel = chat["type"] == "channel"  # channel posts carry sender_chat, not from
        return self._new_message(chat, None if channel else self.bot_user,
                                 sender_chat=dict(chat) if channel else None, text=text,
                                 entities=ents,
                                 reply_to_message=self._reply_target(chat, p),
                                 reply_markup=self._echo_markup(markup))

    def _edit(self, p, **changes):
        """Shared edit logic: find the bot's message, refuse no-op edits, bump edit_date."""
        if p.get("inline_message_id"):
            return True
        chat = self._chat(p.get("chat_id"))
        msg = self._stored(chat["id"], p.get("message_id"), "message to edit not found")
        if msg.get("from", self.bot_user)["id"] != self.bot_id:  # channel posts have no from
            raise bad("message can't be edited")
        new = {**msg, **changes}
        new = {k: v for k, v in new.items() if v not in (None, [])}
        if all(new.get(k) == msg.get(k) for k in ("text", "entities", "reply_markup")):
            raise ApiError(400, NOT_MODIFIED)
        new["edit_date"] = int(time.time())
        self._messages[(chat["id"], msg["message_id"])] = new
        return copy.deepcopy(new)

    def _m_editMessageText(self, p):
        text, ents = render_text(p.get("text"), p.get("parse_mode"), p.get("entities"),
                                 self.strict_html)
        markup = self._echo_markup(check_reply_markup(p.get("reply_markup")))
        return self._edit(p, text=text, entities=ents, reply_markup=markup)

    def _m_editMessageReplyMarkup(self, p):
        markup = self._echo_markup(check_reply_markup(p.get("reply_markup")))
        return self._edit(p, reply_markup=markup)

    def _m_deleteMessage(self, p):
        chat = self._chat(p.get("chat_id"))
        self._stored(chat["id"], p.get("message_id"), "message to delete not found")
        del self._messages[(chat["id"], p["message_id"])]
        return True

    def _m_sendChatAction(self, p):
        self._chat(p.get("chat_id"))
        return True

    def _m_answerCallbackQuery(self, p):
        if len(p.get("text") or "") > 200:
            raise bad("MESSAGE_TOO_LONG")
        self._close_query(p.get("callback_query_id"))
        return True

    def _m_answerInlineQuery(self, p):
        check_inline_results(p.get("results"), self.strict_html)
        self._close_query(p.get("inline_query_id"))
        return True

    def _close_query(self, query_id):
        """Queries can be answered once, and only if this server issued them."""
        if query_id not in self._open_queries:
            raise bad(QUERY_INVALID.removeprefix("Bad Request: "))
        self._open_queries.discard(query_id)

    def _member(self, chat_id, user_id, status=None):
        """A ChatMember dict with every field PTB requires for its status."""
        default = "administrator" if user_id == self.bot_id else "member"
        status = status or self._members.get((chat_id, user_id), default)
        user = self.bot_user if user_id == self.bot_id else self._user(user_id)
        member = {"user": dict(user), "status": status}
        if status == "administrator":
            member.update(dict.fromkeys((
                "can_manage_chat", "can_delete_messages", "can_manage_video_chats",
                "can_restrict_members", "can_change_info", "can_invite_users",
                "can_post_stories", "can_edit_stories", "can_delete_stories",
                "can_pin_messages"), True), can_be_edited=False, is_anonymous=False,
                can_promote_members=False)
        elif status == "creator":
            member["is_anonymous"] = False
        elif status == "kicked":
            member["until_date"] = 0
        elif status == "restricted":
            member.update(dict.fromkeys((
                "is_member", "can_change_info", "can_invite_users", "can_pin_messages",
                "can_send_messages", "can_send_polls", "can_send_other_messages",
                "can_add_web_page_previews", "can_manage_topics", "can_send_audios",
                "can_send_documents", "can_send_photos", "can_send_videos",
                "can_send_video_notes", "can_send_voice_notes", "can_edit_tag",
                "can_react_to_messages"), False),
                until_date=0)
        return member

    def set_member_status(self, chat_id, user_id, status):
        """Configure what getChatMember answers for (chat_id, user_id)."""
        with self._cond:
            self._members[(chat_id, user_id)] = status

    def _m_getChatMember(self, p):
        chat = self._chat(p.get("chat_id"))
        return self._member(chat["id"], int(p.get("user_id") or 0))

    def _m_getChat(self, p):
        gifts = dict.fromkeys(("unlimited_gifts", "limited_gifts", "unique_gifts",
                               "premium_subscription", "gifts_from_channels"), True)
        return {**self._chat(p.get("chat_id")), "accent_color_id": 0,
                "max_reaction_count": 11, "accepted_gift_types": gifts}

    @staticmethod
    def _command_key(p):
        scope = p.get("scope") or {"type": "default"}
        if not isinstance(scope, dict) or scope.get("type") not in COMMAND_SCOPES:
            raise bad("can't parse BotCommandScope JSON object")
        if scope["type"].startswith("chat") and "chat_id" not in scope:
            raise bad("can't parse BotCommandScope JSON object: Field \"chat_id\" must be "
                      "present")
        return json.dumps(scope, sort_keys=True), p.get("language_code") or ""

    def commands(self, scope_type="default", language_code=""):
        """The command names the bot set for a scope without a chat ("all_group_chats" ...),
        as a user in that scope sees them in the menu."""
        with self._cond:
            key = json.dumps({"type": scope_type}, sort_keys=True), language_code
            return [c["command"] for c in self._commands.get(key, [])]

    def _m_setMyCommands(self, p):
        commands = p.get("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise bad("BOT_COMMANDS_TOO_MUCH" if isinstance(commands, list)
                      else "can't parse commands JSON object")
        for cmd in commands:
            if not re.fullmatch(r"[a-z0-9_]{1,32}", str(cmd.get("command", ""))):
                raise bad("BOT_COMMAND_INVALID")
            if not 1 <= len(str(cmd.get("description", "")).strip()) <= 256:
                raise bad("BOT_COMMAND_DESCRIPTION_INVALID")
        self._commands[self._command_key(p)] = commands
        return True

    def _m_getMyCommands(self, p):
        return self._commands.get(self._command_key(p), [])

    def _m_deleteMyCommands(self, p):
        self._commands.pop(self._command_key(p), None)
        return True

    def _m_setChatMenuButton(self, p):
        self._menu_buttons[p.get("chat_id")] = p.get("menu_button") or {"type": "default"}
        return True

    def _m_getChatMenuButton(self, p):
        return self._menu_buttons.get(p.get("chat_id"), {"type": "default"})

    def _m_close(self, p):
        return True

    def _m_logOut(self, p):
        return True

    # ------------------------------------------------------------------- webhook pushes
    def _webhook_loop(self):
        """While a loopback webhook is set, POST pending updates to it as Telegram would.

        Only 127.0.0.1/localhost/::1 URLs are delivered to: anything else could not be reached
        from a test run anyway, and trying would stall this thread on DNS.
        """
        while True:
            with self._cond:
                while not self._stopping and not (self._local_hook() and self._deliverable()):
                    self._cond.wait(0.5)
                if self._stopping:
                    return
                update, hook = self._updates[0], dict(self.webhook)
            error = self._post_update(hook, update)
            with self._cond:
                self.webhook["last_error_message"] = error
                if error is None and self._updates and self._updates[0] is update:
                    self._updates.pop(0)
                elif error is not None:
                    self._cond.wait(0.5)

    def _local_hook(self):
        return urlsplit(self.webhook["url"]).hostname in ("127.0.0.1", "localhost", "::1")

    @staticmethod
    def _post_update(hook, update):
        headers = {"Content-Type": "application/json"}
        if hook.get("secret_token"):
            headers["X-Telegram-Bot-Api-Secret-Token"] = hook["secret_token"]
        req = urllib.request.Request(hook["url"], json.dumps(update).encode(), headers)
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                status = resp.status
        except Exception as exc:  # noqa: BLE001 - reported through getWebhookInfo like Telegram
            return f"Connection failed: {exc}"
        return None if status < 300 else f"Wrong response from the webhook: {status}"

    # ----------------------------------------------------------------------- recording
    def calls(self, method=None, chat_id=None):
        """Recorded calls (rejections included; see Call.status), oldest first."""
        with self._cond:
            method = method and self._canon(method)
            return [c for c in self._calls if (method is None or c.method == method)
                    and (chat_id is None or c.params.get("chat_id") == chat_id)]

    def sent_texts(self, chat_id=None):
        """Rendered texts (HTML stripped) of successful sendMessage calls."""
        return [c.result["text"] for c in self.calls("sendMessage", chat_id) if c.ok]

    def clear(self):
        """Forget recorded calls (the chat/message state and the update queue stay)."""
        with self._cond:
            self._calls, self._consumed = [], set()

    def _take(self, method, predicate):
        method = self._canon(method)
        for c in self._calls:
            if c.seq not in self._consumed and c.method == method and (
                    predicate is None or predicate(c)):
                self._consumed.add(c.seq)
                return c
        return None

    def _timeout_error(self, method, timeout):
        recent = "\n".join(f"  {c.method} -> {c.status} {json.dumps(c.params, default=str)[:200]}"
                           for c in self._calls[-15:]) or "  (no calls at all)"
        return TimeoutError(f"no unconsumed {method} call matched within {timeout}s; "
                            f"recent calls:\n{recent}")

    def wait_for(self, method, predicate=None, timeout=10):
        """Block until an unconsumed ``method`` call with predicate(call) arrives; consume it.

        Blocking: use ``await wait_for_async(...)`` when the bot shares the test's event loop.
        """
        deadline = time.monotonic() + timeout
        with self._cond:
            while (call := self._take(method, predicate)) is None:
                if (remaining := deadline - time.monotonic()) <= 0:
                    raise self._timeout_error(method, timeout)
                self._cond.wait(remaining)
            return call

    @property
    def polls(self):
        """How many long polls have begun; pass it to wait_polling to wait for the next."""
        with self._cond:
            return self._poll_generation

    def wait_polling(self, after, timeout=10):
        """Block until a long poll newer than ``after`` is open: the bot is listening.

        Faster than waiting for the getUpdates call, which is recorded when the poll ends.
        """
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._poll_generation <= after:
                if (remaining := deadline - time.monotonic()) <= 0:
                    raise self._timeout_error("getUpdates", timeout)
                self._cond.wait(remaining)

    async def wait_for_async(self, method, predicate=None, timeout=10):
        """Like wait_for but yields to the event loop, so an in-process bot keeps running."""
        deadline = time.monotonic() + timeout
        while True:
            with self._cond:
                if (call := self._take(method, predicate)) is not None:
                    return call
                if time.monotonic() >= deadline:
                    raise self._timeout_error(method, timeout)
            await asyncio.sleep(0.02)


COMMAND_SCOPES = {"default", "all_private_chats", "all_group_chats", "all_chat_administrators",
                  "chat", "chat_administrators", "chat_member"}
# Implemented methods plus common unimplemented ones, for case/snake_case-insensitive lookups.
KNOWN_METHODS = sorted({name[3:] for name in dir(FakeBotAPI) if name.startswith("_m_")} | set(
    "sendPhoto sendDocument sendSticker sendAnimation sendVideo sendAudio sendVoice sendPoll "
    "sendLocation sendMediaGroup copyMessage forwardMessage editMessageCaption "
    "pinChatMessage unpinChatMessage leaveChat banChatMember".split()))

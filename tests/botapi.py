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
import email.parser
import email.policy
import itertools
import json
import math
import re
import socket
import threading
import time
import urllib.request
from collections import deque
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

__all__ = ["ApiError", "Call", "FakeBotAPI", "parse_html"]

# Parameters that are plain strings even when they look like JSON ("123", "true"): PTB sends
# str values raw and everything else json.dumps'ed, so only these must not be JSON-decoded.
STRING_PARAMS = frozenset(
    "text caption query data callback_query_id inline_query_id inline_message_id url "
    "secret_token parse_mode message_text title description language_code next_offset "
    "switch_pm_text switch_pm_parameter emoji action name short_description first_name "
    "last_name username sticker photo document file_id custom_emoji_id payload "
    "business_connection_id message_effect_id ip_address".split()
)
DEFAULT_UPDATE_TYPES_EXCLUDED = {"chat_member", "message_reaction", "message_reaction_count"}
BUTTON_ACTIONS = (
    "url", "callback_data", "web_app", "login_url", "switch_inline_query",
    "switch_inline_query_current_chat", "switch_inline_query_chosen_chat", "copy_text",
    "callback_game", "pay",
)
# Methods that "send into a chat": subject to block_chat, migrate_chat and rate limiting.
SEND_PREFIXES = ("send", "copy", "forward", "edit", "delete", "pin", "unpin")
HTML_TAGS = {
    "b": "bold", "strong": "bold", "i": "italic", "em": "italic", "u": "underline",
    "ins": "underline", "s": "strikethrough", "strike": "strikethrough",
    "del": "strikethrough", "a": "text_link", "code": "code", "pre": "pre",
    "span": "spoiler", "tg-spoiler": "spoiler", "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}
NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
ENTITY_RE = re.compile(r"&(?:(lt|gt|amp|quot)|#(\d{1,7})|#[xX]([0-9a-fA-F]{1,6}));")
LAX_ENTITY_RE = re.compile(r"&(?:(lt|gt|amp|quot)|#(\d{1,7})|#[xX]([0-9a-fA-F]{1,6}));?")
ATTR_NAME_RE = re.compile(r"[A-Za-z0-9_-]+")
UNQUOTED_RE = re.compile(r"[^\s>]*")
START_TAG_RE = re.compile(r"<([^\s>]*)")
END_TAG_RE = re.compile(r"</([A-Za-z0-9-]*)\s*>")
COMMAND_RE = re.compile(r"(?<!\S)/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?(?![\w/])")
MENTION_RE = re.compile(r"(?<![\w@/])@[A-Za-z][A-Za-z0-9_]{3,31}(?!\w)")
PROXY_HTML = (
    "<html>\r\n<head><title>{code} {phrase}</title></head>\r\n<body>\r\n<center><h1>{code} "
    "{phrase}</h1></center>\r\n<hr><center>nginx/1.18.0</center>\r\n</body>\r\n</html>\r\n"
)
ERROR_PREFIX = {400: "Bad Request: ", 403: "Forbidden: ", 409: "Conflict: ",
                429: "Too Many Requests: "}
DEFAULT_ERRORS = {400: "Bad Request: injected failure", 401: "Unauthorized", 404: "Not Found",
                  409: "Conflict: terminated by other getUpdates request; make sure that only "
                       "one bot instance is running"}
NOT_MODIFIED = ("Bad Request: message is not modified: specified new message content and reply "
                "markup are exactly the same as a current content and reply markup of the message")
QUERY_INVALID = "Bad Request: query is too old and response timeout expired or query ID is invalid"


class ApiError(Exception):
    """A Bot API error response; raised anywhere in a handler and turned into the HTTP reply."""

    def __init__(self, status, description, parameters=None):
        super().__init__(description)
        self.status, self.description, self.parameters = status, description, parameters

    def body(self):
        if self.status >= 500:  # like a reverse proxy in front of Telegram: HTML, not JSON
            html = PROXY_HTML.format(code=self.status, phrase=_phrase(self.status))
            return html.encode(), "text/html"
        out = {"ok": False, "error_code": self.status, "description": self.description}
        if self.parameters:
            out["parameters"] = self.parameters
        return json.dumps(out).encode(), "application/json"


def _phrase(status):
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def bad(description):
    """Shorthand for Telegram's most common error: 400 with the 'Bad Request: ' prefix."""
    return ApiError(400, "Bad Request: " + description)


@dataclass
class Call:
    """One recorded request.

    Unpacks as ``method, params, time``; ``call["text"]``/``call.get("text")`` read params, so
    wait_for predicates can be written against the params or the whole call alike.
    """

    method: str
    params: dict
    time: float
    status: int = 200
    response: object = None
    seq: int = 0

    def __iter__(self):
        return iter((self.method, self.params, self.time))

    def __getitem__(self, key):
        return self.params[key]

    def __contains__(self, key):
        return key in self.params

    def get(self, key, default=None):
        return self.params.get(key, default)

    @property
    def ok(self):
        return self.status == 200

    @property
    def result(self):
        return self.response.get("result") if isinstance(self.response, dict) else None


# ----------------------------------------------------------------------------- text helpers
def u16len(s):
    """Telegram measures entity offsets/lengths in UTF-16 code units, not code points."""
    return len(s.encode("utf-16-le")) // 2


def _char_ref(m, at):
    """Decode one matched HTML entity; numeric ones must name a real character."""
    if m.group(1):
        return NAMED_ENTITIES[m.group(1)]
    code = int(m.group(2)) if m.group(2) else int(m.group(3), 16)
    if not 0 < code <= 0x10FFFF or 0xD800 <= code <= 0xDFFF:
        raise bad(f"can't parse entities: Invalid character reference at byte offset {at}")
    return chr(code)


def _unescape(value, strict):
    return (ENTITY_RE if strict else LAX_ENTITY_RE).sub(lambda m: _char_ref(m, 0), value)


def _parse_attrs(src, i, tag, at, strict):
    """Parse ``name="v" name2='v' name3=v flag`` up to '>'; returns (attrs, index after '>')."""
    attrs = {}
    while True:
        while i < len(src) and src[i].isspace():
            i += 1
        if i >= len(src):
            raise bad(f"can't parse entities: Unclosed start tag at byte offset {at}")
        if src[i] == ">":
            return attrs, i + 1
        m = ATTR_NAME_RE.match(src, i)
        if not m:
            raise bad(f'can\'t parse entities: Empty attribute name in the tag "{tag}" '
                      f"at byte offset {at}")
        name, i = m.group().lower(), m.end()
        if i < len(src) and src[i] == "=":
            i += 1
            if i < len(src) and src[i] in "'\"":
                end = src.find(src[i], i + 1)
                if end < 0:
                    raise bad(f"can't parse entities: Unclosed start tag at byte offset {at}")
                value, i = src[i + 1:end], end + 1
            else:
                m = UNQUOTED_RE.match(src, i)
                value, i = m.group(), m.end()
            attrs[name] = _unescape(value, strict)
        else:
            attrs[name] = ""


def _entity_for(tag, attrs, at):
    """Map an opening tag to a MessageEntity skeleton, enforcing Telegram's attribute rules."""
    kind = HTML_TAGS[tag]
    if tag == "span" and attrs.get("class") != "tg-spoiler":
        raise bad(f'can\'t parse entities: Tag "span" must have class "tg-spoiler" at byte '
                  f"offset {at}")
    if tag == "tg-emoji":
        if not attrs.get("emoji-id"):
            raise bad(f'can\'t parse entities: Tag "tg-emoji" must have attribute "emoji-id" '
                      f"at byte offset {at}")
        return {"type": kind, "custom_emoji_id": attrs["emoji-id"]}
    if tag == "a":
        return {"type": kind, "url": attrs["href"]} if attrs.get("href") else None
    if tag == "blockquote" and "expandable" in attrs:
        return {"type": "expandable_blockquote"}
    return {"type": kind}


def parse_html(src, strict=True):
    """Parse Telegram-HTML like tdlib does; returns (plain_text, entities) or raises ApiError.

    ``strict`` additionally rejects a bare ``&`` (Telegram's docs require escaping it; the
    server itself is lenient), because an unescaped user string is the classic HTML-mode bug.
    """
    out, stack, entities, pos16, i = [], [], [], 0, 0

    def offset(idx):  # tdlib reports positions as UTF-8 byte offsets
        return len(src[:idx].encode())

    while i < len(src):
        ch = src[i]
        if ch == "&":
            m = (ENTITY_RE if strict else LAX_ENTITY_RE).match(src, i)
            if m or not strict:
                piece, i = (_char_ref(m, offset(i)), m.end()) if m else ("&", i + 1)
                out.append(piece)
                pos16 += u16len(piece)
                continue
            raise bad(f'can\'t parse entities: Character "&" is reserved and must be escaped '
                      f'as "&amp;" at byte offset {offset(i)}')
        if ch != "<":
            j = min(k for k in (src.find("<", i), src.find("&", i), len(src)) if k >= 0)
            out.append(src[i:j])
            pos16 += u16len(src[i:j])
            i = j
            continue
        at = offset(i)
        if src.startswith("</", i):
            m = END_TAG_RE.match(src, i)
            if not m:
                raise bad(f"can't parse entities: Unclosed end tag at byte offset {at}")
            tag = m.group(1).lower()
            if not stack:
                raise bad(f"can't parse entities: Unexpected end tag at byte offset {at}")
            if stack[-1][0] != tag:
                raise bad(f'can\'t parse entities: Unmatched end tag at byte offset {at}, '
                          f'expected "</{stack[-1][0]}>", found "</{tag}>"')
            _tag, ent, start = stack.pop()
            if ent and pos16 > start:
                entities.append({**ent, "offset": start, "length": pos16 - start})
            i = m.end()
            continue
        m = START_TAG_RE.match(src, i)
        tag = m.group(1).lower()
        if tag not in HTML_TAGS:
            raise bad(f'can\'t parse entities: Unsupported start tag "{tag}" at byte offset {at}')
        attrs, i = _parse_attrs(src, m.end(), tag, at, strict)
        ent = _entity_for(tag, attrs, at)
        if tag == "code" and stack and stack[-1][0] == "pre" and stack[-1][1]:
            lang = attrs.get("class", "")
            if lang.startswith("language-"):  # <pre><code class="language-x"> -> pre(language)
                stack[-1][1]["language"] = lang[len("language-"):]
            ent = None
        stack.append((tag, ent, pos16))
    if stack:
        raise bad(f'can\'t parse entities: Can\'t find end tag corresponding to start tag '
                  f'"{stack[-1][0]}"')
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return "".join(out), entities


def _strip(text, entities):
    """Telegram trims surrounding whitespace from message text; entities shift accordingly."""
    stripped = text.strip()
    shift, limit = u16len(text[: len(text) - len(text.lstrip())]), u16len(stripped)
    kept = []
    for e in entities or []:
        start = max(e["offset"] - shift, 0)
        end = min(e["offset"] + e["length"] - shift, limit)
        if end > start:
            kept.append({**e, "offset": start, "length": end - start})
    return stripped, kept


def render_text(text, parse_mode=None, entities=None, strict=True):
    """Apply parse_mode and Telegram's length rules; returns (text, entities)."""
    text = "" if text is None else str(text)
    if isinstance(parse_mode, str) and parse_mode.lower() == "html":
        text, entities = parse_html(text, strict)
    # Markdown/MarkdownV2 are passed through unparsed (not modelled by this fake).
    text, entities = _strip(text, entities if isinstance(entities, list) else [])
    if not text:
        raise bad("message text is empty")
    if len(text) > 4096:
        raise bad("message is too long")
    return text, entities


def auto_entities(text):
    """Entities Telegram's clients attach to typed text: bot commands and @mentions."""
    ents = [{"type": "bot_command", "offset": u16len(text[: m.start()]),
             "length": u16len(m.group())} for m in COMMAND_RE.finditer(text)]
    ents += [{"type": "mention", "offset": u16len(text[: m.start()]),
              "length": u16len(m.group())} for m in MENTION_RE.finditer(text)]
    return sorted(ents, key=lambda e: e["offset"])


# ------------------------------------------------------------------------ markup validation
def check_button(button):
    """One InlineKeyboardButton: non-empty text and exactly one action (1-64 byte data)."""
    if not isinstance(button, dict) or "text" not in button:
        raise bad('can\'t parse inline keyboard button: Can\'t find field "text"')
    if not isinstance(button["text"], str) or not button["text"].strip():
        raise bad("BUTTON_TEXT_INVALID")
    actions = [k for k in BUTTON_ACTIONS if k in button and button[k] not in ("", None)
               or k.startswith("switch_inline_query") and button.get(k) == ""]
    if not actions:
        raise bad("can't parse inline keyboard button: Text buttons are unallowed in the "
                  "inline keyboard")
    if len(actions) > 1:
        raise bad("can't parse inline keyboard button: exactly one of the optional fields "
                  f"must be used, got {actions}")
    if "callback_data" in actions and not 1 <= len(str(button["callback_data"]).encode()) <= 64:
        raise bad("BUTTON_DATA_INVALID")


def check_reply_markup(markup):
    """Validate reply_markup the way Telegram rejects it; returns the decoded markup."""
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise bad("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" in markup:
        rows = markup["inline_keyboard"]
        if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
            raise bad('Field "inline_keyboard" of the InlineKeyboardMarkup must be an Array of '
                      "Arrays")
        for button in itertools.chain.from_iterable(rows):
            check_button(button)
    elif "keyboard" in markup:
        for button in itertools.chain.from_iterable(markup["keyboard"]):
            text = button.get("text") if isinstance(button, dict) else button
            if not isinstance(text, str) or not text:
                raise bad("BUTTON_TEXT_INVALID")
    return markup


def check_inline_results(results, strict):
    """answerInlineQuery rules: <= 50 results, unique 1-64 byte ids, valid articles."""
    if not isinstance(results, list):
        raise bad("can't parse inline query results JSON object")
    if len(results) > 50:
        raise bad("RESULTS_TOO_MUCH")
    seen = set()
    for res in results:
        rid = str(res.get("id", ""))
        if not 1 <= len(rid.encode()) <= 64:
            raise bad("RESULT_ID_INVALID")
        if rid in seen:
            raise bad("RESULT_ID_DUPLICATE")
        seen.add(rid)
        if res.get("type") == "article":
            content = res.get("input_message_content")
            if not res.get("title"):
                raise bad("RESULT_TITLE_EMPTY")
            if not isinstance(content, dict):
                raise bad("can't parse InputMessageContent: Field \"message_text\" must be "
                          "present")
            render_text(content.get("message_text"), content.get("parse_mode"),
                        content.get("entities"), strict)
        check_reply_markup(res.get("reply_markup"))


# --------------------------------------------------------------------------- request body
def _decode_value(name, value):
    """Undo PTB's encoding: non-str values arrive json.dumps'ed inside form fields."""
    if not isinstance(value, str) or name in STRING_PARAMS:
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value  # e.g. chat_id="@channelname"


def _multipart(content_type, body):
    """Parse multipart/form-data with the stdlib email parser (cgi is gone in 3.13)."""
    raw = b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + body
    msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(raw)
    params = {}
    for part in msg.iter_parts():
        name, data = part.get_param("name", header="content-disposition"), part.get_payload(
            decode=True) or b""
        if part.get_filename() is not None:
            params[name] = {"filename": part.get_filename(), "size": len(data), "data": data,
                            "content_type": part.get_content_type()}
        else:
            params[name] = data.decode()
    return params


def decode_params(content_type, body, query):
    """Merge query-string and body parameters into plain Python objects."""
    params = dict(parse_qsl(query, keep_blank_values=True))
    content_type = content_type or ""
    if content_type.startswith("application/json") and body:
        try:
            data = json.loads(body)
        except ValueError:
            raise bad("can't parse JSON encoded request") from None
        params.update(data if isinstance(data, dict) else {})
    elif content_type.startswith("multipart/form-data"):
        params.update(_multipart(content_type, body))
    elif body:
        params.update(parse_qsl(body.decode(), keep_blank_values=True))
    return {k: _decode_value(k, v) for k, v in params.items()}


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


class FakeBotAPI:
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
        self._faults, self._blocked, self._migrated = [], {}, {}
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
        with self._cond:
            try:
                if error:
                    raise error
                response = {"ok": True, "result": self._dispatch(method, params)}
                status, payload, ctype = 200, json.dumps(response).encode(), "application/json"
            except ApiError as exc:
                status, (payload, ctype) = exc.status, exc.body()
                response = json.loads(payload) if ctype == "application/json" else payload
            self._calls.append(Call(method, params, time.time(), status, response,
                                    next(self._seq)))
            self._cond.notify_all()
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

    # ---------------------------------------------------------------- fault injection
    def fail_next(self, method, status, description=None, retry_after=None, count=1,
                  chat_id=None):
        """Make the next ``count`` calls of ``method`` ("*" = any) fail like Telegram would."""
        with self._cond:
            self._faults.append({"method": "*" if method == "*" else self._canon(method),
                                 "status": status, "description": description,
                                 "retry_after": retry_after, "left": count, "chat_id": chat_id})

    def block_chat(self, chat_id, description=None):
        """Every send to ``chat_id`` answers 403 until ``unblock_chat``."""
        with self._cond:
            self._blocked[chat_id] = description

    def unblock_chat(self, chat_id):
        with self._cond:
            self._blocked.pop(chat_id, None)

    def migrate_chat(self, old_chat_id, new_chat_id):
        """Sends to the old group answer 400 with parameters.migrate_to_chat_id (ChatMigrated)."""
        with self._cond:
            self._migrated[old_chat_id] = new_chat_id

    def rate_limit(self, per_chat_per_second=1, per_group_per_minute=20, global_per_second=30):
        """Answer 429 when Telegram's documented send limits are exceeded (None disables one)."""
        with self._cond:
            self._limits = (per_chat_per_second, per_group_per_minute, global_per_second)
            self._send_log.clear()

    def clear_faults(self):
        """Drop pending fail_next rules, blocks, migrations and rate limits."""
        with self._cond:
            self._faults, self._blocked, self._migrated, self._limits = [], {}, {}, None

    def _forbidden(self, chat_id):
        kind = self._chats.get(chat_id, {}).get("type") or (
            "channel" if not isinstance(chat_id, int) else
            "private" if chat_id > 0 else "supergroup")
        return {"private": "Forbidden: bot was blocked by the user",
                "group": "Forbidden: bot was kicked from the group chat",
                "supergroup": "Forbidden: bot was kicked from the supergroup chat",
                "channel": "Forbidden: bot is not a member of the channel chat"}[kind]

    def _make_error(self, status, description, retry_after, chat_id):
        if status == 429:
            n = int(retry_after or 1)
            return ApiError(429, description or f"Too Many Requests: retry after {n}",
                            {"retry_after": n})
        if not description:
            description = (self._forbidden(chat_id) if status == 403
                           else DEFAULT_ERRORS.get(status) or _phrase(status))
        prefix = ERROR_PREFIX.get(status)
        if prefix and not description.startswith(prefix.rstrip(": ")):
            description = prefix + description
        return ApiError(status, description)

    def _apply_faults(self, method, params):
        chat_id = params.get("chat_id")
        for rule in self._faults:
            if rule["method"] in ("*", method) and rule["chat_id"] in (None, chat_id):
                rule["left"] -= 1
                self._faults = [r for r in self._faults if r["left"] > 0]
                raise self._make_error(rule["status"], rule["description"],
                                       rule["retry_after"], chat_id)
        if chat_id is None or not method.lower().startswith(SEND_PREFIXES):
            return
        if chat_id in self._migrated:
            raise ApiError(400, "Bad Request: group chat was upgraded to a supergroup chat",
                           {"migrate_to_chat_id": self._migrated[chat_id]})
        if chat_id in self._blocked:
            raise ApiError(403, self._blocked[chat_id] or self._forbidden(chat_id))
        if self._limits and method != "sendChatAction":
            self._check_rate(chat_id)

    def _check_rate(self, chat_id):
        """Sliding windows over recent sends; retry_after = time until a slot frees up."""
        now, (per_chat, per_group, overall) = time.monotonic(), self._limits
        while self._send_log and now - self._send_log[0][0] > 60:
            self._send_log.popleft()
        checks = [(per_chat, 1.0, lambda c: c == chat_id), (overall, 1.0, lambda c: True)]
        if isinstance(chat_id, int) and chat_id < 0:
            checks.append((per_group, 60.0, lambda c: c == chat_id))
        for limit, window, match in checks:
            recent = [t for t, c in self._send_log if now - t < window and match(c)]
            if limit is not None and len(recent) >= limit:
                wait = max(1, math.ceil(recent[0] + window - now))
                raise self._make_error(429, None, wait, chat_id)
        self._send_log.append((now, chat_id))

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
        return json.dumps(scope, sort_keys=True), p.get("language_code") or ""

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

    # ------------------------------------------------------------------ update helpers
    def push_update(self, update):
        """Queue any update dict (update_id added if missing); returns a copy of it."""
        with self._cond:
            update = copy.deepcopy(update)
            update.setdefault("update_id", next(self._update_ids))
            for kind in ("callback_query", "inline_query"):
                if kind in update:
                    self._open_queries.add(update[kind]["id"])
            self._updates.append(update)
            self._cond.notify_all()
            return copy.deepcopy(update)

    def _bot_message_to_reply(self, chat, message_id):
        """A replied-to message from the bot: the stored one, or a stand-in with that id."""
        msg = self._messages.get((chat["id"], message_id))
        if msg is None:
            msg = {"message_id": message_id, "date": int(time.time()), "chat": dict(chat),
                   "from": dict(self.bot_user), "text": "(earlier bot message)"}
            self._messages[(chat["id"], message_id)] = msg
        return copy.deepcopy(msg)

    def message(self, text="", chat_id=None, user_id=1001, chat_type=None, entities=None,
                reply_to_message_id=None, sticker=False, **extra):
        """Queue a user's message (commands/mentions get entities automatically).

        chat_type None keeps a known chat's type, else private for positive ids and
        supergroup for negative ones; ``extra`` fields are merged into the Message.
        """
        with self._cond:
            if chat_id is None:
                chat_id = {None: user_id, "private": user_id, "group": -4000000001}.get(
                    chat_type, -1001000000001)
            chat = self._chat(chat_id, chat_type)
            fields = {"text": text, "entities": auto_entities(text) if entities is None
                      else entities} if text else {}
            if sticker:
                fields = {"sticker": {
                    "file_id": "CAACAgIAAxkBAAEBdemo", "file_unique_id": "AgADdemo",
                    "type": "regular", "width": 512, "height": 512, "is_animated": False,
                    "is_video": False, "emoji": "\U0001f44d"}}
            if reply_to_message_id is not None:
                fields["reply_to_message"] = self._bot_message_to_reply(chat, reply_to_message_id)
            msg = self._new_message(chat, self._user(user_id), **fields, **extra)
            return self.push_update({"message": msg})

    def channel_post(self, text, chat_id=-1002000000001):
        with self._cond:
            chat = self._chat(chat_id, "channel")
            msg = self._new_message(chat, None, sender_chat=dict(chat), text=text,
                                    entities=auto_entities(text))
            return self.push_update({"channel_post": msg})

    def callback_query(self, data, message, user_id=1001):
        """Queue a button press on ``message``: a sent Message dict, a recorded Call or a
        telegram.Message; the stored (possibly edited) version is what the user clicked."""
        with self._cond:
            if isinstance(message, Call):
                message = message.result
            elif hasattr(message, "to_dict"):
                message = message.to_dict()
            current = self._messages.get((message["chat"]["id"], message["message_id"]),
                                         message)
            return self.push_update({"callback_query": {
                "id": str(next(self._ids) + 10**15), "from": dict(self._user(user_id)),
                "message": copy.deepcopy(current), "data": data,
                "chat_instance": str(abs(message["chat"]["id"]) * 7919)}})

    def inline_query(self, query, user_id=1001, offset=""):
        with self._cond:
            return self.push_update({"inline_query": {
                "id": str(next(self._ids) + 2 * 10**15), "from": dict(self._user(user_id)),
                "query": query, "offset": offset, "chat_type": "sender"}})

    def my_chat_member(self, chat_id, new_status, old_status="member", user_id=1001):
        """Queue the bot's own membership change; leaving/kicked also blocks sends (403)."""
        with self._cond:
            chat = self._chat(chat_id)
            self._members[(chat["id"], self.bot_id)] = new_status
            if new_status in ("left", "kicked"):
                self._blocked.setdefault(chat["id"], None)
            else:
                self._blocked.pop(chat["id"], None)
            old = self._member(chat["id"], self.bot_id, old_status)
            new = self._member(chat["id"], self.bot_id, new_status)
            return self.push_update({"my_chat_member": {
                "chat": dict(chat), "from": dict(self._user(user_id)),
                "date": int(time.time()), "old_chat_member": old, "new_chat_member": new}})

    def migrate(self, chat_id, new_chat_id, user_id=1001):
        """Queue a group->supergroup migration (both service messages) and apply it."""
        with self._cond:
            old = self._chat(chat_id, "group")
            new = self._chat(new_chat_id, "supergroup", old.get("title"))
            first = self.push_update({"message": self._new_message(
                old, self._user(user_id), migrate_to_chat_id=new_chat_id)})
            self.push_update({"message": self._new_message(
                new, None, sender_chat=dict(new), migrate_from_chat_id=chat_id)})
            self._migrated[chat_id] = new_chat_id
            return first

    def pending_updates(self):
        with self._cond:
            return copy.deepcopy(self._updates)

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


# Implemented methods plus common unimplemented ones, for case/snake_case-insensitive lookups.
KNOWN_METHODS = sorted({name[3:] for name in dir(FakeBotAPI) if name.startswith("_m_")} | set(
    "sendPhoto sendDocument sendSticker sendAnimation sendVideo sendAudio sendVoice sendPoll "
    "sendLocation sendMediaGroup copyMessage forwardMessage editMessageCaption "
    "pinChatMessage unpinChatMessage leaveChat banChatMember".split()))

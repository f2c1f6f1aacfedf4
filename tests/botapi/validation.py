"""Telegram's rules as the fake enforces them: HTML parse mode, text lengths, keyboards,
inline results, and how parameters arrive (JSON, form or multipart). Bugs here only show in
production otherwise."""

from __future__ import annotations

import email.parser
import email.policy
import itertools
import json
import re
from dataclasses import dataclass
from http import HTTPStatus
from urllib.parse import parse_qsl

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
            html = PROXY_HTML.format(code=self.status, phrase=status_phrase(self.status))
            return html.encode(), "text/html"
        out = {"ok": False, "error_code": self.status, "description": self.description}
        if self.parameters:
            out["parameters"] = self.parameters
        return json.dumps(out).encode(), "application/json"


def status_phrase(status):
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
    chosen = button.get("switch_inline_query_chosen_chat")
    if "switch_inline_query_chosen_chat" in actions and (
            not isinstance(chosen, dict) or len(str(chosen.get("query", ""))) > 256):
        raise bad("can't parse inline keyboard button: Field \"switch_inline_query_chosen_chat\" "
                  "must be a SwitchInlineQueryChosenChat with a query of at most 256 characters")


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

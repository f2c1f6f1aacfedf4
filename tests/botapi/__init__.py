"""A local stand-in for the Telegram Bot API, for end-to-end tests: the server, Telegram's rules
it enforces, and the faults it can inject."""

from botapi.server import FakeBotAPI
from botapi.validation import ApiError, Call, parse_html

__all__ = ["ApiError", "Call", "FakeBotAPI", "parse_html"]

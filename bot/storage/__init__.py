"""Storage: the bot's state behind one interface (base.Store), with the SQLite backend.
Imports nothing of the bot above it but the leaf bot.text."""

from bot.storage.base import Store
from bot.storage.records import Miss, Subscription, question_key
from bot.storage.sqlite import SQLiteStore

__all__ = ["Miss", "SQLiteStore", "Store", "Subscription", "question_key"]

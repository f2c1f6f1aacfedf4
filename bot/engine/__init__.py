"""The engine: the FAQ's models, loading and validation, matching, rendering, briefings and
reports, as plain Python. May import bot.text and bot.storage; never telegram or the front ends."""

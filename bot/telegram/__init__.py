"""Telegram glue: the application builder, handlers, keyboards, delivery pacing, and the glue
for briefings and maintenance. The only room that imports python-telegram-bot; never bot.cli."""

"""The command line: the entry point, the console chat, export, eval and bench.
May import the engine, storage, settings and logs; reaches bot.telegram only to start the bot."""

"""How a deployer finds the numeric user id that BOT_ADMIN_IDS needs: /whoami in a private
chat with the bot (Telegram's apps do not show it)."""

from __future__ import annotations

from conftest import ADMIN_ID, ask


def test_whoami_tells_the_sender_their_id_and_whether_they_maintain_the_bot(
    api, bot_factory
) -> None:
    bot_factory()
    stranger = ask(api, "/whoami", 4242)["text"]
    assert "Your Telegram user id is <code>4242</code>." in stranger and "BOT_ADMIN_IDS" in stranger
    admin = ask(api, "/whoami", ADMIN_ID)["text"]
    assert f"Your Telegram user id is <code>{ADMIN_ID}</code>." in admin and "maintainers" in admin

"""Update builders: the messages, button presses, inline queries and chat events a test makes
the fake deliver to the bot, shaped as Telegram shapes them."""

from __future__ import annotations

import copy
import time

from botapi.validation import Call, auto_entities


class UpdateBuilders:
    """Mixed into FakeBotAPI: what users do."""

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

    def delete_message(self, chat_id, message_id):
        """A user (or an admin) deletes a message: edits and replies to it now fail."""
        with self._cond:
            self._messages.pop((chat_id, message_id), None)

    def expire_query(self, update):
        """Telegram stops waiting for the answer to a button press (about 15 s)."""
        with self._cond:
            self._open_queries.discard(update["callback_query"]["id"])

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

"""Greetings, thanks and questions about the bot itself: answered kindly, never from the FAQ.
Also the shapes of prompt-injection attempts, which are declined whatever they mention."""

from __future__ import annotations

import re

from rapidfuzz import fuzz, process

ABOUT = (
    "I answer questions about North Korea's human-rights record and the Trump–Kim summits, "
    "from five articles by Vox, Human Rights Watch, Just Security, TIME/Amnesty International USA "
    "and HuffPost. Every answer names its source and quotes it."
)

# intent -> (phrasings, reply)
INTENTS: dict[str, tuple[tuple[str, ...], str]] = {
    "greeting": (
        (
            "hi",
            "hello",
            "hey",
            "hey there",
            "hiya",
            "yo",
            "good morning",
            "good evening",
            "good afternoon",
            "greetings",
            "sup",
            "whats up",
            "howdy",
            "hallo",
            "salut",
            "hola",
        ),
        "Hello! Ask me anything about North Korea's human-rights record and the Trump–Kim "
        "summits, for example: how many people are in the prison camps?",
    ),
    "thanks": (
        (
            "thanks",
            "thank you",
            "thx",
            "ty",
            "cheers",
            "thanks a lot",
            "many thanks",
            "great thanks",
            "ok thanks",
            "thank u",
            "much appreciated",
            "merci",
        ),
        "You're welcome. Ask again any time.",
    ),
    "bye": (
        ("bye", "goodbye", "see you", "see ya", "later", "good night", "ciao"),
        "Goodbye!",
    ),
    "about": (
        (
            "who are you",
            "what are you",
            "what can you do",
            "what do you do",
            "are you a bot",
            "who made you",
            "who built you",
            "who created you",
            "what is this",
            "what is this bot",
            "help",
            "how does this work",
            "what can i ask",
            "what do you know",
            "are you human",
            "are you an ai",
            "where do your answers come from",
            "your sources",
        ),
        ABOUT,
    ),
    "fine": (
        ("how are you", "how are you doing", "hows it going", "how r u", "whats new"),
        "I'm fine, thanks — ready for your questions on North Korea and human rights.",
    ),
    "ack": (
        (
            "ok",
            "okay",
            "k",
            "cool",
            "nice",
            "great",
            "lol",
            "haha",
            "good",
            "interesting",
            "good bot",
            "nice bot",
            "great bot",
            "bad bot",
            "well done",
            "awesome",
            "perfect",
            "wow",
            "yes",
            "no",
            "sure",
            "alright",
            "i see",
            "got it",
            "hmm",
            "ok cool",
        ),
        "Ask me another question whenever you like, or send /topics to browse.",
    ),
}

_PHRASES: list[str] = []
_OWNERS: list[str] = []
for _intent, (_phrases, _reply) in INTENTS.items():
    for _p in _phrases:
        _PHRASES.append(_p)
        _OWNERS.append(_intent)

_INJECTION = re.compile(
    r"ignore (all |any |the )?(previous|prior|above|earlier|your)|disregard (all |any |the )?"
    r"(previous|prior|above|your)|system prompt|you are now|act as|pretend (to be|you)|"
    r"jailbreak|\bdan\b|developer mode|new instructions|override|reveal your|your instructions|"
    r"forget (all|everything|your)|roleplay|role-play|sudo |<\s*script|\{\{|\bprompt\b|"
    r"(hidden|secret|your|system) (instructions|rules|prompt|message)|admin mode|"
    r"repeat (everything|all|the text) above",
    re.IGNORECASE,
)


def smalltalk_intent(words: str) -> str | None:
    """`words` is the question lower-cased and stripped of punctuation."""
    if not words or len(words) > 40:
        return None
    best = process.extractOne(words, _PHRASES, scorer=fuzz.ratio, score_cutoff=88)
    return _OWNERS[best[2]] if best else None


def reply_for(intent: str) -> str:
    return INTENTS[intent][1]


def looks_like_injection(text: str) -> bool:
    return bool(_INJECTION.search(text))

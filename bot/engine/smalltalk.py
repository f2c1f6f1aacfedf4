"""Greetings, thanks and questions about the bot itself: answered kindly, never from the FAQ.
Also the shapes of prompt-injection attempts, which are declined whatever they mention."""

from __future__ import annotations

import re

from rapidfuzz import fuzz, process

ABOUT = (
    "I answer questions about North Korea's human-rights record and the Trump–Kim summits, "
    "from five articles published by Vox, Human Rights Watch, Just Security, TIME and HuffPost. "
    "Every answer names its source and quotes it."
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

# The usual shapes of attempts to make a bot step outside its brief. Matching any of them
# declines the message, whatever else it mentions.
_INJECTION = re.compile(
    r"\b(ignore|disregard|forget|override|bypass|skip)\b[^.?!]{0,40}"
    r"\b(instructions?|rules?|prompts?|guidelines|restrictions|previous|prior|above|articles|"
    r"sources|faq|programming|training)\b|\bignore everything (above|before|you)"
    r"|system prompt|\bsystem\s*:|\bsystem override|you are now|you're now|from now on,? you"
    r"|\bact as\b|pretend (to be|you|that)|\bjailbreak|\bdan\b|developer mode|admin mode|god mode"
    r"|new (instructions|rules|persona)|reveal your"
    r"|your (instructions|rules|prompt|guidelines)"
    r"|(hidden|secret|internal|initial|original) (instructions|rules|prompt|message)"
    r"|roleplay|role-play|sudo |<\s*/?\s*(script|system|faq)|\{\{|\bprompt\b"
    r"|repeat (everything|all|the text|the words) (above|before)"
    r"|no (restrictions|rules|limits|filters)|without (restrictions|rules|limits|filters)"
    r"|unfiltered|uncensored|i authori[sz]e you|as the developer|you must now|do anything now"
    r"|\b(entire|complete|whole|full|raw) (text|content|contents|source) of (your|the) "
    r"(faq|prompt|instructions|files?|database|knowledge|code)"
    r"|\b(your|the) (faq|prompt|instruction|config|configuration|database) (files?|text)\b",
    re.IGNORECASE,
)


# Words that add warmth, not a question: "thanks, that was really helpful!" is thanks.
_POLITE = frozenset(
    """that was is it this so very really super much a lot you your for the answer answers
    info information reply help helpful useful interesting great good nice cool awesome
    perfect clear amazing again man bro mate guys bot buddy friend and all ok okay oh wow
    appreciate appreciated it's thats there everyone""".split()
)


def smalltalk_intent(words: str) -> str | None:
    """`words` is the question lower-cased and stripped of punctuation."""
    if not words:
        return None
    if len(words) <= 40:
        best = process.extractOne(words, _PHRASES, scorer=fuzz.ratio, score_cutoff=88)
        if best:
            return _OWNERS[best[2]]
    # A greeting, thanks or goodbye padded with pleasantries and nothing else.
    head, *rest = words.replace("thank you", "thanks").replace("thank u", "thanks").split()
    for intent in ("thanks", "greeting", "bye"):
        openers = {p for p in INTENTS[intent][0] if " " not in p}
        if head in openers and rest and all(w in _POLITE or w in openers for w in rest):
            return intent
    return None


def reply_for(intent: str) -> str:
    return INTENTS[intent][1]


def looks_like_injection(text: str) -> bool:
    return bool(_INJECTION.search(text))

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


# -- questions the articles cannot answer by their nature ----------------------------------------
# A question asking what one of the articles (or a writer, a group) says is about the articles,
# whatever it asks: "what did HRW think Trump should do?" is answered from them.
_ATTRIBUTED = re.compile(
    r"\b(accord(ing)? to|articles?|piece|dispatch|vox|hrw|human rights watch|"
    r"just security|time magazine|in time|huffpost|huffington|amnesty|writers?|authors?|"
    r"op ?eds?|critics?|experts?|analysts?|activists?|advocates?|the un said|"
    r"report(ed|s)? (say|said)|"
    r"(do|does|did) (they|it|he|she|singh|robertson|bencosme|enos|ward) (say|said|argue|think)|"
    r"sources? (say|said))\b"
)
_BEYOND: dict[str, re.Pattern[str]] = {
    # The bot's own view or feelings: "what do you think", "ur opinion", "does it make you sad".
    "opinion": re.compile(
        r"\b(what (do|did) (you|u|ya) (think|make)|do (you|u) (think|believe|agree|like|feel)|"
        r"what do (you|u) make of|how do (you|u) (see|view|rate|judge)|"
        r"(your|ur|yr) (own )?(opinion|view|views|take|thoughts?|feelings?)|"
        r"in (your|ur) (opinion|view)|how do (you|u) feel|what went through (your|ur) mind|"
        r"(are|were) (you|u) (sad|happy|angry|upset|shocked|surprised|moved)|"
        r"make (you|u) (feel|sad|angry)|(is|was) (trump|kim|kim jong un|he) (a )?"
        r"(good|bad|great|evil|terrible|best|worst|smart|stupid|crazy)( (man|person|leader|"
        r"president|guy))?|(was|is) (trump|kim|he|it|the us) (right|wrong) to|"
        r"who is (better|worse)|who do (you|u) (like|prefer|support)|"
        # A judgement the bot would have to make: "was it a mistake to…?", "would you say…?"
        r"(was|is|were) (it|that|this) (a )?(mistake|error|blunder|wise|unwise|good idea|"
        r"bad idea)|(did|does|do) (\w+ ){1,3}(do|make) the (right|wrong) (thing|call|choice|"
        r"decision|move)|would (you|u) (say|call|characteri[sz]e)|how would (you|u) describe|"
        r"(is|was) it (fair|unfair|reasonable) to (say|call|describe|compare)|"
        r"(what|how) did (you|u) feel|(can|could|should) (kim|kim jong un|trump|he|north korea|"
        r"pyongyang|the regime|the north koreans) (ever |really )?be trusted|"
        r"should (we|anyone|anybody|the us|america|the world) (ever )?trust)\b"
    ),
    # A question put to a person in the news, not to the bot: a reporter's "Chairman Kim, are
    # you ready to…?", "why are you so comfortable…?", "what did he tell you?", an official's
    # "do we ever raise…?". The bot cannot answer for them.
    "addressed": re.compile(
        r"^(mr|mrs|ms|madam|madame|dr|president|chairman|secretary|senator|ambassador|"
        r"minister|general|sir|judge|professor|prof|governor|commissioner|rapporteur|"
        r"mayor|reverend)\b.{0,40}\b(you|your)\b|"
        r"\b(how|when|why|where|what) (did|have|had) (you|u) (ever )?(escape\w*|surviv\w*|"
        r"leave|left|defect\w*|cope|decide\w*|arrive\w*|get out|grow up|grew up|live\w*|"
        r"witness\w*|experienc\w*|discuss\w*|talk\w*|tell|told|ask\w*|do|done)\b|"
        r"\bwhat (is|was|s) your (message|reaction|response|plan|strategy|position|goal|"
        r"assessment|impression|advice)\b|\bwhat (will|would|are) (you|u) (going to )?do\b|"
        r"\bdo (you|u) (plan|intend|expect|hope|regret|trust|worry)\b|"
        r"\b(are|were) (you|u) (really |personally |now )?(ready|willing|prepared|planning|"
        r"comfortable|confident|satisfied|worried|concerned|afraid|sorry|disappointed|optimistic|"
        r"hopeful|discussing|raising|considering|going to (raise|discuss|press|bring|ask|meet|"
        r"walk))\b|"
        r"\b(have|did|will|would) (you|u) (ever |also |personally |already )?(betray\w*|rais\w*|"
        r"discuss\w*|bring|brought|meet|met|talk\w*|press\w*|push\w*|mention\w*|regret\w*|"
        r"convince\w*|confront\w*|plan\w*|commit\w*|walk away)\b|"
        # ... and in the past only: "would you face prison for…?" is anyone's "you".
        r"\b(have|did) (you|u) (ever |also |personally |already )?(learn\w*|ask\w*|spoken|"
        r"speak|trust\w*|face\w*)\b|"
        r"\bwhy (are|were|did|have) (you|u)\b|"
        r"\bhow (do|can|could|would|will) (you|u) (trust|build|have|convince|deal|negotiate|"
        r"justify|defend|respond|reply|answer|react|reconcile|square)\b|"
        r"\b(the (man|woman|leader|person) (you|u) met|(you|u) met (today|him|with|kim|trump)|"
        r"when (you|u) met|(tell|told) (you|u)\b|(you|u) say that (you|your)|"
        r"your (\w+ )?(administration|demands|weapons|nuclear|regime|predecessors?|"
        r"negotiators?)|"
        # An interviewer's "tell readers about your background": the person's own story.
        r"about (yourself|your (own )?(background|career|childhood|upbringing|life story)))\b|"
        r"^(you|u) (agree|believe|think|feel)\b|"
        r"\b(do|did|will|have|are) we (ever |really |still )?(rais\w*|bring|discuss\w*|"
        r"mention\w*|press\w*|push\w*|looking at)\b"
    ),
    # A year after the articles: they were written in 2018 and 2019.
    "later": re.compile(r"\b20[2-9]\d\b"),
    # What will happen: the articles were written in 2018 and 2019.
    "prediction": re.compile(
        r"\b(will|gonna|going to)\b.{0,60}\b(ever|one day|someday|eventually|in the future|"
        r"next year|in \d+ years|by 20\d\d)\b|\bwhat will happen\b|\bpredict|\bforecast|"
        r"\b(what are|what s|whats) the (chances|odds|prospects)\b|\bhow likely\b|"
        # What someone means to do now: "is the US prepared to declare the war over?"
        r"\b(is|are) (the (us|u s|usa|un|united nations|united states|administration|world|west|"
        r"regime|international community)|america|washington|china|kim|kim jong un|trump|"
        r"north korea|pyongyang|south korea|seoul) (\w+ )?(prepared|willing|ready|planning|"
        r"going) to\b|"
        r"\bwhat (will|would) it take\b|"
        # What something will change: "what difference is the inquiry going to make?"
        r"\bwhat (difference|impact|effect) (is|are|will|would|could|can)\b.{0,80}"
        r"\b(make|have)\b|"
        r"\bwill (there|north korea|nk|kim|trump) (be|ever|collapse|fall|reunif)|"
        r"\b(reunif\w*|collapse) (happen|come)\b|\bwhen will\b|\bis (it|there) going to\b|"
        r"\b(is|are) (it|that|this|progress|change|peace|reform|reunification|freedom) (even |"
        r"really |still |ever )?possible\b"
    ),
    # What ought to be done, asked of the bot: "should travel be banned?"
    "advice": re.compile(
        r"\bshould (it|travel|tourism|tourists|americans|people|we|i|the us|america|the world)"
        r"\b.{0,40}\b(be |go |travel|visit|boycott|banned|prohibited|allowed|illegal|legal)|"
        r"\b(is it|would it be) (ok|okay|safe|right|wrong|ethical|moral) to\b|"
        r"\bwhat (can|could|should) (i|we)\b.{0,50}\bdo\b|"
        r"\bhow (can|could|should) (i|we|ordinary people)\b.{0,30}\b(help|improve|support|"
        r"contribute|make a difference|get involved|donate)\b"
    ),
    # What ordinary North Koreans think: no article asked them.
    "people-think": re.compile(
        r"\b(do|does|what do|how do|what does) (ordinary |regular |average |most |normal |the )?"
        r"(north koreans?|people in (north korea|nk|the north)|nk people|koreans|citizens)"
        r"( really| actually| still| even)? (think|feel|believe|like|love|hate|want|support|"
        r"consider|say)\b"
    ),
    # The UN's sanctions: the articles' sanctions answers are about US law.
    "un-sanctions": re.compile(
        r"\b(un|united nations|security council|unsc)\b.{0,60}\b(lift|ease|end|remove|waive|"
        r"drop)\w*\b.{0,30}\bsanction|\b(lift|ease|end|remove|waive|drop)\w*\b.{0,40}\b(un|"
        r"united nations|security council|unsc)\b.{0,15}sanction"
    ),
}
# Kinds whose decline still offers the closest entry when it scores as an answer would: a
# question to a person often asks what the articles report ("did you raise human rights?"),
# and "do you think the UN should refer Kim to the ICC?" is what the UN inquiry recommended.
OFFERING = frozenset({"addressed", "opinion"})
BEYOND_REPLIES = {
    "opinion": "I have no opinions or feelings of my own to give:",
    "addressed": "That question is put to a person (a leader, an official, a witness), and I"
    " cannot answer for them:",
    "later": "My articles were written in 2018 and 2019, so they cannot say what happened since:",
    "prediction": "I can't say what will happen: my articles were written in 2018 and 2019, and",
    "advice": "What ought to be done is a judgement I leave to you:",
    "people-think": "No article asked ordinary North Koreans what they think:",
    "un-sanctions": "My articles discuss US sanctions law, not how UN sanctions are lifted:",
}
BEYOND_TAIL = (
    "I report what my five articles (Vox, Human Rights Watch, Just Security, TIME and HuffPost)"
    " say, with quotes. You can ask what they say, for example: what did Human Rights Watch"
    " say about the Singapore summit?"
)


def attributed(words: str) -> bool:
    """Whether the question asks what an article, a writer or a group says: "why does Vox say
    sanctions can't be lifted?" asks for the writer's reasons, which the entry quoting them
    gives. `words` as for beyond_articles."""
    return bool(_ATTRIBUTED.search(words))


def beyond_articles(words: str) -> str | None:
    """The kind of question the articles cannot answer by nature (the bot's opinion, one put
    to a person in the news, a prediction, advice, what ordinary North Koreans think, the UN's
    sanctions), or None.
    `words` is the question lower-cased and stripped of punctuation. One asking what an
    article or a writer says is never such a question."""
    if _ATTRIBUTED.search(words):
        return None
    return next((kind for kind, pattern in _BEYOND.items() if pattern.search(words)), None)


# A message that opens by addressing someone by title ("Madam Ambassador, will the Council…",
# "Secretary Pompeo: …"): a question to them, whatever follows, even without "you".
_VOCATIVE = re.compile(
    r"^\W*(?:(?:mr|mrs|ms|madam|madame|dr)\.?\s+)?(?:president|chairman|chairwoman|secretary|"
    r"senator|ambassador|minister|sir|congressman|congresswoman|judge|professor|prof|"
    r"governor|commissioner|rapporteur|mayor|reverend|[a-z][\w'-]*)"
    r"(?:\s+[\w'-]+){0,2}?\s*[,:]\s*(?P<rest>.*)",
    re.IGNORECASE | re.DOTALL,
)
_TITLED = re.compile(
    r"^\W*(?:mr|mrs|ms|madam|madame|dr|president|chairman|chairwoman|secretary|"
    r"senator|ambassador|minister|sir|congressman|congresswoman|judge|professor|prof|"
    r"governor|commissioner|rapporteur|mayor|reverend)\b",
    re.IGNORECASE,
)
_THIRD_PERSON = re.compile(r"\b(he|she|his|her|him)\b", re.IGNORECASE)


def addressed(text: str) -> bool:
    """Whether the message opens by addressing a person by title (the raw text: the comma
    after the title is what tells "Senator, do…" from "Senator Smith said…"). One that goes on
    about "he" or "she" ("President Trump, what did he say…?") is about them, not to them."""
    found = _VOCATIVE.match(text) if _TITLED.match(text) else None
    return bool(found) and not _THIRD_PERSON.search(found.group("rest"))


def beyond_reply(kind: str) -> str:
    """Why the bot declines such a question: it reports, it does not judge or foresee."""
    head = BEYOND_REPLIES.get(kind, "That is not something my articles can answer:")
    return f"{head} {BEYOND_TAIL}"

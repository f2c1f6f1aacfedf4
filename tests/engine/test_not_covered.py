"""What the not-covered list declines, as a user notices it: a question the five articles
answer is answered, not refused under a topic worded too broadly; what they lack is still
declined by name; and a synonym never turns a question into another one."""

from __future__ import annotations

import pytest

from bot.engine import knowledge as kb
from bot.engine.matcher import Matcher, Status


@pytest.mark.parametrize(
    ("question", "fact"),
    [
        # TIME and Vox both say he survived Auschwitz (once refused as "his life beyond the report")
        ("did buergenthal survive auschwitz", "Auschwitz"),
        # HuffPost: "the ruling party's 70-year hold on power" (once refused as the Workers' Party)
        ("how long has the ruling party been in power", "70-year"),
        # HuffPost: the inquiry urged the Security Council to refer North Korea to the ICC
        (
            "should the security council refer north korea to the icc",
            "International Criminal Court",
        ),
        # Vox: "a North Korea expert at the conservative Heritage Foundation"
        ("what is olivia enos's background", "Heritage Foundation"),
        # Just Security: North Korea must "restore access to the International Atomic Energy
        # Agency"
        ("does the iaea have access to north korea", "International Atomic Energy Agency"),
        # HRW: "continued public executions" (once refused as figures, or as the laws named
        # after Warmbier)
        ("does north korea execute people", "executions"),
        ("does north korea have the death penalty", "executions"),
        # HuffPost: "Kim's police and security forces use violence and punishments ..."
        ("what do north korea's police and security forces do", "security forces"),
        # TIME: the 2017 report's co-author said the camps are as bad as the Nazis' (once refused as
        # where to download reports, the IBA inquiry being read as the UN commission of inquiry)
        ("what did the iba inquiry find", "Nazis"),
        # HRW: "an absolute prohibition on any civil and political rights" (once refused as what
        # North Korea's constitution says about free speech)
        ("what about free speech in north korea", "civil and political rights"),
        # HuffPost: police and security forces create "a climate of fear" (once refused)
        ("how does kim jong un run the country", "climate of fear"),
        # HRW: speaking out or protesting is "a one-way ticket to the kwan-li-so" (once refused)
        ("what can get a north korean into trouble with the authorities", "one-way ticket"),
    ],
)
def test_a_question_the_articles_answer_is_not_refused(
    matcher: Matcher, question: str, fact: str
) -> None:
    result = matcher.match(question)
    assert result.reason != "not-covered", (question, result.about)
    assert result.status is Status.ANSWERED, (question, result.status, result.candidates[:3])
    assert fact in result.entry.answer


@pytest.mark.parametrize(
    ("question", "named"),
    [
        ("which court did buergenthal sit on", "Buergenthal"),
        ("what is north korea's ruling party called", "ruling party"),
        ("did the security council refer north korea to the icc", "Security Council"),
        ("who is the un special rapporteur on north korea now", "special rapporteur"),
        ("where has olivia enos worked since heritage", "Enos"),
        ("has north korea joined the ilo since 2019", "International Labour Organization"),
        # any American tourist is not Otto Warmbier: not the answer on why he was arrested
        ("can an american tourist visit north korea", "tourists"),
        # free speech is answered, but not what the constitution promises about it
        ("what does north korea's constitution say about free speech", "constitution"),
    ],
)
def test_what_the_articles_lack_is_still_declined_by_name(
    matcher: Matcher, question: str, named: str
) -> None:
    """Narrowed topics keep declining what the articles really do not say."""
    result = matcher.match(question)
    assert result.status is Status.DECLINED and result.reason == "not-covered", (
        question,
        result.status,
        result.entry.id if result.entry else None,
    )
    assert named in result.about


def test_the_world_court_is_not_taken_for_the_icc(matcher: Matcher) -> None:
    """ "World Court" is the International Court of Justice, which no article mentions: the
    ICC answer (a referral the UN inquiry urged) would answer another question."""
    result = matcher.match("Has North Korea been taken to the World Court?")
    assert result.status is Status.DECLINED, (result.status, result.entry and result.entry.id)
    assert "International Court of Justice" in result.about


def test_rocket_man_is_declined_as_the_insult_not_as_kims_age(matcher: Matcher) -> None:
    result = matcher.match("little rocket man")
    assert result.status is Status.DECLINED
    assert "Rocket Man" in result.about
    assert "old" not in result.about


@pytest.mark.parametrize(
    ("words", "not_read_as"),
    [
        ("world court", "icc"),  # the International Court of Justice
        ("little rocket man", "kim"),  # Trump's insult
        ("is moscow helping north korea", "soviet"),  # Moscow today is Russia
        ("what did trump's predecessor do", "father"),  # Obama, not Kim Jong Il
        ("does north korea punish families", "accountability"),  # the state punishing, not justice
        ("does the state monitor its citizens", "special rapporteur"),  # surveillance
        ("did trump drop human rights", "lift"),  # not the lifting of sanctions
        ("did north korea pause missile tests", "lift"),
        ("why did trump walk out in hanoi", "withdraw"),  # not leaving the UN rights body
        ("who was the us special representative", "envoy"),  # a nuclear negotiator
        ("what did human rights experts say", "special rapporteur"),  # Vox's experts
        ("the iba inquiry", "commission of inquiry"),  # the UN's was another body
        ("does north korea have the death penalty", "sanction"),
        ("what does the heritage foundation do", "enos"),  # the think tank, not Vox's analyst
        ("can an american tourist go there", "warmbier"),  # but "the American tourist" is him
    ],
)
def test_synonyms_do_not_change_what_was_asked(
    knowledge: kb.Knowledge, words: str, not_read_as: str
) -> None:
    normalizer = knowledge.normalizer
    canonical = normalizer.tokens(not_read_as)
    tokens = normalizer.tokens(words)
    assert not any(tokens[i : i + len(canonical)] == canonical for i in range(len(tokens))), (
        words,
        tokens,
    )


@pytest.mark.parametrize(
    ("detail", "named", "related", "entry_id"),
    [
        # Just Security says only that Pyongyang sent him back in June 2017, not who fetched him
        # (a phrasing "how was he freed" once took "when was he released" too)
        (
            "who went to pyongyang to get otto warmbier out",
            "Warmbier's release",
            "when did north korea release otto warmbier",
            "warmbier-return-and-death",
        ),
        # ... and that he came back unconscious and died from injuries suffered in captivity,
        # with no medical finding (a topic on his coma once took "was he in a coma?" too)
        (
            "what did the ohio coroner conclude about warmbier",
            "coroner",
            "was warmbier in a coma when he came home",
            "warmbier-return-and-death",
        ),
        (
            "did north korea say warmbier got botulism",
            "botulism",
            "was warmbier in a coma",
            "warmbier-return-and-death",
        ),
        # HRW's photo caption dates the Singapore meeting, but no article gives the hour
        (
            "at what time was the handshake in singapore",
            "hour-by-hour",
            "when did trump and kim meet in singapore",
            "summits-singapore",
        ),
        # TIME discusses an announcement ending the war, not the 1953 armistice or a treaty
        (
            "has a peace treaty ever ended the korean war",
            "armistice",
            "what would an announcement of the end of the korean war do for human rights",
            "benchmarks-end-war-reunions",
        ),
        # the separated families are TIME's subject; the North's attacks since 1953 are not
        (
            "did the north ever attack the south after the ceasefire",
            "Yeonpyeong",
            "families separated by the korean war",
            "benchmarks-end-war-reunions",
        ),
        # the articles cover two summits abroad, not an invitation to Washington or Pyongyang
        (
            "was kim jong un ever invited to america",
            "invitations",
            "when was the singapore summit",
            "summits-singapore",
        ),
        # TIME covers what Trump did about Warmbier in Hanoi, not his words when Otto died
        (
            "how did trump react when warmbier died back in 2017",
            "when he died in 2017",
            "what did trump say about warmbier in hanoi",
            "warmbier-hanoi-face-value",
        ),
    ],
)
def test_a_detail_the_articles_lack_is_declined_but_its_subject_still_answered(
    matcher: Matcher, detail: str, named: str, related: str, entry_id: str
) -> None:
    """A detail of a covered subject is declined by name instead of getting the nearest entry,
    which does not hold the fact; the subject's own question keeps its answer."""
    result = matcher.match(detail)
    assert result.status is Status.DECLINED and result.reason == "not-covered", (
        detail,
        result.status,
        result.entry.id if result.entry else None,
    )
    assert named in result.about
    answered = matcher.match(related)
    assert answered.status is Status.ANSWERED, (related, answered.status)
    assert answered.entry.id == entry_id


def test_how_many_are_in_the_camps_is_not_refused_as_a_single_camps_count(
    matcher: Matcher,
) -> None:
    """Phrasings on one camp's inmates ("camp 15") once made "kwanliso numbers" a refusal,
    though HuffPost gives the count for all the camps: it is one tap away at worst."""
    result = matcher.match("kwanliso numbers")
    assert result.reason != "not-covered", result.about
    shown = [result.entry] if result.entry else [c.entry for c in result.candidates]
    assert any("120,000" in e.answer for e in shown)

"""Briefings without Telegram: composing, rotation, schedules, what is due, and the store."""

from __future__ import annotations

import datetime as dt
import textwrap

import pytest
from botapi import parse_html

from bot.engine import briefings as b
from bot.engine import knowledge as kb
from bot.engine import render
from bot.storage import Store, Subscription, open_store
from bot.text import fold

UTC = dt.UTC
BERLIN = "Europe/Berlin"


def at(text: str, zone: str = "UTC") -> dt.datetime:
    from zoneinfo import ZoneInfo

    return dt.datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(zone))


def source_text(knowledge: kb.Knowledge, source_id: str) -> str:
    path = knowledge.root / "sources" / knowledge.sources[source_id].file
    return fold(path.read_text(encoding="utf-8"))


# -- composing ------------------------------------------------------------------------------------
def test_every_fact_is_a_verbatim_quote_of_its_topic(knowledge: kb.Knowledge) -> None:
    facts = b.topic_facts(knowledge)
    assert set(facts) == set(knowledge.topics)
    for topic_id, pool in facts.items():
        assert len(pool) >= b.MIN_FACTS
        assert len({f.id for f in pool}) == len(pool)
        for fact in pool:
            assert knowledge.entries[fact.entry].topic == topic_id
            assert fold(fact.quote) in source_text(knowledge, fact.source.id)


def test_a_briefing_has_a_title_three_to_six_attributed_facts_and_links(
    knowledge: kb.Knowledge,
) -> None:
    for topic_id in knowledge.topics:
        briefing = b.pick(knowledge, b.Rotation(), topic_id).briefing
        html = b.briefing_html(briefing)
        text, entities = parse_html(html)  # what Telegram would accept and show
        assert len(text) <= 4096 and len(html) <= 4096
        assert b.MIN_FACTS <= len(briefing.facts) <= b.MAX_FACTS
        assert text.startswith(f"Briefing: {briefing.topic.title}")
        assert text.count("\n• “") == len(briefing.facts)
        for fact in briefing.facts:
            assert fact.quote in text
            assert f"— {render.credit(fact.source)}, " in text
        links = {e["url"] for e in entities if e["type"] == "text_link"}
        assert links == {s.url for s in briefing.sources}


def test_inferred_dates_say_about(knowledge: kb.Knowledge) -> None:
    briefing = b.pick(knowledge, b.Rotation(), "camps").briefing
    text = b.briefing_text(briefing)
    for fact in briefing.facts:
        if "date" in fact.source.inferred:
            assert f"— {render.credit(fact.source)}, about " in text
        else:
            assert f"— {render.credit(fact.source)}, {fact.source.date.day} " in text


def test_the_terminal_preview_has_the_same_facts(knowledge: kb.Knowledge) -> None:
    briefing = b.pick(knowledge, b.Rotation(), "warmbier").briefing
    text, _ = parse_html(b.briefing_html(briefing))
    preview = b.briefing_text(briefing)
    for fact in briefing.facts:
        assert fact.quote in preview and fact.quote in text
    assert all(s.url in preview for s in briefing.sources)


def test_faq_text_is_escaped(minimal_knowledge) -> None:
    faq = textwrap.dedent(
        """\
        topic:
          id: camps
          title: Camps <b>& "gulags"</b>
          summary: The kwan-li-so and who is held there.
        entries:
          - id: camps-denial
            questions:
              - Does North Korea admit the camps exist?
            answer: Amnesty International USA wrote that the government denies the camps exist.
            citations:
              - source: time
                quote: "The North Korean government, however, continues to deny that they exist."
              - source: time
                quote: "Up to 120,000 people remain in detention"
        """
    )
    knowledge = kb.load(minimal_knowledge(faq))
    html = b.briefing_html(b.pick(knowledge, b.Rotation()).briefing)
    text, _ = parse_html(html)  # strict: a bare & or a stray tag would raise
    assert 'Camps <b>& "gulags"</b>' in text


def test_a_quote_inside_a_longer_one_or_an_attribution_is_no_fact(minimal_knowledge) -> None:
    faq = textwrap.dedent(
        """\
        topic: {id: camps, title: Political prison camps, summary: The kwan-li-so and more.}
        entries:
          - id: camps-how-many
            questions:
              - How many people are held?
            answer: Amnesty International USA wrote that up to 120,000 people are held.
            citations:
              - source: time
                quote: >-
                  Up to 120,000 people remain in detention in four known political prison camps
          - id: camps-where
            questions:
              - Where are they held?
            answer: Amnesty International USA wrote that they are held in four known camps.
            citations:
              - source: time
                quote: "Up to 120,000 people remain in detention"
              - source: time
                quote: "Bencosme is advocacy manager"
                attribution: true  # says who wrote, not what: no fact for a briefing
        """
    )
    facts = b.topic_facts(kb.load(minimal_knowledge(faq)))["camps"]
    assert [f.quote for f in facts] == [
        "Up to 120,000 people remain in detention in four known political prison camps"
    ]


def test_a_briefing_on_a_person_holds_only_facts_that_name_them(knowledge: kb.Knowledge) -> None:
    """The Warmbier entries cite the scene around him too (Ji Sung-ho at the State of the
    Union, Trump's softened posture): read alone under "Otto Warmbier" those would be facts
    about someone else."""
    facts = b.topic_facts(knowledge)["warmbier"]
    assert len(facts) >= b.MIN_FACTS
    assert all("Warmbier" in f.quote for f in facts), [f.quote for f in facts]
    briefing = b.pick(knowledge, b.Rotation(), "warmbier").briefing
    assert not any("Ji Sung-ho" in f.quote or "softened" in f.quote for f in briefing.facts)


def test_a_briefing_on_an_issue_keeps_every_quote_of_its_entries(minimal_knowledge) -> None:
    faq = """\
        topic: {id: people, title: Bencosme, summary: Who wrote in TIME.}
        entries:
          - id: people-bencosme
            questions:
              - Who is Bencosme?
            answer: Bencosme wrote in TIME that up to 120,000 people are held.
            citations:
              - source: time
                quote: "Bencosme is advocacy manager for Asia Pacific at Amnesty International USA"
              - source: time
                quote: >-
                  Up to 120,000 people remain in detention in four known political prison camps
        """
    named = b.topic_facts(kb.load(minimal_knowledge(faq)))["people"]
    assert [f.quote[:8] for f in named] == ["Bencosme"]
    issue = faq.replace("title: Bencosme", "title: Who wrote for TIME")
    assert len(b.topic_facts(kb.load(minimal_knowledge(issue)))["people"]) == 2


# -- rotation -------------------------------------------------------------------------------------
def test_rotation_shows_every_fact_once_before_any_repeats(knowledge: kb.Knowledge) -> None:
    everything = {f.id for pool in b.topic_facts(knowledge).values() for f in pool}
    rotation, shown, topics = b.Rotation(), [], []
    while len(shown) < 2 * len(everything):
        chosen = b.pick(knowledge, rotation)
        assert b.MIN_FACTS <= len(chosen.briefing.facts) <= b.MAX_FACTS
        shown += [f.id for f in chosen.briefing.facts]
        topics.append(chosen.briefing.topic.id)
        rotation = chosen.rotation
    first_repeat = next(i for i, fact in enumerate(shown) if fact in shown[:i])
    assert first_repeat == len(everything)
    homes = b.home_facts(b.topic_facts(knowledge))
    full = [t for t in knowledge.topics if len(homes.get(t, [])) >= b.MIN_FACTS]
    assert topics[: len(full)] == full  # topics with a briefing's worth take turns first
    assert set(topics) == set(homes)  # and every topic comes round


def test_a_topic_rotation_uses_up_the_topic_then_starts_again(knowledge: kb.Knowledge) -> None:
    pool = [f.id for f in b.topic_facts(knowledge)["camps"]]
    rotation, shown = b.Rotation(), []
    while len(shown) < len(pool):
        chosen = b.pick(knowledge, rotation, "camps")
        assert chosen.briefing.topic.id == "camps"
        shown += [f.id for f in chosen.briefing.facts]
        rotation = chosen.rotation
    assert sorted(shown) == sorted(pool)
    again = b.pick(knowledge, rotation, "camps")
    assert [f.id for f in again.briefing.facts] == pool[: len(again.briefing.facts)]


def test_a_vanished_topic_falls_back_to_the_rotation(knowledge: kb.Knowledge) -> None:
    chosen = b.pick(knowledge, b.Rotation(), "no-such-topic")
    assert chosen.briefing.topic.id == next(iter(knowledge.topics))


# -- topics as users type them --------------------------------------------------------------------
@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("camps", "camps"),
        ("Political prison camps", "camps"),
        ("prison camps", "camps"),
        ("camsp", "camps"),
        ("warmbeir", "warmbier"),
        ("Otto", "warmbier"),
        ("forced labor", "forced-labour"),
        ("summit", "summits"),
        ("tell me about the camps", "camps"),
        ("sanctoins", "sanctions"),
    ],
)
def test_topics_are_found_leniently(knowledge: kb.Knowledge, query: str, expected: str) -> None:
    assert b.find_topic(knowledge, query).topic.id == expected


def test_unknown_and_ambiguous_topics(knowledge: kb.Knowledge) -> None:
    unknown = b.find_topic(knowledge, "pizza in naples")
    assert unknown.topic is None and not unknown.ambiguous
    html = b.unknown_topic_html("pizza <in> naples", unknown, knowledge)
    text, _ = parse_html(html)
    assert "pizza <in> naples" in text and all(t in text for t in knowledge.topics)
    vague = b.find_topic(knowledge, "human rights")
    assert vague.topic is None and vague.ambiguous and len(vague.candidates) >= 2


# -- schedules ------------------------------------------------------------------------------------
def test_subscribe_defaults_all_topics_daily_at_nine_utc() -> None:
    assert b.parse_request([]) == (None, b.Schedule(9, 0, None, "UTC"))
    assert b.parse_request(["all"]) == (None, b.Schedule(9, 0, None, "UTC"))


@pytest.mark.parametrize(
    ("args", "topic", "schedule"),
    [
        ("camps", "camps", b.Schedule(9, 0)),
        ("prison camps daily 18:30", "prison camps", b.Schedule(18, 30)),
        ("camps weekly mon 08:00 Europe/Berlin", "camps", b.Schedule(8, 0, 0, BERLIN)),
        ("all weekly Friday 7:05", None, b.Schedule(7, 5, 4)),
        ("weekly sun", None, b.Schedule(9, 0, 6)),
        ("daily 21:00 america/new_york", None, b.Schedule(21, 0, None, "America/New_York")),
        ("sanctions 06:15 utc", "sanctions", b.Schedule(6, 15)),
        ("warmbier tue 10:00", "warmbier", b.Schedule(10, 0, 1)),
    ],
)
def test_subscribe_requests_are_parsed(args: str, topic, schedule: b.Schedule) -> None:
    assert b.parse_request(args.split()) == (topic, schedule)


@pytest.mark.parametrize(
    ("args", "says"),
    [
        ("daily 25:00", "not a time of day"),
        ("daily 09:00 Mars/Olympus", "time zone"),
        ("weekly 09:00", "needs a day"),
        ("daily mon 09:00", "no day"),
        ("camps daily 09:00 tomorrow", "tomorrow"),
        ("daily weekly mon", "once"),
        ("09:00 10:00", "one time"),
    ],
)
def test_bad_subscribe_requests_say_what_is_wrong(args: str, says: str) -> None:
    with pytest.raises(b.UsageError, match=says):
        b.parse_request(args.split())


def test_usage_lists_the_defaults() -> None:
    text, _ = parse_html(b.usage_html("I don't understand “x”."))
    assert "daily at 09:00, UTC" in text and "/subscribe camps weekly mon 08:30" in text


def test_schedule_spec_round_trips() -> None:
    for schedule in (b.Schedule(9, 0), b.Schedule(23, 59, 6, BERLIN)):
        assert b.Schedule.from_spec(schedule.spec, schedule.timezone) == schedule
    assert b.Schedule(8, 5, 0).spec == "weekly mon 08:05"


def test_latest_and_following_occurrences_in_local_time_across_dst() -> None:
    daily = b.Schedule(9, 0, None, BERLIN)
    # 30 March 2025: Berlin moves from UTC+1 to UTC+2.
    assert daily.latest(at("2025-03-30 08:00")) == at("2025-03-30 09:00", BERLIN)
    assert daily.latest(at("2025-03-30 06:59")) == at("2025-03-29 09:00", BERLIN)
    assert daily.latest(at("2025-03-30 06:59")).astimezone(UTC).hour == 8
    assert daily.latest(at("2025-03-30 07:00")).astimezone(UTC).hour == 7
    assert daily.following(at("2025-03-30 07:00")) == at("2025-03-31 09:00", BERLIN)
    weekly = b.Schedule(9, 0, 0)  # Mondays, UTC
    assert weekly.latest(at("2025-11-26 12:00")) == at("2025-11-24 09:00")
    assert weekly.following(at("2025-11-24 09:00")) == at("2025-12-01 09:00")
    assert weekly.latest(at("2025-11-24 09:00")) == at("2025-11-24 09:00")


def subscription(created: str, last_sent: str | None = None, **kw) -> Subscription:
    fields = {"chat_id": -1, "topic": None, "schedule": "daily 09:00", "timezone": "UTC"}
    fields |= {"paused": False} | kw
    return Subscription(
        **fields,
        last_sent=at(last_sent).timestamp() if last_sent else None,
        created_at=at(created).timestamp(),
    )


def test_due_once_per_occurrence_and_never_for_one_before_subscribing() -> None:
    sub = subscription("2025-11-20 12:00")
    assert b.due_at(sub, at("2025-11-21 08:59")) is None
    assert b.due_at(sub, at("2025-11-21 09:00")) == at("2025-11-21 09:00")
    sent = subscription("2025-11-20 12:00", last_sent="2025-11-21 09:00:01")
    assert b.due_at(sent, at("2025-11-21 09:05")) is None
    assert b.due_at(sent, at("2025-11-22 09:00:30")) == at("2025-11-22 09:00")
    late_subscriber = subscription("2025-11-21 09:30")
    assert b.due_at(late_subscriber, at("2025-11-21 10:00")) is None
    assert b.due_at(subscription("2025-11-20 12:00", paused=True), at("2025-11-21 09:00")) is None


def test_a_missed_briefing_is_caught_up_within_three_hours_only() -> None:
    sub = subscription("2025-11-01 00:00", last_sent="2025-11-20 09:00")
    assert b.due_at(sub, at("2025-11-21 11:59")) == at("2025-11-21 09:00")
    assert b.due_at(sub, at("2025-11-21 12:01")) is None
    # Down for days: only the latest occurrence counts, so there is never a burst.
    assert b.due_at(sub, at("2025-11-25 10:00")) == at("2025-11-25 09:00")


# -- the service over the store -------------------------------------------------------------------
def test_the_service_keeps_each_chats_rotation(
    knowledge: kb.Knowledge, store: Store, store_url: str
) -> None:
    svc = b.Briefings(lambda: knowledge, store)
    first = svc.next_for(-5)
    assert svc.next_for(-5) == first  # nothing is recorded until it was shown
    svc.shown(-5, first)
    second = svc.next_for(-5)
    assert second.briefing.topic != first.briefing.topic
    assert not {f.id for f in first.briefing.facts} & {f.id for f in second.briefing.facts}
    assert svc.next_for(-6) == first  # another chat has its own rotation
    reopened = b.Briefings(lambda: knowledge, open_store(store_url))
    assert reopened.next_for(-5) == second


def test_due_lists_what_the_store_holds(knowledge: kb.Knowledge, store: Store) -> None:
    svc = b.Briefings(lambda: knowledge, store)
    created = at("2025-11-20 12:00").timestamp()
    svc.subscribe(-5, "camps", b.Schedule(9, 0), now=created)
    svc.subscribe(-6, None, b.Schedule(10, 0), now=created)
    due = svc.due(at("2025-11-21 09:30").timestamp())
    assert [d.subscription.chat_id for d in due] == [-5]
    assert svc.describe(due[0].subscription) == "Political prison camps, every day at 09:00 (UTC)"

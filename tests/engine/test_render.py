"""Source lines as users read them: each field exactly as sure as the registry says."""

from __future__ import annotations

from html import escape

from botapi import parse_html

from bot.engine import knowledge as kb
from bot.engine import render
from bot.engine.briefings import Briefing, Fact, briefing_html
from bot.engine.matcher import Result, Status
from bot.engine.models import Entry


def test_an_unknown_headline_shows_the_standfirst_as_such(knowledge: kb.Knowledge) -> None:
    huffpost = knowledge.sources["huffpost"]
    assert huffpost.headline is None
    line = render.source_line(huffpost)
    assert line.startswith("HuffPost, standfirst “The U.S. is treating human rights like")
    assert "(headline unknown)" in line and "about June 2018" in line


def test_inferred_author_and_affiliation_are_marked(knowledge: kb.Knowledge) -> None:
    assert "by Alex Ward (inferred), 27 February 2019" in render.source_line(
        knowledge.sources["vox"]
    )
    just_security = render.source_line(knowledge.sources["justsecurity"])
    assert just_security.startswith("Just Security, republished by Human Rights Watch, “Why")
    assert "no byline (author inferred to be Human Rights Watch staff)" in just_security


def test_outlet_and_affiliation_are_named_apart(knowledge: kb.Knowledge) -> None:
    credits = {s.id: render.credit(s) for s in knowledge.sources.values()}
    assert credits == {
        "vox": "Vox",  # its author is only inferred: left out of a short credit
        "justsecurity": "Just Security, republished by Human Rights Watch",
        "time": "TIME, by Bencosme (Amnesty International USA)",
        "hrw": "Human Rights Watch, by Phil Robertson",
        "huffpost": "HuffPost, by Param-Preet Singh (Human Rights Watch)",
    }


def test_the_html_line_links_the_outlet_and_escapes_the_rest(knowledge: kb.Knowledge) -> None:
    html = render.source_line_html(knowledge.sources["huffpost"])
    assert html.startswith('<a href="https://www.huffpost.com/')
    assert '">HuffPost</a>, standfirst “' in html and "they&#x27;re" in html


def test_an_article_cited_three_times_is_named_once_with_its_quotes_together(
    knowledge: kb.Knowledge,
) -> None:
    entry = knowledge.entries["access-closed"]
    assert [c.source for c in entry.citations] == ["time", "time", "time"]
    html = render.answer_html(entry, knowledge)
    assert html.count(">TIME</a>") == 1
    assert html.count("<blockquote expandable>") == 1
    assert all(escape(c.quote) in html for c in entry.citations)
    text = render.plain(Result(question="q", status=Status.ANSWERED, entry=entry), knowledge)
    assert text.count("TIME, ") == 1
    assert all(f"\u201c{c.quote}\u201d" in text for c in entry.citations)


# -- on a phone ----------------------------------------------------------------------------------
def folded_and_shown(html: str) -> tuple[str, str]:
    """What Telegram shows of an answer before its expandable blocks are opened, and the whole
    text: parsed as Telegram parses it, so tags do not count."""
    whole, entities = parse_html(html)
    shown = whole
    folds = [e for e in entities if e["type"] == "expandable_blockquote"]
    for block in sorted(folds, key=lambda e: -e["offset"]):  # offsets: UTF-16, all BMP here
        shown = shown[: block["offset"]] + shown[block["offset"] + block["length"] :]
    return shown, whole


def test_an_answer_shows_little_beyond_its_text_before_the_fold(knowledge: kb.Knowledge) -> None:
    """On a phone the answer is what counts: each article gets one short line in view (outlet,
    author as far as confirmed, date); headline, full byline and quotes are folded."""
    for entry in knowledge.entries.values():
        html = render.answer_html(entry, knowledge)
        shown, whole = folded_and_shown(html)
        articles = render.citations_by_source(entry, knowledge)
        assert len(whole) <= render.TELEGRAM_LIMIT and len(html) <= render.TELEGRAM_LIMIT
        heading = len(render.understood(entry)) + 1  # the question line over the answer
        assert len(shown) - len(entry.answer) - heading <= 12 + 80 * len(articles), entry.id
        for source, quotes in articles:
            assert shown.count(source.outlet) >= 1 and render.human_date(source) in shown
            assert render.title(source) in whole  # folded, not dropped
            assert all(quote in whole for quote in quotes)
            if source.inferred:
                assert "inferred" in whole or "about " in whole


def test_an_answer_too_long_for_one_message_keeps_its_sources_and_drops_the_quotes(
    knowledge: kb.Knowledge,
) -> None:
    quote = "Up to 120,000 people remain in detention in four known political prison camps " * 6
    entry = Entry.model_validate(
        {
            "id": "camps-long",
            "questions": ["How long can an answer be?"],
            "answer": "An answer of the longest kind. " * 22,
            "citations": [{"source": s, "quote": quote} for s in knowledge.sources] * 2,
        }
    )
    html = render.answer_html(entry, knowledge)
    whole = parse_html(html)[0]
    assert len(html) <= render.TELEGRAM_LIMIT and len(whole) <= render.TELEGRAM_LIMIT
    assert all(s.outlet in whole for s in knowledge.sources.values())


def test_a_briefing_with_too_many_long_facts_still_fits_one_message(
    knowledge: kb.Knowledge,
) -> None:
    topic = next(iter(knowledge.topics.values()))
    source = knowledge.sources["time"]
    facts = tuple(
        Fact(f"f{n}", topic.id, "camps-how-many", source, f"fact {n} " + "long words " * 60)
        for n in range(12)
    )
    html = briefing_html(Briefing(topic, facts))
    assert len(parse_html(html)[0]) <= render.TELEGRAM_LIMIT and len(html) <= 4096
    assert html.count("• ") >= 3


def test_inline_titles_and_descriptions_fit_a_phone_cut_at_a_word(
    knowledge: kb.Knowledge,
) -> None:
    for entry in knowledge.entries.values():
        title, description = render.inline_title(entry), render.inline_description(entry)
        assert 1 <= len(title) <= render.INLINE_TITLE
        assert 1 <= len(description) <= render.INLINE_DESCRIPTION
        for shown, full in ((title, entry.questions[0]), (description, entry.answer)):
            if shown != full:
                kept = shown.removesuffix("…")
                assert shown.endswith("…") and full.startswith(kept)
                assert full[len(kept)] in " ,;:-–—"  # cut between words, not inside one


# -- what the bot understood ---------------------------------------------------------------------
def test_every_answer_opens_with_the_question_it_answers(knowledge: kb.Knowledge) -> None:
    """Whichever phrasing routed a question to an entry, the reader sees first which question
    the bot answered, in one short line, in every form an answer takes."""
    for entry in list(knowledge.entries.values())[:20]:
        result = Result(question="anything", status=Status.ANSWERED, entry=entry)
        line = render.understood(entry)
        assert len(line) <= render.UNDERSTOOD and "\n" not in line
        assert line[:-1] in entry.questions[0]
        whole, _ = parse_html(render.answer_html(entry, knowledge))
        assert whole.splitlines()[0] == line
        assert render.plain(result, knowledge).splitlines()[0] == f"Q: {line}"
        assert render.result_dict(result, knowledge)["understood"] == line


def test_an_entry_close_behind_is_offered_under_the_answer(knowledge: kb.Knowledge) -> None:
    from bot.engine.matcher import Candidate

    first, second = knowledge.entries["summits-hanoi"], knowledge.entries["summits-singapore"]
    result = Result(
        question="q",
        status=Status.ANSWERED,
        entry=first,
        alternatives=(Candidate(second, 60.0),),
    )
    text = render.plain(result, knowledge)
    assert text.rstrip().endswith(f"{render.NOT_WHAT_YOU_ASKED} Perhaps: {second.questions[0]}")
    assert render.result_dict(result, knowledge)["not_what_you_asked"] == [
        {"entry_id": second.id, "question": second.questions[0]}
    ]


def test_a_multi_part_answer_shows_each_part_with_its_sources_within_the_limit(
    knowledge: kb.Knowledge,
) -> None:
    entries = list(knowledge.entries.values())
    first, rest = entries[0], tuple(entries[1:8])
    html = render.answer_html(first, knowledge, also=rest)
    whole, _ = parse_html(html)
    assert len(whole) <= render.TELEGRAM_LIMIT and len(html) <= render.TELEGRAM_LIMIT
    two = render.answer_html(first, knowledge, also=rest[:1])
    for entry in (first, rest[0]):
        assert escape(entry.answer) in two and escape(render.understood(entry)) in two
    assert two.count("<b>Sources</b>") == 2

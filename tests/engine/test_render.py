"""Source lines as users read them: each field exactly as sure as the registry says."""

from __future__ import annotations

from html import escape

from bot.engine import knowledge as kb
from bot.engine import render
from bot.engine.matcher import Result, Status


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

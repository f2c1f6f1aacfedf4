"""`python -m bot validate`: every rule a maintainer can break, each with a broken fixture,
reported as `file:line: entry <id>: message`."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import MINIMAL_FAQ, ROOT

from bot.engine import knowledge as kb


def problems_of(root: Path) -> list[str]:
    with pytest.raises(kb.KnowledgeError) as caught:
        kb.load(root)
    return [str(p) for p in caught.value.problems]


def validate(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", "validate", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )


def test_real_knowledge_validates_with_a_summary() -> None:
    run = validate()
    assert run.returncode == 0, run.stderr
    assert "entries in" in run.stdout and "OK" in run.stdout
    for topic in ("camps", "sanctions", "warmbier", "benchmarks", "summits"):
        assert topic in run.stdout
    for source in ("vox", "justsecurity", "time", "hrw", "huffpost"):
        assert source in run.stdout


def test_minimal_fixture_is_valid(minimal_knowledge) -> None:
    knowledge = kb.load(minimal_knowledge())
    assert list(knowledge.entries) == ["camps-how-many", "camps-denial"]
    assert knowledge.entries["camps-denial"].topic == "camps"


BROKEN = {
    "yaml syntax": (
        MINIMAL_FAQ.replace("    questions:\n      - Does", "    questions:\n    - : [Does"),
        "YAML syntax error",
        None,
    ),
    "unknown field": (
        MINIMAL_FAQ.replace("  - id: camps-denial\n", "  - id: camps-denial\n    colour: red\n"),
        "unknown field 'colour'",
        "camps-denial",
    ),
    "missing answer": (
        MINIMAL_FAQ.replace(
            "    answer: >-\n      Amnesty International USA's Bencosme wrote in about February"
            " 2019 that the North Korean\n      government continues to deny that the camps"
            " exist.\n",
            "",
        ),
        "missing field 'answer'",
        "camps-denial",
    ),
    "unknown source": (
        MINIMAL_FAQ.replace(
            '      - source: time\n        quote: "The North',
            '      - source: times\n        quote: "The North',
        ),
        "unknown source 'times'",
        "camps-denial",
    ),
    "quote not in source": (
        MINIMAL_FAQ.replace(
            "continues to deny that they exist.", "has always denied that they exist."
        ),
        "quote is not verbatim in source 'time'",
        "camps-denial",
    ),
    "answer too long": (
        MINIMAL_FAQ.replace(
            "continues to deny that the camps exist.",
            "continues to deny that the camps exist. " + "More. " * 120,
        ),
        "the limit is 700",
        "camps-denial",
    ),
    "no phrasings": (
        MINIMAL_FAQ.replace(
            "    questions:\n      - Does North Korea admit the camps exist?\n",
            "    questions: []\n",
        ),
        "at least one phrasing",
        "camps-denial",
    ),
    "id without topic prefix": (
        MINIMAL_FAQ.replace("id: camps-denial", "id: denial"),
        "must start with its topic id",
        "denial",
    ),
    "markup in answer": (
        MINIMAL_FAQ.replace("continues to deny", "<b>continues</b> to deny"),
        "plain text",
        "camps-denial",
    ),
    "quote too short to carry a claim": (
        MINIMAL_FAQ.replace(
            'quote: "The North Korean government, however, continues to deny that they exist."',
            'quote: "deny that they exist."',
        ),
        "quote 'deny that they exist.' is 4 words: cite the sentence",
        "camps-denial",
    ),
    "inferred date stated as a plain month": (
        MINIMAL_FAQ.replace("wrote in about February 2019 that", "wrote in February 2019 that"),
        "answer says 'February 2019' as a date, but the date of source 'time' is only inferred",
        "camps-denial",
    ),
    "inferred date stated as 'as of' a month": (
        MINIMAL_FAQ.replace(
            "After the February 2019 Hanoi summit, Amnesty International USA's Bencosme wrote",
            "As of February 2019, Amnesty International USA wrote",
        ),
        "answer says 'February 2019' as a date",
        "camps-how-many",
    ),
    "id that cannot be a deep link": (
        MINIMAL_FAQ.replace("id: camps-denial", "id: camps-denial.v2"),
        "entry id 'camps-denial.v2' cannot be a deep link",
        "camps-denial.v2",
    ),
    "id too long for a deep link": (
        MINIMAL_FAQ.replace("id: camps-denial", "id: camps-" + "denial-" * 9 + "x"),
        "cannot be a deep link (t.me/<bot>?start=<id>): use 1-64",
        None,
    ),
    "unknown related entry": (
        MINIMAL_FAQ.replace(
            "  - id: camps-denial\n", "  - id: camps-denial\n    related: [camps-nowhere]\n"
        ),
        "related entry 'camps-nowhere' does not exist",
        "camps-denial",
    ),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_each_broken_fixture_is_named_with_file_line_and_entry(
    minimal_knowledge, case: str
) -> None:
    faq, message, entry = BROKEN[case]
    root = minimal_knowledge(faq)
    problems = problems_of(root)
    assert any(message in p for p in problems), problems
    hit = next(p for p in problems if message in p)
    path, line, *_ = hit.split(":")
    assert path.endswith("faq/camps.yaml")
    assert int(line) > 1  # the line of the entry or field, not the top of the file
    if entry:
        assert f"entry {entry}:" in hit


def test_the_reported_line_is_the_offending_one(minimal_knowledge) -> None:
    root = minimal_knowledge(BROKEN["quote not in source"][0])
    (hit,) = problems_of(root)
    line = int(hit.split(":")[1])
    text = (root / "faq" / "camps.yaml").read_text().splitlines()
    assert "has always denied" in text[line - 1]


def test_duplicate_ids_across_files(minimal_knowledge) -> None:
    minimal_knowledge()
    other = (
        MINIMAL_FAQ.replace("How many people are held", "What number of inmates are held")
        .replace("kwanliso numbers", "count of kwanliso inmates")
        .replace("Does North Korea admit", "Has Pyongyang ever conceded")
    )
    root = minimal_knowledge(other.replace("id: camps\n", "id: camps\n", 1), name="more.yaml")
    problems = problems_of(root)
    assert any("entry camps-how-many: duplicate id (first at" in p for p in problems), problems
    assert any("topic 'camps' is defined in two files" in p for p in problems), problems


def test_near_identical_phrasings_in_two_entries_are_ambiguous(minimal_knowledge) -> None:
    faq = MINIMAL_FAQ.replace(
        "      - Does North Korea admit the camps exist?",
        "      - Does North Korea admit the camps exist?\n"
        "      - how many people are held in the political prison camp",
    )
    problems = problems_of(minimal_knowledge(faq))
    assert any("near-identical" in p and "camps-how-many" in p for p in problems), problems


def test_curly_quotes_and_dashes_are_folded_when_checking_quotes(minimal_knowledge) -> None:
    # The article has a curly apostrophe in "Kim’s"; the maintainer types a straight one.
    faq = MINIMAL_FAQ.replace(
        'quote: "The North Korean government, however, continues to deny that they exist."',
        'quote: "Kim\'s words at face value concerning the death of the American citizen"',
    )
    assert kb.load(minimal_knowledge(faq))


def test_every_problem_is_listed_not_just_the_first(minimal_knowledge) -> None:
    faq = BROKEN["unknown field"][0].replace("id: camps-how-many", "id: how-many")
    problems = problems_of(minimal_knowledge(faq))
    assert len(problems) >= 2


def test_cli_exits_1_listing_problems_on_stderr(minimal_knowledge) -> None:
    root = minimal_knowledge(BROKEN["unknown source"][0])
    run = validate(str(root))
    assert run.returncode == 1
    assert "camps.yaml:" in run.stderr and "entry camps-denial: " in run.stderr
    assert "Traceback" not in run.stderr


def test_bad_synonyms_file_is_reported(minimal_knowledge) -> None:
    root = minimal_knowledge()
    (root / "synonyms.yaml").write_text("synonyms:\n  camp: [gulag\n", encoding="utf-8")
    (hit,) = problems_of(root)
    assert "synonyms.yaml:" in hit and "YAML syntax error" in hit


def test_missing_source_file_is_reported(minimal_knowledge) -> None:
    root = minimal_knowledge()
    (root / "sources" / "000_275ce570b2082f06.txt").unlink()
    problems = problems_of(root)
    assert any("sources.yaml:" in p and "source 'vox': no file" in p for p in problems), problems


def test_the_articles_are_kept_unchanged() -> None:
    """knowledge/sources holds the five articles as scraped; CI has ../shared/seeds beside."""
    seeds = ROOT.parent / "shared" / "seeds"
    if not seeds.is_dir():
        pytest.skip("../shared/seeds is not beside this checkout")
    for source in kb.load(ROOT / "knowledge").sources.values():
        ours = (ROOT / "knowledge" / "sources" / source.file).read_bytes()
        assert ours == (seeds / source.file).read_bytes(), source.file


@pytest.mark.parametrize(
    ("listed", "complaint"),
    [
        (
            'not_covered:\n  - id: kim-age\n    about: "how old Kim is"\n    questions:\n'
            '      - "How old is Kim?"\n      - "kwanliso numbers"\n',
            "'kwanliso numbers' is a phrasing of entry camps-how-many",
        ),
        (
            'not_covered:\n  - id: kim-age\n    about: "how old Kim is"\n    questions:\n'
            '      - "How old is Kim?"\n      - "kim age"\n    answer: "no"\n',
            "unknown field 'not_covered[0].answer'",
        ),
        (
            'not_covered:\n  - id: kim-age\n    about: "how old Kim is"\n    questions:\n'
            '      - "How old is Kim?"\n',
            "questions: List should have at least 2 items",
        ),
    ],
)
def test_a_broken_not_covered_list_is_reported(minimal_knowledge, listed: str, complaint: str):
    root = minimal_knowledge()
    (root / "not-covered.yaml").write_text(listed, encoding="utf-8")
    with pytest.raises(kb.KnowledgeError) as caught:
        kb.load(root)
    problems = [str(p) for p in caught.value.problems]
    assert any("not-covered.yaml:" in p and complaint in p for p in problems), problems


def test_the_not_covered_list_is_loaded(knowledge) -> None:
    assert len(knowledge.outside) >= 50
    assert all(topic.about and len(topic.questions) >= 2 for topic in knowledge.outside.values())


def test_a_short_quote_marked_as_attribution_is_accepted(minimal_knowledge) -> None:
    faq = MINIMAL_FAQ.replace(
        'quote: "The North Korean government, however, continues to deny that they exist."',
        'quote: "deny that they exist."\n        attribution: true',
    )
    knowledge = kb.load(minimal_knowledge(faq))
    assert knowledge.entries["camps-denial"].citations[0].attribution


@pytest.mark.parametrize(
    "hedged",
    [
        "wrote in about February 2019 that",
        "wrote after the February 2019 Hanoi summit that",
        "wrote around the February 2019 summit that",
    ],
)
def test_an_inferred_month_with_a_hedge_or_an_event_is_accepted(
    minimal_knowledge, hedged: str
) -> None:
    faq = MINIMAL_FAQ.replace("wrote in about February 2019 that", hedged)
    assert kb.load(minimal_knowledge(faq))


def test_a_confirmed_date_with_its_day_is_accepted(minimal_knowledge) -> None:
    """A day before the month ("28 February 2019") states a date the registry confirms."""
    faq = MINIMAL_FAQ.replace(
        '      - source: time\n        quote: "The North Korean',
        '      - source: hrw\n        quote: "keeping over 100,000 of his fellow citizens"\n'
        '      - source: time\n        quote: "The North Korean',
    ).replace("wrote in about February 2019 that", "wrote on 28 February 2019 that")
    assert kb.load(minimal_knowledge(faq))


PRESENT_TITLES = {
    "Param-Preet Singh is associate international justice director at Human Rights Watch": (
        "Param-Preet Singh was then associate international justice director at Human Rights Watch"
    ),
    "Olivia Enos, a North Korea expert at the Heritage Foundation, said so": (
        "Olivia Enos, then a North Korea expert at the Heritage Foundation, said so"
    ),
    "Trump's ambassador to the UN, Nikki Haley, said so": (
        "Nikki Haley, then Trump's ambassador to the UN, said so"
    ),
}


@pytest.mark.parametrize("present", sorted(PRESENT_TITLES))
def test_present_tense_job_titles_are_flagged_for_review_not_refused(
    minimal_knowledge, present: str
) -> None:
    def answer(text: str) -> str:
        return MINIMAL_FAQ.replace(
            "      Amnesty International USA's Bencosme wrote in about February 2019",
            f"      {text}. Amnesty International USA's Bencosme wrote in about February 2019",
        )

    flagged = kb.load(minimal_knowledge(answer(present)))  # it loads: a review is no error
    (review,) = [str(r) for r in flagged.reviews]
    assert "faq/camps.yaml:" in review and "entry camps-denial: review: job title" in review
    line = int(review.split(":")[1])
    text = (minimal_knowledge(answer(present)) / "faq" / "camps.yaml").read_text()
    assert text.splitlines()[line - 1].strip() == "answer: >-"
    assert kb.load(minimal_knowledge(answer(PRESENT_TITLES[present]))).reviews == ()


def test_cli_prints_reviews_and_still_passes(minimal_knowledge) -> None:
    root = minimal_knowledge(
        MINIMAL_FAQ.replace(
            "      Amnesty International USA's Bencosme wrote in about February 2019",
            "      Bencosme is advocacy manager for Asia Pacific. Amnesty International USA's"
            " Bencosme wrote in about February 2019",
        )
    )
    run = validate(str(root))
    assert run.returncode == 0, run.stderr
    assert "review: job title in the present tense: 'is advocacy manager'" in run.stderr
    assert "OK, with 1 to review" in run.stdout


def test_the_real_knowledge_has_nothing_to_review() -> None:
    assert kb.load(ROOT / "knowledge").reviews == ()


def write_sources(root: Path, old: str, new: str) -> None:
    path = root / "sources.yaml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


def test_an_unknown_field_cannot_be_listed_as_inferred(minimal_knowledge) -> None:
    root = minimal_knowledge()
    write_sources(root, "    inferred: [affiliation]", "    inferred: [affiliation, author]")
    problems = problems_of(root)
    assert any(
        "sources.yaml:" in p and "'justsecurity': author listed as inferred but empty" in p
        for p in problems
    ), problems


def test_a_source_needs_a_headline_or_its_standfirst(minimal_knowledge) -> None:
    root = minimal_knowledge()
    write_sources(root, '    standfirst: "The U.S. is treating', '    note: "The U.S. is treating')
    write_sources(root, '    note: "The U.S.', '    # "The U.S.')
    problems = problems_of(root)
    assert any("'huffpost' needs a headline or, if unknown, its standfirst" in p for p in problems)


# -- root causes first, at the line to fix --------------------------------------------------------
def test_one_wrong_quote_is_one_problem_not_missing_related_entries(knowledge_copy) -> None:
    """A quote that is not verbatim fails its whole file; the entries other files relate to
    there still exist and must not be reported missing before (or beside) the real error."""
    camps = knowledge_copy / "faq" / "camps.yaml"
    text = camps.read_text(encoding="utf-8")
    camps.write_text(text.replace('quote: "Up to 120,000', 'quote: "Up to 130,000', 1))
    problems = problems_of(knowledge_copy)
    assert len(problems) == 1, problems
    assert "camps.yaml:" in problems[0] and "not verbatim" in problems[0]


def test_related_entries_of_a_file_that_is_not_yaml_are_not_reported_missing(
    knowledge_copy,
) -> None:
    camps = knowledge_copy / "faq" / "camps.yaml"
    lines = camps.read_text(encoding="utf-8").splitlines(keepends=True)
    n = next(i for i, line in enumerate(lines) if line.strip().startswith("related: ["))
    lines[n] = lines[n].replace("]", "", 1)  # an unclosed [
    camps.write_text("".join(lines), encoding="utf-8")
    problems = problems_of(knowledge_copy)
    assert len(problems) == 1, problems
    path, line, message = problems[0].split(":", 2)
    assert path.endswith("camps.yaml") and "YAML syntax error" in message
    assert int(line) == n + 1, problems  # the line of the [, not the next one
    assert "'['" in message and f"line {n + 2}" in message


def test_checks_across_files_come_after_the_problems_inside_files(minimal_knowledge) -> None:
    """access.yaml sorts first, but its dangling reference is a cross-file check: the broken
    field inside camps.yaml is listed before it."""
    minimal_knowledge(
        MINIMAL_FAQ.replace("  - id: camps-denial\n", "  - id: camps-denial\n    colour: red\n")
    )
    access = (
        MINIMAL_FAQ.replace("id: camps\n", "id: access\n")
        .replace("title: Political prison camps", "title: Access")
        .replace("id: camps-", "id: access-")
        .replace("How many people are held", "What number of inmates are held")
        .replace("kwanliso numbers", "count of kwanliso inmates")
        .replace("Does North Korea admit", "Has Pyongyang ever conceded")
        .replace("    citations:\n", "    related: [access-nowhere]\n    citations:\n", 1)
    )
    problems = problems_of(minimal_knowledge(access, name="access.yaml"))
    assert len(problems) == 2, problems
    assert "camps.yaml:" in problems[0] and "unknown field 'colour'" in problems[0]
    assert "access.yaml:" in problems[1] and "'access-nowhere' does not exist" in problems[1]


def test_a_near_identical_phrasing_is_reported_at_its_line_naming_both(minimal_knowledge) -> None:
    copied = "how many people are held in the political prison camp"
    faq = MINIMAL_FAQ.replace(
        "      - Does North Korea admit the camps exist?",
        f"      - Does North Korea admit the camps exist?\n      - {copied}",
    )
    root = minimal_knowledge(faq)
    (hit,) = [p for p in problems_of(root) if "near-identical" in p]
    lines = (root / "faq" / "camps.yaml").read_text().splitlines()
    path, line, message = hit.split(":", 2)
    first, second = re.findall(r"'([^']+)'", message)[:2]
    assert first in lines[int(line) - 1], hit  # the phrasing's own line, not its entry's
    other = re.search(r"camps\.yaml:(\d+)\)", message)
    assert other and second in lines[int(other.group(1)) - 1], hit
    assert copied in (first, second)
    assert "camps-denial" in message and "camps-how-many" in message


# -- answers that stay true whichever phrasing routed to them (issue 20 item 1, issue 22) ------
def with_opening(text: str) -> str:
    """The minimal FAQ with `text` put before camps-denial's answer."""
    return MINIMAL_FAQ.replace(
        "      Amnesty International USA's Bencosme wrote in about February 2019",
        f"      {text} Amnesty International USA's Bencosme wrote in about February 2019",
    )


@pytest.mark.parametrize(
    ("opening", "word"),
    [
        ("Yes, as of 2019.", "Yes"),
        ("No.", "No"),
        ("Not all of them, according to Amnesty.", "Not"),
        ("It does not, Amnesty said.", "It"),
    ],
)
def test_an_answer_opening_with_yes_or_no_is_refused(
    minimal_knowledge, opening: str, word: str
) -> None:
    """`did trump raise human rights with kim` got "Yes, argued an op-ed ...": an opening that
    answers one phrasing reads as a false statement after another."""
    problems = problems_of(minimal_knowledge(with_opening(opening)))
    assert any(
        "entry camps-denial:" in p and f"answer opens with {word!r}" in p for p in problems
    ), problems


def test_an_answer_that_names_its_subject_first_is_accepted(minimal_knowledge) -> None:
    faq = with_opening("North Korea's denial of its camps is recorded by Amnesty, which wrote:")
    assert kb.load(minimal_knowledge(faq))


def test_the_same_summit_with_no_summit_named_before_it_is_refused(minimal_knowledge) -> None:
    faq = MINIMAL_FAQ.replace(
        "      After the February 2019 Hanoi summit, Amnesty International USA's Bencosme wrote",
        "      Human Rights Watch wrote on 12 June 2018 of gulags; after the same summit,\n"
        "      Amnesty International USA's Bencosme wrote",
    )
    problems = problems_of(minimal_knowledge(faq))
    assert any(
        "entry camps-how-many:" in p and "'the same summit' but names no summit" in p
        for p in problems
    ), problems
    named = faq.replace("of gulags; after the same", "of the Singapore summit; after that")
    assert kb.load(minimal_knowledge(named))


def test_a_sentence_that_says_nobody_said_it_is_refused(minimal_knowledge) -> None:
    """access-un-report-reaction ended on an author's judgement stated as plain fact."""
    faq = MINIMAL_FAQ.replace(
        "      government continues to deny that the camps exist.\n",
        "      government continues to deny that the camps exist. The camps are the worst on"
        " earth.\n",
    )
    problems = problems_of(minimal_knowledge(faq))
    assert any(
        "entry camps-denial:" in p and "'The camps are the worst on earth.' says nothing of whose"
        in p
        for p in problems
    ), problems
    attributed = faq.replace("worst on earth.", "worst on earth, the op-ed said.")
    assert kb.load(minimal_knowledge(attributed))


@pytest.mark.parametrize(
    "main",
    [
        "camp inmate numbers",  # a keyword phrasing, no question
        "how many people are held in the camps?",  # reads as a user's typing, not a title
        "How many people are held in the political prison camps, and where are they, and who"
        " counted them, and when?",  # longer than one line
    ],
)
def test_the_main_question_must_read_on_its_own(minimal_knowledge, main: str) -> None:
    """The first phrasing opens every answer as the question the bot understood."""
    faq = MINIMAL_FAQ.replace(
        "      - How many people are held in the political prison camps?\n",
        f"      - {main}\n      - How many people are held in the political prison camps?\n",
    )
    problems = problems_of(minimal_knowledge(faq))
    assert any(
        "entry camps-how-many:" in p and "is shown above the answer" in p for p in problems
    ), problems


def test_every_problem_of_an_entry_is_reported_in_one_run(minimal_knowledge) -> None:
    """A missing answer, an unknown field, an unknown source and a dangling `related:` in one
    entry: all four at once, not the last only after the first three are fixed."""
    faq = MINIMAL_FAQ.replace(
        "    answer: >-\n      Amnesty International USA's Bencosme wrote in about February"
        " 2019 that the North Korean\n      government continues to deny that the camps"
        " exist.\n",
        "    colour: red\n    related: [camps-nowhere]\n",
    ).replace(
        '      - source: time\n        quote: "The North',
        '      - source: times\n        quote: "The North',
    )
    run = validate(str(minimal_knowledge(faq)))
    assert run.returncode == 1
    lines = run.stderr.splitlines()
    for says in (
        "missing field 'answer'",
        "unknown field 'colour'",
        "unknown source 'times'",
        "related entry 'camps-nowhere' does not exist",
    ):
        assert any(
            "camps.yaml:" in ln and "entry camps-denial: " in ln and says in ln for ln in lines
        ), (says, run.stderr)
    assert lines[-1] == "4 problem(s); nothing was loaded."


def test_a_valid_entry_in_a_broken_file_is_still_checked_against_the_others(
    minimal_knowledge,
) -> None:
    """The broken entry's file fails, but its sound neighbour's dangling reference is a
    problem of its own, reported in the same run."""
    faq = MINIMAL_FAQ.replace(
        "  - id: camps-denial\n", "  - id: camps-denial\n    colour: red\n"
    ).replace("    citations:\n", "    related: [camps-gone]\n    citations:\n", 1)
    problems = problems_of(minimal_knowledge(faq))
    assert len(problems) == 2, problems
    assert "unknown field 'colour'" in problems[0]
    assert "camps-how-many: related entry 'camps-gone' does not exist" in problems[1]


def test_a_missing_folder_gets_no_made_up_line_number() -> None:
    run = validate("nonexistent")
    assert run.returncode == 1
    assert run.stderr.splitlines()[0] == "nonexistent: no such knowledge directory", run.stderr

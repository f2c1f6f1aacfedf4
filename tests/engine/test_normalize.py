"""The normaliser makes what people type comparable with what maintainers wrote."""

from __future__ import annotations

from bot.engine.models import Synonyms
from bot.engine.normalize import Normalizer, stem


def test_word_endings_fold_together() -> None:
    assert stem("camps") == stem("camp")
    assert stem("sanctions") == stem("sanctioned") == stem("sanctioning")
    assert stem("improvement") == stem("improve")
    assert stem("us") == "us"


def test_synonyms_from_yaml_resolve_on_both_sides(knowledge) -> None:
    norm = knowledge.normalizer
    assert norm.tokens("NK's gulags") == norm.tokens("North Korea kwan-li-so")
    assert norm.text("Hague court") == norm.text("International Criminal Court")
    assert norm.text("labour") == norm.text("labor")
    assert norm.text("Ji Seong-ho") == norm.text("Ji Sung-ho")


def test_accents_quotes_and_thousands() -> None:
    norm = Normalizer.build(Synonyms())
    assert norm.text("Milošević’s “talks”") == norm.text("milosevic talk")
    assert norm.text("120,000 people") == norm.text("120000 people")
    assert "120000" in norm.tokens("120,000 people")


def test_maintainer_synonyms_extend_the_defaults() -> None:
    norm = Normalizer.build(Synonyms(synonyms={"kwanliso": ["penal colony"]}, stopwords=["pray"]))
    assert norm.tokens("pray tell, penal colonies?") == ["kwanliso"]


def test_stemmed_variants_leave_everyday_words_alone(knowledge) -> None:
    """A variant is stemmed like everything else, so "the states" would also catch "the state"
    and "document" would catch "documented": the synonyms list must avoid such collisions."""
    norm = knowledge.normalizer
    assert "us" not in norm.tokens("he had to report for the state job")
    assert norm.tokens("abuses the UN documented") == norm.tokens("abuses the UN documents")
    assert norm.tokens("the document they signed") == norm.tokens("the communique")

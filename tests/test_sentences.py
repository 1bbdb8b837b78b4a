"""Quoted sentences are exact slices of their passage and don't break at initials or abbreviations."""

from bot.sentences import split_sentences


def test_sentences_are_exact_substrings_and_keep_names_whole():
    text = ("On Jan. 25, 1984, President Ronald W. Reagan directed NASA to build a space station. "
            "The U.S. Embassy in Brussels hosted the signing with Dr. Smith present.\n\n"
            "A new paragraph starts here and says something else entirely.")
    sentences = split_sentences(text)
    assert sentences == [
        "On Jan. 25, 1984, President Ronald W. Reagan directed NASA to build a space station.",
        "The U.S. Embassy in Brussels hosted the signing with Dr. Smith present.",
        "A new paragraph starts here and says something else entirely.",
    ]
    assert all(s in text for s in sentences)


def test_short_fragments_are_merged_not_quoted_alone():
    sentences = split_sentences("It was big. The accords now have forty signatories from every continent.")
    assert sentences == ["It was big. The accords now have forty signatories from every continent."]

"""Quoted sentences are exact slices of their passage and don't break at initials or abbreviations."""

from bot.core.sentences import split_sentences


def test_sentences_are_exact_substrings_and_keep_names_whole():
    text = (
        "On Jan. 25, 1984, President Ronald W. Reagan directed NASA to build a space station. "
        "The U.S. Embassy in Brussels hosted the signing with Dr. Smith present.\n\n"
        "A new paragraph starts here and says something else entirely."
    )
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


def test_a_sentence_that_introduces_a_list_is_quoted_with_its_items():
    text = (
        "Each State shall furnish the following information:\n\n"
        "(a) name of launching State;\n\n(b) date and territory of launch;\n\n"
        "(c) basic orbital parameters, including:\n\n(i) nodal period;\n\n(ii) inclination;\n\n"
        "Article V\n\nAny State may, from time to time, provide additional information."
    )
    sentences = split_sentences(text)
    assert sentences[0].startswith("Each State shall furnish") and sentences[0].endswith("(ii) inclination;")
    assert "nodal period" in sentences[0]
    assert sentences[1:] == ["Article V\n\nAny State may, from time to time, provide additional information."]
    assert all(s in text for s in sentences)


def test_semicolons_and_colons_inside_a_line_do_not_end_a_sentence():
    text = "The council met twice; it approved the plan: Norway and Germany joined. A second sentence follows here."
    assert split_sentences(text) == [
        "The council met twice; it approved the plan: Norway and Germany joined.",
        "A second sentence follows here.",
    ]

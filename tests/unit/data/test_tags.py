"""Tag schemes: detection, conversion to BIO (IOB2), repair and span decoding."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tuneforge.data.tags import bio_spans, detect_scheme, repair_bio, split_tag, to_bio

IOB2 = ["B-PER", "I-PER", "O", "B-LOC", "B-LOC", "I-LOC", "O", "I-ORG"]


def test_split_tag() -> None:
    assert split_tag("B-PER") == ("B", "PER")
    assert split_tag("I-B-X") == ("I", "B-X")
    assert split_tag("O") == ("O", None)


@pytest.mark.parametrize("tag", ["PER", "B", "B-", "X-PER", "b-per", "", "O-", "B- PER", "o"])
def test_split_tag_rejects_malformed(tag: str) -> None:
    with pytest.raises(ValueError, match="malformed tag"):
        split_tag(tag)


@pytest.mark.parametrize(
    ("tags", "scheme"),
    [
        (["B-PER", "I-PER", "O", "B-LOC"], "IOB2"),
        (["O", "O"], "IOB2"),
        ([], "IOB2"),
        (["I-PER", "I-PER", "O", "I-LOC", "B-LOC"], "IOB1"),
        (["I-PER", "B-PER", "O"], "IOB1"),
        (["I-PER", "O", "I-LOC"], "IO"),
        (["B-PER", "E-PER", "S-LOC", "O"], "BIOES"),
        (["B-PER", "I-PER", "S-LOC"], "BIOES"),
        (["U-PER", "B-LOC", "L-LOC"], "BIOES"),
        (["B-PER", "M-PER", "E-PER", "S-LOC"], "BMES"),
        (["B-PER", "E-PER", "O"], "BIOES"),
        # a stray I- after O in an otherwise IOB2 file: still IOB2
        (["B-PER", "O", "I-PER", "O", "B-LOC"], "IOB2"),
    ],
)
def test_detect_scheme(tags: list[str], scheme: str) -> None:
    assert detect_scheme(tags) == scheme


def test_iob2_is_unchanged() -> None:
    assert to_bio(IOB2) == IOB2
    assert to_bio(IOB2, "IOB2") == IOB2
    assert to_bio(IOB2, "BIO") == IOB2


@pytest.mark.parametrize(
    ("tags", "scheme", "expected"),
    [
        (["I-PER", "I-PER", "B-PER", "O", "I-LOC"], "IOB1", ["B-PER", "I-PER", "B-PER", "O", "B-LOC"]),
        (["I-PER", "I-LOC", "I-LOC"], "IO", ["B-PER", "B-LOC", "I-LOC"]),
        (["B-PER", "I-PER", "E-PER", "S-LOC", "O"], "BIOES", ["B-PER", "I-PER", "I-PER", "B-LOC", "O"]),
        (["U-PER", "B-LOC", "L-LOC"], "BILOU", ["B-PER", "B-LOC", "I-LOC"]),
        (["B-ORG", "M-ORG", "E-ORG", "S-NAME", "O"], "BMES", ["B-ORG", "I-ORG", "I-ORG", "B-NAME", "O"]),
        (["S-PER", "S-PER"], None, ["B-PER", "B-PER"]),
        (["I-PER", "I-PER", "O"], None, ["B-PER", "I-PER", "O"]),
    ],
)
def test_to_bio(tags: list[str], scheme: str | None, expected: list[str]) -> None:
    assert to_bio(tags, scheme) == expected


def test_to_bio_unknown_scheme() -> None:
    with pytest.raises(ValueError, match="unknown tag scheme"):
        to_bio(["O"], "XYZ")


def test_repair_bio() -> None:
    assert repair_bio(["O", "I-PER", "I-PER", "I-LOC", "B-LOC", "I-LOC"]) == [
        "O",
        "B-PER",
        "I-PER",
        "B-LOC",
        "B-LOC",
        "I-LOC",
    ]
    assert repair_bio(IOB2[:-1]) == IOB2[:-1]


def test_bio_spans() -> None:
    assert bio_spans(IOB2) == [("PER", 0, 2), ("LOC", 3, 4), ("LOC", 4, 6), ("ORG", 7, 8)]
    assert bio_spans(["O", "I-PER", "I-LOC"]) == [("PER", 1, 2), ("LOC", 2, 3)]
    assert bio_spans([]) == []
    assert bio_spans(["B-X", "I-X"]) == [("X", 0, 2)]


def _spans_to_bioes(spans: list[tuple[str, int, int]], n: int) -> list[str]:
    tags = ["O"] * n
    for type_, start, end in spans:
        if end - start == 1:
            tags[start] = f"S-{type_}"
        else:
            tags[start], tags[end - 1] = f"B-{type_}", f"E-{type_}"
            tags[start + 1 : end - 1] = [f"I-{type_}"] * (end - start - 2)
    return tags


_TAG = st.sampled_from(["O", "B-PER", "I-PER", "B-LOC", "I-LOC"])


@settings(max_examples=200, deadline=None)
@given(st.lists(_TAG, max_size=30))
def test_round_trips(tags: list[str]) -> None:
    bio = repair_bio(tags)
    spans = bio_spans(bio)
    assert bio_spans(to_bio(bio, "IOB2")) == spans
    assert to_bio(_spans_to_bioes(spans, len(bio)), "BIOES") == bio
    # IOB2 input stays exactly as it is
    assert to_bio(bio, "IOB2") == bio

"""Label-preserving augmentation: every operation on English, Chinese and NER examples; determinism;
labels, tags and entities kept; synonyms from a backbone's vocabulary."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tuneforge.config import AugmentConfig
from tuneforge.data.augment import (
    _entity_spans,
    augment_examples,
    augment_with_operations,
    check_operations,
)
from tuneforge.data.readers import read_examples
from tuneforge.data.synonyms import SynonymSource, is_cjk, is_whole_word
from tuneforge.errors import ConfigError
from tuneforge.types import Example

EN = [
    Example(text="where is my new card", label="card_arrival", source="a.csv", line=2, group="g1"),
    Example(text="I was charged twice for one payment", label="charge", source="a.csv", line=3),
    Example(text="please send the money back to my account", label="refund", source="a.csv", line=4),
]
ZH = [
    Example(text="我的银行卡还没有到", label="card", source="z.tsv", line=2),
    Example(text="这家酒店的服务很好", label="1", source="z.tsv", line=3),
]
CONLL = """\
John B-PER
Smith I-PER
lives O
in O
New B-LOC
York I-LOC
and O
works O
for O
Acme B-ORG
. O

Mary B-PER
visited O
the O
old O
town O
of O
Paris B-LOC
last O
summer O
. O

Peter B-PER
joined O
Globex B-ORG
Corporation I-ORG
in O
Berlin B-LOC
"""


def cfg(*ops: str, copies: int = 1, rate: float = 0.1) -> AugmentConfig:
    return AugmentConfig(enabled=True, operations=list(ops), copies=copies, rate=rate)


def small_source() -> SynonymSource:
    """Six words in two tight clusters, plus two ideographs."""
    words = ["card", "cards", "money", "cash", "payment", "payments", "银", "钱"]
    vecs = [
        [1, 0, 0],
        [0.95, 0.1, 0],
        [0, 1, 0],
        [0.1, 0.95, 0],
        [0, 0, 1],
        [0, 0.1, 0.95],
        [1, 1, 0],
        [1, 0.9, 0],
    ]
    return SynonymSource(words, np.array(vecs, dtype=np.float32), min_similarity=0.5)


@pytest.fixture(scope="module")
def ner_examples(tmp_path_factory) -> list[Example]:
    path = tmp_path_factory.mktemp("ner") / "train.conll"
    path.write_text(CONLL, encoding="utf-8")
    return read_examples(path, task="ner")


@pytest.fixture(scope="module")
def zh_ner_examples(tmp_path_factory) -> list[Example]:
    path = tmp_path_factory.mktemp("zhner") / "train.char.bmes"
    lines = [
        "张 伟 在 北 京 的 华 信 公 司 工 作 。\tB-NAME E-NAME O B-LOC E-LOC O B-ORG M-ORG M-ORG E-ORG O O O",
        "李 娜 来 自 上 海 ， 现 在 住 在 杭 州 。\tB-NAME E-NAME O O B-LOC E-LOC O O O O O B-LOC E-LOC O",
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return read_examples(path, task="ner")


def entities(ex: Example) -> list[tuple[str, tuple[str, ...]]]:
    tokens = ex.tokens or ()
    return [(t, tuple(tokens[s:e])) for s, e, t in _entity_spans(ex.tags or ())]


def valid_bio(tags) -> bool:
    prev = "O"
    for tag in tags:
        if tag.startswith("I-") and prev[2:] != tag[2:]:
            return False
        prev = tag
    return True


def check_ner_copy(new: Example, original: Example) -> None:
    assert len(new.tokens) == len(new.tags) and valid_bio(new.tags)
    assert new.text == new.sep.join(new.tokens) and new.spans is None and new.sep == original.sep
    assert (new.source, new.line, new.group, new.label) == (
        original.source,
        original.line,
        original.group,
        None,
    )


# ---------------------------------------------------------------------------------------------- English


def test_swap_keeps_the_words_and_changes_their_order():
    new = augment_examples(EN, cfg("swap"), task="classification", seed=0)
    assert len(new) == len(EN)
    for ex, orig in zip(new, EN, strict=True):
        assert Counter(ex.text.split()) == Counter(orig.text.split()) and ex.text != orig.text


def test_delete_removes_some_words_in_order():
    new = augment_examples(EN, cfg("delete", rate=0.3), task="classification", seed=0)
    for ex, orig in zip(new, EN, strict=True):
        words, rest = ex.text.split(), iter(orig.text.split())
        assert 1 <= len(words) < len(orig.text.split())
        assert all(w in rest for w in words)  # a subsequence of the original


def test_delete_never_removes_a_negation():
    ex = Example(text="not", label="x")
    pair = Example(text="I do not like it", label="neg")
    assert augment_examples([ex], cfg("delete"), task="classification", seed=0) == []
    for seed in range(20):
        for new in augment_examples([pair], cfg("delete", rate=0.5), task="classification", seed=seed):
            assert "not" in new.text.split()


def test_insert_without_synonyms_repeats_a_word_of_the_sentence():
    new = augment_examples(EN, cfg("insert"), task="classification", seed=0)
    for ex, orig in zip(new, EN, strict=True):
        assert len(ex.text.split()) == len(orig.text.split()) + 1
        assert set(ex.text.split()) == set(orig.text.split())


def test_insert_with_synonyms_adds_a_neighbour():
    ex = Example(text="my card", label="c")
    (new,) = augment_examples([ex], cfg("insert"), task="classification", seed=0, synonyms=small_source())
    added = Counter(new.text.split()) - Counter(ex.text.split())
    assert list(added) == ["cards"]


def test_synonym_replaces_words_with_neighbours_and_keeps_case_and_punctuation():
    ex = Example(text="Card, money?", label="c")
    seen = set()
    for seed in range(10):
        (new,) = augment_examples([ex], cfg("synonym", rate=0.5), task="classification", seed=seed,
                                  synonyms=small_source())  # fmt: skip
        seen.add(new.text)
        assert new.text in {"Cards, money?", "Card, cash?"}
    assert len(seen) == 2


def test_synonym_without_a_source_falls_back_or_skips():
    assert augment_examples(EN, cfg("synonym"), task="classification", seed=0) == []
    new = augment_examples(EN, cfg("synonym", "swap"), task="classification", seed=0)
    assert len(new) == len(EN)


def test_typo_changes_one_long_word_by_one_edit():
    ex = Example(text="where is my payment", label="x")
    for seed in range(20):
        (new,) = augment_examples([ex], cfg("typo"), task="classification", seed=seed)
        changed = [(a, b) for a, b in zip(ex.text.split(), new.text.split(), strict=True) if a != b]
        assert len(changed) == 1 and changed[0][0] in ("where", "payment")
        before, after = changed[0]
        assert abs(len(before) - len(after)) <= 1 and after[0] == before[0]


def test_typo_needs_a_word_of_four_letters():
    assert (
        augment_examples([Example(text="is it ok", label="x")], cfg("typo"), task="classification", seed=0)
        == []
    )


def test_multilabel_keeps_its_label_tuple_and_provenance():
    ex = Example(
        text="the battery and the screen are broken",
        label=("battery", "screen"),
        source="m.jsonl",
        line=7,
        group="d1",
    )
    new = augment_examples([ex], cfg("swap", "delete", "typo", copies=5), task="multilabel", seed=3)
    assert len(new) == 5
    assert all((n.label, n.source, n.line, n.group) == (ex.label, "m.jsonl", 7, "d1") for n in new)


def test_no_copy_equals_an_input_or_another_copy():
    exs = [Example(text="a b", label="x"), Example(text="b a", label="y")]
    new = augment_examples(exs, cfg("swap", copies=5), task="classification", seed=0)
    assert new == []  # the only swap of each is the other example
    many = augment_examples(
        EN, cfg("swap", "delete", "insert", "typo", copies=8), task="classification", seed=1
    )
    texts = [e.text for e in many]
    assert len(set(texts)) == len(texts) and not set(texts) & {e.text for e in EN}


def test_one_token_example_falls_back_or_is_skipped():
    ex = Example(text="hello", label="x")
    assert augment_examples([ex], cfg("swap"), task="classification", seed=0) == []
    pairs = augment_with_operations([ex], cfg("swap", "insert"), task="classification", seed=0)
    assert [op for _, op in pairs] == ["insert"] and pairs[0][0].text == "hello hello"


# ---------------------------------------------------------------------------------------------- determinism


def test_same_seed_same_output_and_other_seed_differs():
    config = cfg("swap", "delete", "insert", "synonym", "typo", copies=3)
    a = augment_examples(EN + ZH, config, task="classification", seed=5, synonyms=small_source())
    b = augment_examples(EN + ZH, config, task="classification", seed=5, synonyms=small_source())
    c = augment_examples(EN + ZH, config, task="classification", seed=6, synonyms=small_source())
    assert a == b and a != c


def test_example_order_does_not_change_each_examples_copies():
    config = cfg("swap", "delete", "typo", copies=2)
    forward = augment_examples(EN, config, task="classification", seed=0)
    backward = augment_examples(EN[::-1], config, task="classification", seed=0)
    assert sorted(e.text for e in forward) == sorted(e.text for e in backward)


# ---------------------------------------------------------------------------------------------- Chinese


def test_chinese_swap_and_delete_work_on_characters():
    (swapped, _) = augment_examples(ZH, cfg("swap"), task="classification", seed=0)
    assert (
        Counter(swapped.text) == Counter(ZH[0].text)
        and swapped.text != ZH[0].text
        and " " not in swapped.text
    )
    (deleted, _) = augment_examples(ZH, cfg("delete"), task="classification", seed=0)
    assert len(deleted.text) == len(ZH[0].text) - 1  # 10% of 9 characters rounds to one


def test_chinese_synonym_replaces_single_characters():
    ex = Example(text="我的银行卡", label="card")
    (new,) = augment_examples([ex], cfg("synonym"), task="classification", seed=0, synonyms=small_source())
    assert new.text == "我的钱行卡"


def test_typo_never_touches_chinese_characters():
    assert augment_examples(ZH, cfg("typo", copies=3), task="classification", seed=0) == []
    mixed = Example(text="我用 iPhone 付款失败了", label="pay")
    for seed in range(10):
        (new,) = augment_examples([mixed], cfg("typo"), task="classification", seed=seed)
        assert new.text.startswith("我用 ") and new.text.endswith(" 付款失败了")
        assert new.text.split()[1] != "iPhone"


def test_cjk_detection():
    assert is_cjk("好") and is_cjk("abc，") and not is_cjk("café")


# ---------------------------------------------------------------------------------------------- NER


@pytest.mark.parametrize("op", ["swap", "delete", "insert", "typo"])
def test_ner_edits_keep_tags_aligned_and_entities_unchanged(ner_examples, op):
    new = augment_with_operations(ner_examples, cfg(op, copies=3, rate=0.3), task="ner", seed=0)
    assert new and all(name == op for _, name in new)
    by_line = {e.line: e for e in ner_examples}
    for ex, _ in new:
        orig = by_line[ex.line]
        check_ner_copy(ex, orig)
        assert entities(ex) == entities(orig) and ex.tokens != orig.tokens


def test_ner_synonym_replaces_only_outside_entities(ner_examples):
    words = ["lives", "resides", "visited", "toured", "John", "Johnny", "summer", "winter"]
    source = SynonymSource(words, np.repeat(np.eye(4), 2, axis=0) + 0.01 * np.arange(8)[:, None])
    new = augment_examples(ner_examples, cfg("synonym", rate=0.5), task="ner", seed=0, synonyms=source)
    assert len(new) == 2  # the third sentence has no word with a synonym outside its entities
    for ex in new:
        orig = next(e for e in ner_examples if e.line == ex.line)
        check_ner_copy(ex, orig)
        assert entities(ex) == entities(orig)
        assert {"resides", "toured", "winter"} & set(ex.tokens)


def test_ner_mention_swaps_a_mention_of_the_same_type(ner_examples):
    new = augment_examples(ner_examples, cfg("mention", copies=3), task="ner", seed=0)
    pool = {m for e in ner_examples for m in entities(e)}
    assert new
    for ex in new:
        orig = next(e for e in ner_examples if e.line == ex.line)
        check_ner_copy(ex, orig)
        assert set(entities(ex)) <= pool and entities(ex) != entities(orig)
        assert [t for t, _ in entities(ex)] == [t for t, _ in entities(orig)]


def test_chinese_ner_uses_characters_and_no_separator(zh_ner_examples):
    config = cfg("swap", "delete", "insert", "mention", copies=4, rate=0.2)
    new = augment_with_operations(zh_ner_examples, config, task="ner", seed=0)
    assert len(new) == 8
    for ex, op in new:
        orig = next(e for e in zh_ner_examples if e.line == ex.line)
        check_ner_copy(ex, orig)
        assert ex.sep == "" and all(len(t) == 1 for t in ex.tokens)
        if op != "mention":
            assert entities(ex) == entities(orig)


def test_mention_is_only_for_ner():
    with pytest.raises(ConfigError, match="mention"):
        augment_examples(EN, cfg("swap", "mention"), task="classification", seed=0)
    with pytest.raises(ConfigError, match="empty"):
        check_operations([], "ner")


_TYPES = ["PER", "LOC"]
_WORDS = ["a", "bb", "ccc", "dddd", "eeeee", "北", "京", "x1"]


@st.composite
def ner_sentence(draw) -> Example:
    n = draw(st.integers(1, 12))
    tokens = draw(st.lists(st.sampled_from(_WORDS), min_size=n, max_size=n))
    tags, prev = [], "O"
    for _ in range(n):
        choice = draw(st.sampled_from(["O", "B-PER", "B-LOC", "I"]))
        tag = ("I-" + prev[2:] if prev != "O" else "B-PER") if choice == "I" else choice
        tags.append(tag)
        prev = tag
    return Example(
        text=" ".join(tokens), tokens=tuple(tokens), tags=tuple(tags), line=draw(st.integers(1, 99))
    )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    sentences=st.lists(ner_sentence(), min_size=1, max_size=5),
    ops=st.lists(
        st.sampled_from(["swap", "delete", "insert", "synonym", "typo", "mention"]), min_size=1, unique=True
    ),
    rate=st.sampled_from([0.1, 0.3, 0.5]),
    seed=st.integers(0, 10),
)
def test_ner_output_is_always_aligned_valid_bio(sentences, ops, rate, seed):
    source = SynonymSource(["ccc", "dddd", "eeeee"], np.eye(3) + 0.5)
    config = cfg(*ops, copies=2, rate=rate)
    for ex, op in augment_with_operations(sentences, config, task="ner", seed=seed, synonyms=source):
        assert len(ex.tokens) == len(ex.tags) >= 1 and valid_bio(ex.tags)
        assert ex.text == " ".join(ex.tokens)
        if op != "mention":
            assert any(entities(ex) == entities(s) for s in sentences)


# ---------------------------------------------------------------------------------------------- synonyms


def test_synonym_source_skips_stop_words_unknown_words_and_antonym_prefixes():
    source = SynonymSource(
        ["happy", "unhappy", "glad", "the", "card"], np.array([[1, 0], [1, 0.01], [0.9, 0.1], [1, 0], [0, 1]])
    )
    assert source.neighbours("happy", 2) == ["glad", "card"]
    assert source.neighbours("Happy", 1) == ["glad"]
    assert source.neighbours("the") == [] and source.neighbours("zebra") == []


def test_whole_word_filter():
    assert is_whole_word("card") and is_whole_word("银")
    assert not any(is_whole_word(w, {"[CLS]"}) for w in ["##ing", "[CLS]", "ab", "123", "a1b"])


@pytest.fixture(scope="module")
def tiny_source() -> SynonymSource:
    return SynonymSource.from_backbone("tiny-random")


def test_tiny_random_synonyms_come_from_its_vocabulary(tiny_source):
    from tuneforge.models.backbones import load_tokenizer, resolve_backbone

    vocab = load_tokenizer(resolve_backbone("tiny-random")).get_vocab()
    assert tiny_source.matrix.shape[1] == 32 and all(w in vocab for w in tiny_source.words)
    neighbours = tiny_source.neighbours("money", 5)
    assert len(neighbours) == 5 and all(is_whole_word(w) and w in vocab for w in neighbours)
    assert tiny_source.neighbours("money", 5) == neighbours  # cached, same answer
    assert tiny_source.neighbours("##ing") == [] and tiny_source.neighbours("[CLS]") == []
    new = augment_examples(EN, cfg("synonym", copies=2), task="classification", seed=0, synonyms=tiny_source)
    assert len(new) == 6
    for ex in new:
        orig = next(e for e in EN if e.label == ex.label)
        changed = [b for a, b in zip(orig.text.split(), ex.text.split(), strict=True) if a != b]
        assert changed and all(w in vocab for w in changed)


@pytest.mark.slow
def test_minilm_neighbours_are_related_words():
    source = SynonymSource.from_backbone("minilm-l6")
    assert {"cash", "funds", "dollars"} & set(source.neighbours("money", 5))
    assert "unhappy" not in source.neighbours("happy", 10)

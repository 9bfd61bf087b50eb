"""Every check of the data-quality gate on hand-made cases (English, Chinese, NER)."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tuneforge.config import QualityConfig
from tuneforge.data.quality import run_gate
from tuneforge.data.quality.labels import eval_mapping, spelling_map
from tuneforge.data.quality.near import near_pairs
from tuneforge.data.quality.rows import invalid_transitions
from tuneforge.data.quality.text import clean_text
from tuneforge.errors import DataError
from tuneforge.types import Example


def ex(text: str, label: str | None = "a", line: int = 1, source: str = "train.csv") -> Example:
    return Example(text=text, label=label, source=source, line=line)


def ner(tokens: str, tags: str, line: int = 1, sep: str = " ") -> Example:
    toks = tuple(tokens.split()) if sep == " " else tuple(tokens)
    return Example(
        text=sep.join(toks), tokens=toks, tags=tuple(tags.split()), sep=sep, source="t.conll", line=line
    )


def cfg(**kw) -> QualityConfig:
    base = {"near_duplicates": "fix", "rare_classes": "off", "coverage": "off", "too_long": "off"}
    return QualityConfig(**{**base, **kw})


def gate(train, validation=(), test=(), task="classification", **kw):
    return run_gate(
        {"train": list(train), "validation": list(validation), "test": list(test)}, task, cfg(**kw)
    )


def checks_of(result, check):
    return [f for f in result.ledger.findings if f.check == check]


# ---- text ---------------------------------------------------------------------------------------
def test_clean_text_nfkc_controls_whitespace():
    assert clean_text("ＡＢＣ\u200b  de\tf\x07 ") == "ABC de f"
    assert clean_text("你好，世界") == "你好,世界"


def test_normalize_fix_records_change():
    r = gate([ex("hello   world", line=3), ex("fine text here", "b", line=4)])
    assert r.splits["train"][0].text == "hello world"
    (change,) = r.ledger.changed
    assert (change.line, change.check, change.before, change.after) == (
        3,
        "normalize",
        "hello   world",
        "hello world",
    )


def test_normalize_warn_leaves_text():
    r = gate([ex("hello   world")], normalize="warn")
    assert r.splits["train"][0].text == "hello   world" and not r.ledger.changed
    assert checks_of(r, "normalize")[0].action == "reported"


def test_empty_and_too_short():
    r = gate([ex("   ", line=1), ex("x", line=2), ex("a real sentence", line=3)], too_short="fix")
    reasons = {x.line: x.check for x in r.ledger.removed}
    assert reasons == {1: "empty", 2: "too_short"}
    assert [e.text for e in r.splits["train"]] == ["a real sentence"]


# ---- duplicates, conflicts, near-duplicates -------------------------------------------------------
def test_exact_duplicates_keep_first():
    r = gate([ex("Top up failed", line=1), ex("top up  failed", line=2), ex("other words", "b", line=3)])
    (removed,) = r.ledger.removed
    assert removed.line == 2 and removed.check == "duplicates" and "train.csv:1" in removed.reason


def test_conflicting_labels_majority_kept():
    rows = [ex("where is my card", "a", 1), ex("where is my card", "a", 2), ex("where is my card", "b", 3)]
    r = gate(rows + [ex("something else entirely", "b", 4)])
    assert {(x.line, x.check) for x in r.ledger.removed} == {(3, "conflicts"), (2, "duplicates")}
    assert [e.line for e in r.splits["train"]] == [1, 4]


def test_conflict_without_majority_removes_all():
    r = gate([ex("same text", "a", 1), ex("same text", "b", 2), ex("a different one", "a", 3)])
    assert sorted(x.line for x in r.ledger.removed) == [1, 2]
    assert all("no majority" in x.reason for x in r.ledger.removed)


def test_near_duplicates_english_and_chinese():
    texts = [
        "How do I track the card you sent me?",
        "How do I track the card you sent to me?",
        "我的银行卡什么时候能寄到家里呢",
        "我的银行卡什么时候能寄到家里呢？请问",
        "completely unrelated sentence about weather",
    ]
    pairs = {(i, j) for i, j, _ in near_pairs(texts, 0.7)}
    assert pairs == {(0, 1), (2, 3)}


def test_near_duplicate_fix_only_with_same_label():
    rows = [
        ex("How do I track the card you sent me?", "a", 1),
        ex("How do I track the card you sent to me?", "a", 2),
        ex("Can you tell me why I haven't received my new card?", "a", 3),
        ex("Can you tell me why I haven't received my new card yet?", "b", 4),
    ]
    r = gate(rows)
    assert [x.line for x in r.ledger.removed] == [2]
    assert any(f.line == 4 and "different label" in f.message for f in checks_of(r, "near_duplicates"))


def test_evaluation_files_are_reported_not_changed():
    test = [ex("same test row", "a", 1, "test.csv"), ex("same test row", "a", 2, "test.csv")]
    r = gate([ex("train row one", "a"), ex("train row two", "a", 2)], test=test)
    assert len(r.splits["test"]) == 2 and not r.ledger.removed
    assert checks_of(r, "duplicates")[0].action == "reported"


# ---- leakage ------------------------------------------------------------------------------------
def test_leakage_exact_and_near_removes_training_copy():
    train = [
        ex("I lost my card yesterday", "a", 1),
        ex("how do I change my pin number", "b", 2),
        ex("ok", "a", 3),
    ]
    test = [
        ex("i lost my card yesterday", "a", 7, "test.csv"),
        ex("How do I change my PIN number?", "b", 8, "test.csv"),
    ]
    r = gate(train, test=test, too_short="off")  # near leakage is reported by default
    assert [(x.line, x.check) for x in r.ledger.removed] == [(1, "leakage")]
    assert checks_of(r, "near_leakage")[0].line == 2 and checks_of(r, "near_leakage")[0].action == "reported"
    r = gate(train, test=test, too_short="off", near_leakage="fix")
    assert {(x.line, x.check) for x in r.ledger.removed} == {(1, "leakage"), (2, "near_leakage")}
    assert len(r.splits["test"]) == 2
    assert r.ledger.findings[-1].detail["other"] == {"file": "test.csv", "line": 8}


# ---- labels -------------------------------------------------------------------------------------
def test_spelling_map_case_and_typos():
    counts = {"positive": 50, "Positive": 3, "Postive": 2, "negative": 40, " negative": 1}
    mapping = spelling_map(__import__("collections").Counter(counts))
    assert mapping == {"Positive": "positive", "Postive": "positive", " negative": "negative"}


def test_spelling_map_keeps_distinct_frequent_labels():
    from collections import Counter

    assert spelling_map(Counter({"card_arrival": 100, "card_delivery": 90, "top_up_failed": 80})) == {}


def test_label_fix_in_training_and_evaluation_files():
    train = [ex(f"good text {i}", "positive", i) for i in range(10)]
    train += [ex(f"bad text {i}", "negative", 20 + i) for i in range(10)] + [ex("great one", "Postive", 40)]
    test = [ex("lovely", "POSITIVE", 1, "test.csv"), ex("awful", "negatve", 2, "test.csv")]
    r = gate(train, test=test, near_duplicates="off")
    assert {e.label for e in r.splits["train"]} == {"positive", "negative"}
    assert [e.label for e in r.splits["test"]] == ["positive", "negative"]
    assert len([c for c in r.ledger.changed if c.check == "labels"]) == 3


def test_eval_mapping_needs_a_clear_winner():
    assert eval_mapping(["Positve"], ["positive", "negative"]) == {"Positve": "positive"}
    assert eval_mapping(["zzz"], ["positive", "negative"]) == {}


def test_unknown_evaluation_label_fails_by_default_and_fix_removes():
    train = [ex("one text", "a", 1), ex("two text", "b", 2)]
    test = [ex("third text", "refund", 5, "test.csv")]
    with pytest.raises(DataError, match="unknown_labels") as err:
        gate(train, test=test)
    assert "test.csv:5" in str(err.value)
    r = gate(train, test=test, unknown_labels="fix")
    assert r.splits["test"] == [] and r.ledger.removed[0].check == "unknown_labels"


def test_rare_classes_warn_and_fix():
    words = ["apple", "river", "stone", "cloud", "engine", "violin", "garden", "rocket"]
    train = [ex(f"{w} is here", "big", i) for i, w in enumerate(words)] + [ex("lonely text", "tiny", 20)]
    r = gate(train, rare_classes="warn")
    assert r.stats["rare_classes"] == {"tiny": 1} and len(r.splits["train"]) == 9
    r = gate(train, rare_classes="fix")
    assert len(r.splits["train"]) == 8 and r.ledger.removed[0].check == "rare_classes"


def test_class_balance_summary():
    train = [ex(f"text {i}", "a", i) for i in range(6)] + [ex(f"other {i}", "b", 10 + i) for i in range(2)]
    b = gate(train, near_duplicates="off").stats["splits"]["train"]["balance"]
    assert (b["largest"], b["smallest"], b["imbalance_ratio"]) == ("a", "b", 3.0)


# ---- NER ----------------------------------------------------------------------------------------
def test_invalid_transitions():
    assert invalid_transitions(["O", "I-PER", "I-PER", "B-LOC", "I-ORG", "O"]) == [1, 4]
    assert invalid_transitions(["B-PER", "I-PER", "O"]) == []


def test_bio_repair_records_the_change():
    r = gate([ner("John Smith lives in Paris", "I-PER I-PER O O B-LOC")], task="ner")
    assert r.splits["train"][0].tags == ("B-PER", "I-PER", "O", "O", "B-LOC")
    (change,) = [c for c in r.ledger.changed if c.check == "bio"]
    assert change.before == ("I-PER", "I-PER", "O", "O", "B-LOC")


def test_bio_warn_only_reports():
    r = gate([ner("John Smith", "I-PER I-PER")], task="ner", bio="warn")
    assert r.splits["train"][0].tags == ("I-PER", "I-PER")
    assert "token 1 'John'" in checks_of(r, "bio")[0].message


def test_ner_entity_type_typo_and_stats():
    rows = [ner(f"Person{i} went to Paris", "B-PER O O B-LOC", i) for i in range(10)]
    rows.append(ner("Anna met Bob", "B-PRE O B-PER", 30))
    r = gate(rows, task="ner", duplicates="off", near_duplicates="off")
    assert r.splits["train"][-1].tags == ("B-PER", "O", "B-PER")
    ent = r.stats["splits"]["train"]["entities"]
    assert ent["per_type"]["PER"]["count"] == 12 and ent["entities"] == 22


def test_chinese_ner_duplicates():
    rows = [
        ner("张三在北京工作", "B-PER I-PER O B-LOC I-LOC O O", 1, sep=""),
        ner("张三在北京工作", "B-PER I-PER O B-LOC I-LOC O O", 2, sep=""),
    ]
    r = gate(rows, task="ner")
    assert [x.line for x in r.ledger.removed] == [2]


# ---- fail mode, report, ledger --------------------------------------------------------------------
def test_fail_mode_names_file_and_line():
    with pytest.raises(DataError) as err:
        gate([ex("dup text", "a", 4), ex("dup text", "a", 9)], duplicates="fail")
    assert "train.csv:9" in str(err.value) and "data.quality.duplicates" in str(err.value)


def test_disabled_gate_changes_nothing():
    rows = [ex("dup   text", "a", 4), ex("dup   text", "a", 9)]
    r = gate(rows, enabled=False)
    assert r.splits["train"] == rows and not r.ledger.findings


def test_report_files(tmp_path):
    r = gate([ex("hello   world", "a", 1), ex("hello world", "a", 2), ex("third row", "b", 3)])
    r.write(tmp_path)
    removed = [json.loads(x) for x in (tmp_path / "removed.jsonl").read_text().splitlines()]
    assert removed[0]["line"] == 2 and removed[0]["reason"].startswith("duplicate of")
    assert (tmp_path / "changed.jsonl").read_text().count("\n") == 1
    md = (tmp_path / "data_report.md").read_text()
    assert "| duplicates | fix | 1 | 1 | 0 |" in md and "label_distribution.svg" in md
    assert (tmp_path / "label_distribution.svg").read_text().startswith("<svg")
    assert "<svg" in (tmp_path / "data_report.html").read_text()
    data = json.loads((tmp_path / "data_report.json").read_text())
    assert data["checks"]["duplicates"] == {"found": 1, "removed": 1}


# ---- property: nothing is lost without a record ------------------------------------------------------
_words = st.sampled_from(["card", "top", "up", "failed", "my", "pin", "卡", "银行", "  ", "Card", "\u200b"])
_rows = st.lists(
    st.tuples(st.lists(_words, min_size=0, max_size=6).map(" ".join), st.sampled_from(["a", "b", "A", "bb"])),
    min_size=1,
    max_size=25,
)


@settings(max_examples=60, deadline=None)
@given(train=_rows, test=_rows, modes=st.sampled_from(["fix", "warn"]))
def test_kept_plus_removed_equals_input(train, test, modes):
    splits = {
        "train": [ex(t, lab, i + 1) for i, (t, lab) in enumerate(train)],
        "test": [ex(t, lab, i + 1, "test.csv") for i, (t, lab) in enumerate(test)],
    }
    q = QualityConfig(
        **{
            k: modes
            for k in (
                "duplicates",
                "near_duplicates",
                "conflicts",
                "leakage",
                "near_leakage",
                "too_short",
                "empty",
            )
        },
        unknown_labels="fix",
        rare_classes="fix",
        coverage="off",
    )
    r = run_gate(splits, "classification", q)
    for name, rows in splits.items():
        removed = [x for x in r.ledger.removed if x.split == name]
        assert len(r.splits[name]) + len(removed) == len(rows)
        kept_lines = {e.line for e in r.splits[name]} | {x.line for x in removed}
        assert kept_lines == {e.line for e in rows}


# ---- label noise ----------------------------------------------------------------------------------
def test_confident_flags_on_hand_made_probabilities():
    import numpy as np

    from tuneforge.data.quality.model_checks import confident_flags

    probs = np.array(
        [
            [0.9, 0.1, 0.0],  # labelled 0, confident: fine
            [0.8, 0.2, 0.0],  # labelled 0: fine
            [0.1, 0.9, 0.0],  # labelled 0, but class 1 reaches its threshold: flagged, suggests 1
            [0.2, 0.7, 0.1],  # labelled 1: fine
            [0.0, 0.8, 0.2],  # labelled 1: fine
            [0.3, 0.3, 0.4],  # labelled 2: unsure everywhere, nothing reaches a threshold
            [0.0, 0.1, 0.9],  # labelled 2: fine
        ]
    )
    y = np.array([0, 0, 0, 1, 1, 2, 2])
    assert [(i, j) for i, j, _ in confident_flags(probs, y, threshold=0.5)] == [(2, 1)]


def test_label_noise_flags_a_wrong_label_on_separable_vectors():
    import numpy as np

    from tuneforge.data.quality.model_checks import label_noise_classification

    rng = np.random.default_rng(0)
    centres = {"a": np.array([1.0, 0.0]), "b": np.array([0.0, 1.0])}
    labels = ["a"] * 30 + ["b"] * 30
    vectors = [centres[lab] + 0.05 * rng.standard_normal(2) for lab in labels]
    labels[3] = "b"  # a wrong label
    flags = label_noise_classification(vectors, labels, threshold=0.5, seed=0)
    assert [(row, suggested) for row, suggested, _ in flags] == [(3, "a")]


def test_mention_probe_flags_a_wrong_entity_type_from_words_and_context():
    import numpy as np

    from tuneforge.data.quality.model_checks import label_noise_mentions, mention_features

    rng = np.random.default_rng(0)
    word = {
        "PER": np.array([1.0, 0.0, 0.0]),
        "LOC": np.array([0.0, 1.0, 0.0]),
        "O": np.array([0.0, 0.0, 1.0]),
    }
    rows, vectors = [], []
    for i in range(40):
        kind = "PER" if i % 2 else "LOC"
        toks = ("at", f"{kind.title()}{i}", "Hill") if kind == "LOC" else ("met", "Ann", f"Lee{i}")
        tags = ("O", f"B-{kind}", f"I-{kind}")
        rows.append(ner(" ".join(toks), " ".join(tags), i + 1))
        vectors.append(np.stack([word[t[2:] or "O"] if t != "O" else word["O"] for t in tags]))
        vectors[-1] = vectors[-1] + 0.05 * rng.standard_normal(vectors[-1].shape)
    x, where = mention_features(vectors, rows)
    assert x.shape == (40, 12) and where[0] == (0, "LOC", 1, 3)
    assert np.allclose(x[0][9:], 0.0)  # nothing after a sentence-final mention
    rows[7] = ner("met Ann Lee7", "O B-LOC I-LOC", 8)  # a PER mention labelled LOC
    flags = label_noise_mentions(vectors, rows, threshold=0.5, seed=0)
    assert [(row, suggested, detail) for row, suggested, _, detail in flags] == [(7, "PER", "LOC 'Ann Lee7'")]
    assert label_noise_mentions(vectors[:3], rows[:3], threshold=0.5, seed=0) == []  # too few to fold


# ---- checks that need the backbone (tiny random model, offline) -----------------------------------------
@pytest.fixture(scope="module")
def tiny_backbone():
    from tuneforge.data.quality import BackboneInfo
    from tuneforge.models.backbones import load_tokenizer, resolve_backbone

    spec = resolve_backbone("tiny-random")
    return BackboneInfo(spec, load_tokenizer(spec), 12)


def test_coverage_warns_for_text_the_vocabulary_lacks(tiny_backbone):
    train = [ex("where is my card", "a", 1), ex("我的银行卡丢了怎么办", "b", 2), ex("top up failed", "a", 3)]
    r = run_gate({"train": train}, "classification", cfg(coverage="warn"), backbone=tiny_backbone)
    (finding,) = checks_of(r, "coverage")
    assert "unknown to the backbone's tokenizer" in finding.message
    cover = r.stats["coverage"]["train"]
    assert cover["unknown_share"] > 0.01 and cover["examples_with_unknown"] == 1


def test_too_long_texts_are_reported_or_removed(tiny_backbone):
    long = ex("please tell me why my new card has still not arrived at my home address", "a", 1)
    rows = [long, ex("short one", "b", 2)]
    r = run_gate({"train": rows}, "classification", cfg(too_long="warn"), backbone=tiny_backbone)
    assert [f.line for f in checks_of(r, "too_long")] == [1] and len(r.splits["train"]) == 2
    r = run_gate({"train": rows}, "classification", cfg(too_long="fix"), backbone=tiny_backbone)
    assert [x.line for x in r.ledger.removed] == [1]


def test_embedding_near_duplicates(tiny_backbone):
    # n-gram similarity is set out of reach, so only the embedding cosine can pair texts here
    rows = [ex("card arrived broken", "a", 1), ex("card arrived broken today", "a", 2), ex("xyz qqq", "b", 3)]
    q = cfg(near_embeddings=True, embedding_threshold=0.97, near_threshold=1.0)
    r = run_gate({"train": rows}, "classification", q, backbone=tiny_backbone)
    assert [f.line for f in checks_of(r, "near_duplicates")] == [2]
    r = run_gate({"train": rows}, "classification", cfg(near_threshold=1.0), backbone=tiny_backbone)
    assert not checks_of(r, "near_duplicates")


@pytest.mark.parametrize(("probe", "expected"), [("token", [1, 2]), ("mention", [2, 3]), ("both", [2])])
def test_ner_noise_probe_choice(tiny_backbone, monkeypatch, probe, expected):
    import tuneforge.data.quality.model_checks as mc

    rows = [ner(f"Anna{i} went to Paris", "B-PER O O B-LOC", i + 1) for i in range(4)]
    token = [(1, "LOC", 0.1, "PER 'Anna1'"), (2, "ORG", 0.2, "LOC 'Paris'")]
    mention = [(2, "ORG", 0.1, "LOC 'Paris'"), (3, "LOC", 0.1, "PER 'Anna3'")]
    monkeypatch.setattr(mc, "label_noise_ner", lambda *a, **k: token)
    monkeypatch.setattr(mc, "label_noise_mentions", lambda *a, **k: mention)
    q = cfg(label_noise="warn", ner_noise_probe=probe, duplicates="off", near_duplicates="off")
    r = run_gate({"train": rows}, "ner", q, backbone=tiny_backbone)
    assert [f.line - 1 for f in checks_of(r, "label_noise")] == expected
    assert all("the probe suggests" in f.message for f in checks_of(r, "label_noise"))

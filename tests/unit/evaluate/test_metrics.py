"""Metrics against hand-checked cases and against scikit-learn / seqeval as references."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from seqeval.metrics import classification_report as seqeval_report
from seqeval.scheme import IOB2, Tokens
from sklearn.metrics import accuracy_score, f1_score, hamming_loss, precision_recall_fscore_support
from sklearn.metrics import classification_report as sk_report
from sklearn.preprocessing import MultiLabelBinarizer

from tuneforge.evaluate.metrics import (
    classification_report,
    entity_report,
    evaluate_predictions,
    multilabel_report,
    strict_spans,
)
from tuneforge.types import EvalResult, Example, Prediction

TOL = 1e-9
POOL = [f"c{i}" for i in range(7)]
TAGS = ["O", "O", "B-PER", "I-PER", "B-LOC", "I-LOC", "B-ORG", "I-ORG"]


def _close(a: float, b: float) -> None:
    assert abs(float(a) - float(b)) <= TOL, (a, b)


def _assert_row(ours: dict, p: float, r: float, f: float) -> None:
    _close(ours["precision"], p)
    _close(ours["recall"], r)
    _close(ours["f1"], f)


def _assert_prf_matches_sklearn(ours: dict, y_true, y_pred, labels) -> None:
    p, r, f, s = precision_recall_fscore_support(y_true, y_pred, labels=labels, average=None, zero_division=0)
    for k, label in enumerate(labels):
        _assert_row(ours["per_class"][label], p[k], r[k], f[k])
        assert ours["per_class"][label]["support"] == s[k]
    for avg in ("micro", "macro", "weighted"):
        ref = precision_recall_fscore_support(y_true, y_pred, labels=labels, average=avg, zero_division=0)
        _assert_row(ours[avg], *ref[:3])
        assert ours[avg]["support"] == s.sum()


def _confusion(y_true, y_pred, labels) -> list[list[int]]:
    index = {label: k for k, label in enumerate(labels)}
    out = [[0] * len(labels) for _ in labels]
    for t, p in zip(y_true, y_pred, strict=True):
        if t in index and p in index:
            out[index[t]][index[p]] += 1
    return out


# --------------------------------------------------------------------------- classification


def test_classification_hand_case() -> None:
    rep = classification_report(["a", "a", "b", "c"], ["a", "b", "b", "b"])
    assert rep["labels"] == ["a", "b", "c"]
    _assert_row(rep["per_class"]["a"], 1.0, 0.5, 2 / 3)
    _assert_row(rep["per_class"]["b"], 1 / 3, 1.0, 0.5)
    _assert_row(rep["per_class"]["c"], 0.0, 0.0, 0.0)
    assert [rep["per_class"][c]["support"] for c in "abc"] == [2, 1, 1]
    _assert_row(rep["micro"], 0.5, 0.5, 0.5)
    _assert_row(rep["macro"], 4 / 9, 0.5, (2 / 3 + 0.5) / 3)
    _assert_row(rep["weighted"], (2 * 1 + 1 / 3) / 4, 0.5, (2 * 2 / 3 + 0.5) / 4)
    assert rep["accuracy"] == 0.5
    assert rep["confusion_matrix"] == [[1, 1, 0], [0, 1, 0], [0, 1, 0]]
    assert rep["support"] == 4


def test_classification_label_only_in_predictions_and_given_order() -> None:
    rep = classification_report(["a", "a"], ["a", "z"], labels=["z", "a", "never"])
    assert rep["labels"] == ["z", "a", "never"]
    _assert_row(rep["per_class"]["z"], 0.0, 0.0, 0.0)
    assert rep["per_class"]["z"]["support"] == 0
    _assert_row(rep["per_class"]["a"], 1.0, 0.5, 2 / 3)
    assert rep["confusion_matrix"] == [[0, 0, 0], [1, 1, 0], [0, 0, 0]]


def test_classification_errors() -> None:
    with pytest.raises(ValueError, match="no examples to evaluate"):
        classification_report([], [])
    with pytest.raises(ValueError, match="predictions"):
        classification_report(["a"], ["a", "b"])
    with pytest.raises(ValueError, match="duplicate"):
        classification_report(["a"], ["a"], labels=["a", "a"])
    with pytest.raises(TypeError):
        classification_report([["a"]], [["a"]])


def test_classification_matches_sklearn_report_default_labels() -> None:
    rng = np.random.default_rng(0)
    for _ in range(60):
        n = int(rng.integers(1, 40))
        y_true = list(rng.choice(POOL[:4], n))
        y_pred = list(rng.choice(POOL, n))  # includes labels never seen in y_true
        ours = classification_report(y_true, y_pred)
        ref = sk_report(y_true, y_pred, output_dict=True, zero_division=0)
        assert ours["labels"] == sorted(set(y_true) | set(y_pred))
        for label in ours["labels"]:
            row = ref[label]
            _assert_row(ours["per_class"][label], row["precision"], row["recall"], row["f1-score"])
            assert ours["per_class"][label]["support"] == row["support"]
        for avg in ("macro", "weighted"):
            ref_row = ref[f"{avg} avg"]
            _assert_row(ours[avg], ref_row["precision"], ref_row["recall"], ref_row["f1-score"])
        _close(ours["accuracy"], ref["accuracy"] if "accuracy" in ref else accuracy_score(y_true, y_pred))
        _close(ours["micro"]["f1"], accuracy_score(y_true, y_pred))


def test_classification_matches_sklearn_with_label_subsets_and_supersets() -> None:
    rng = np.random.default_rng(1)
    for _ in range(80):
        n = int(rng.integers(1, 30))
        y_true = list(rng.choice(POOL[: int(rng.integers(1, 7))], n))
        y_pred = list(rng.choice(POOL[int(rng.integers(0, 3)) :], n))
        labels = list(rng.permutation(POOL + ["never"])[: int(rng.integers(1, 9))])
        ours = classification_report(y_true, y_pred, labels=labels)
        assert ours["labels"] == labels
        _assert_prf_matches_sklearn(ours, y_true, y_pred, labels)
        _close(ours["accuracy"], accuracy_score(y_true, y_pred))
        assert ours["confusion_matrix"] == _confusion(y_true, y_pred, labels)


@settings(max_examples=75, deadline=None)
@given(st.lists(st.tuples(st.sampled_from("abcd"), st.sampled_from("abcde")), min_size=1, max_size=25))
def test_classification_property_matches_sklearn(pairs: list[tuple[str, str]]) -> None:
    y_true, y_pred = [t for t, _ in pairs], [p for _, p in pairs]
    ours = classification_report(y_true, y_pred)
    _assert_prf_matches_sklearn(ours, y_true, y_pred, ours["labels"])
    assert sum(map(sum, ours["confusion_matrix"])) == len(pairs)


# --------------------------------------------------------------------------- multi-label


def test_multilabel_hand_case() -> None:
    rep = multilabel_report([["a"], ["a", "b"], []], [["a"], ["b"], ["c"]], labels=["a", "b", "c"])
    _assert_row(rep["per_class"]["a"], 1.0, 0.5, 2 / 3)
    _assert_row(rep["per_class"]["c"], 0.0, 0.0, 0.0)
    _assert_row(rep["micro"], 2 / 3, 2 / 3, 2 / 3)
    _assert_row(rep["samples"], 2 / 3, 0.5, (1 + 2 / 3) / 3)
    assert rep["subset_accuracy"] == pytest.approx(1 / 3)
    assert rep["hamming_loss"] == pytest.approx(2 / 9)


def test_multilabel_matches_sklearn() -> None:
    rng = np.random.default_rng(2)
    for _ in range(120):
        k = int(rng.integers(2, 6))  # one column would read as binary (not multi-label) in scikit-learn
        labels = POOL[:k]
        n = int(rng.integers(1, 20))
        y_true = [list(rng.choice(labels, int(rng.integers(0, k + 1)), replace=False)) for _ in range(n)]
        y_pred = [
            list(rng.choice(POOL[: k + 1], int(rng.integers(0, k + 2)), replace=False)) for _ in range(n)
        ]
        ours = multilabel_report(y_true, y_pred, labels)
        binarizer = MultiLabelBinarizer(classes=labels)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # unknown predicted class POOL[k] is ignored, as ours does
            gold, pred = binarizer.fit_transform(y_true), binarizer.transform(y_pred)
        p, r, f, s = precision_recall_fscore_support(gold, pred, average=None, zero_division=0)
        for j, label in enumerate(labels):
            _assert_row(ours["per_class"][label], p[j], r[j], f[j])
            assert ours["per_class"][label]["support"] == s[j]
        for avg in ("micro", "macro", "weighted", "samples"):
            ref = precision_recall_fscore_support(gold, pred, average=avg, zero_division=0)
            _assert_row(ours[avg], *ref[:3])
        _close(ours["subset_accuracy"], accuracy_score(gold, pred))
        _close(ours["hamming_loss"], hamming_loss(gold, pred))
        assert set(ours["unknown_labels"]) <= {POOL[k]}


def test_multilabel_errors() -> None:
    with pytest.raises(ValueError, match="no examples to evaluate"):
        multilabel_report([], [], ["a"])
    with pytest.raises(ValueError, match="labels must not be empty"):
        multilabel_report([["a"]], [["a"]], [])


# --------------------------------------------------------------------------- strict IOB2 spans


@pytest.mark.parametrize(
    ("tags", "spans"),
    [
        (["B-PER", "I-PER", "O", "B-LOC"], [("PER", 0, 2), ("LOC", 3, 4)]),
        (["I-PER", "I-PER"], []),
        (["O", "I-PER", "B-PER"], [("PER", 2, 3)]),
        (["B-PER", "I-LOC", "I-LOC"], [("PER", 0, 1)]),
        (["B-PER", "B-PER", "I-PER"], [("PER", 0, 1), ("PER", 1, 3)]),
        (["B-PER", "I-PER", "I-LOC", "B-LOC", "I-LOC"], [("PER", 0, 2), ("LOC", 3, 5)]),
        (["B-PER", "O", "I-PER"], [("PER", 0, 1)]),
        (["B", "I", "B-X"], [("_", 0, 2), ("X", 2, 3)]),
        ([], []),
        (["O", "O"], []),
    ],
)
def test_strict_spans_hand_cases(tags: list[str], spans: list[tuple[str, int, int]]) -> None:
    assert strict_spans(tags) == spans


@pytest.mark.parametrize("bad", ["E-PER", "S-LOC", "X", "", "b-PER"])
def test_strict_spans_rejects_non_iob2_tags(bad: str) -> None:
    with pytest.raises(ValueError, match="invalid IOB2 tag"):
        strict_spans(["O", bad])


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(["O", "B-A", "I-A", "B-B", "I-B", "B", "I", "B-A-", "I--A"]), max_size=15))
def test_strict_spans_match_seqeval(tags: list[str]) -> None:
    ref = [(e.tag, e.start, e.end) for e in Tokens(tags, IOB2).entities]
    assert strict_spans(tags) == ref


# --------------------------------------------------------------------------- entity report


def _random_corpus(rng: np.random.Generator, n_sent: int) -> list[list[str]]:
    return [list(rng.choice(TAGS, int(rng.integers(1, 12)))) for _ in range(n_sent)]


def _perturb(rng: np.random.Generator, corpus: list[list[str]]) -> list[list[str]]:
    return [[t if rng.random() < 0.7 else str(rng.choice(TAGS)) for t in sent] for sent in corpus]


def _assert_matches_seqeval(ours: dict, y_true: list[list[str]], y_pred: list[list[str]]) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # seqeval's macro average of no classes warns (and is NaN)
        ref = seqeval_report(y_true, y_pred, mode="strict", scheme=IOB2, output_dict=True, zero_division=0)
    averages = {f"{a} avg": a for a in ("micro", "macro", "weighted")}
    assert set(ours["labels"]) == set(ref) - set(averages)
    for label in ours["labels"]:
        _assert_row(
            ours["per_class"][label], ref[label]["precision"], ref[label]["recall"], ref[label]["f1-score"]
        )
        assert ours["per_class"][label]["support"] == ref[label]["support"]
    for ref_key, key in averages.items():
        row = ref[ref_key]
        if np.isnan(row["f1-score"]):  # no entity anywhere: seqeval gives NaN, we give 0
            assert ours["labels"] == [] and ours[key]["f1"] == 0.0
            continue
        _assert_row(ours[key], row["precision"], row["recall"], row["f1-score"])
        assert ours[key]["support"] == row["support"]


def test_entity_report_matches_seqeval_strict_on_random_corpora() -> None:
    rng = np.random.default_rng(3)
    for _ in range(120):
        y_true = _random_corpus(rng, int(rng.integers(1, 6)))
        y_pred = _perturb(rng, y_true)
        ours = entity_report(y_true, y_pred)
        _assert_matches_seqeval(ours, y_true, y_pred)
        flat_true, flat_pred = sum(y_true, []), sum(y_pred, [])
        _assert_prf_matches_sklearn(
            ours["token"], flat_true, flat_pred, sorted(set(flat_true) | set(flat_pred))
        )
        _close(ours["accuracy"], accuracy_score(flat_true, flat_pred))


def test_entity_report_hand_case_and_default_mode_contrast() -> None:
    y_true = [["B-PER", "I-PER", "O", "B-LOC"], ["O", "B-ORG"]]
    y_pred = [["I-PER", "I-PER", "O", "B-LOC"], ["O", "B-ORG"]]
    ours = entity_report(y_true, y_pred)
    assert ours["labels"] == ["LOC", "ORG", "PER"]
    _assert_row(ours["per_class"]["PER"], 0.0, 0.0, 0.0)  # "I-PER I-PER" is no entity in strict IOB2
    _assert_row(ours["micro"], 1.0, 2 / 3, 0.8)
    assert ours["support"] == 3
    assert ours["accuracy"] == pytest.approx(5 / 6)
    _assert_matches_seqeval(ours, y_true, y_pred)
    lenient = seqeval_report(y_true, y_pred, output_dict=True, zero_division=0)  # conlleval-style default
    assert lenient["PER"]["f1-score"] == 1.0
    assert lenient["micro avg"]["f1-score"] != pytest.approx(ours["micro"]["f1"])


def test_entity_report_type_change_and_invalid_sequences() -> None:
    y_true = [["B-PER", "I-PER", "I-PER"], ["B-LOC", "I-LOC", "O"]]
    y_pred = [["B-PER", "I-LOC", "I-PER"], ["O", "I-LOC", "I-LOC"]]
    ours = entity_report(y_true, y_pred)
    assert ours["per_class"]["PER"]["support"] == 1
    _assert_row(ours["micro"], 0.0, 0.0, 0.0)  # predicted PER span is (0, 1) only; the LOC one never starts
    _assert_matches_seqeval(ours, y_true, y_pred)


def test_entity_report_without_entities() -> None:
    ours = entity_report([["O", "O"]], [["O", "I-PER"]])
    assert ours["labels"] == [] and ours["per_class"] == {}
    for avg in ("micro", "macro", "weighted"):
        _assert_row(ours[avg], 0.0, 0.0, 0.0)
    assert ours["accuracy"] == 0.5


def test_entity_report_errors() -> None:
    with pytest.raises(ValueError, match="no examples to evaluate"):
        entity_report([], [])
    with pytest.raises(ValueError, match="no examples to evaluate"):
        entity_report([[]], [[]])
    with pytest.raises(ValueError, match="sentence 1"):
        entity_report([["O"], ["O", "O"]], [["O"], ["O"]])
    with pytest.raises(ValueError, match="predictions"):
        entity_report([["O"]], [["O"], ["O"]])


# --------------------------------------------------------------------------- evaluate_predictions


def _in_unit_interval(result: EvalResult) -> None:
    assert all(isinstance(v, float) and 0.0 <= v <= 1.0 for v in result.metrics.values()), result.metrics


def test_evaluate_classification() -> None:
    golds, preds = ["pos", "neg", "neg", "neu"], ["pos", "pos", "neg", "neg"]
    result = evaluate_predictions("classification", golds, preds, ["neg", "neu", "pos", "unused"])
    assert result.task == "classification"
    assert set(result.metrics) == {"accuracy", "macro_f1", "weighted_f1", "micro_f1"}
    assert result.report["primary_metric"] == "accuracy" and result.report["task"] == "classification"
    assert result.primary == result.metrics["accuracy"] == 0.5
    assert result.report["labels"] == ["neg", "neu", "pos"]  # given order; absent classes left out
    _close(result.metrics["macro_f1"], f1_score(golds, preds, average="macro", zero_division=0))
    _close(result.metrics["weighted_f1"], f1_score(golds, preds, average="weighted", zero_division=0))
    _in_unit_interval(result)


def test_evaluate_classification_keeps_unseen_predicted_labels() -> None:
    result = evaluate_predictions("classification", ["a", "b"], ["a", "zzz"], ["a", "b"])
    assert result.report["labels"] == ["a", "b", "zzz"]
    _close(result.metrics["macro_f1"], f1_score(["a", "b"], ["a", "zzz"], average="macro", zero_division=0))


def test_evaluate_multilabel() -> None:
    golds, preds = [("a", "b"), ("c",), ()], [("a",), ("c", "b"), ()]
    result = evaluate_predictions("multilabel", golds, preds, ["a", "b", "c", "d"])
    assert set(result.metrics) == {"micro_f1", "macro_f1", "samples_f1", "subset_accuracy"}
    assert result.report["primary_metric"] == "micro_f1"
    gold = MultiLabelBinarizer(classes=["a", "b", "c", "d"]).fit_transform(golds)
    pred = MultiLabelBinarizer(classes=["a", "b", "c", "d"]).fit_transform(preds)
    for name, avg in (("micro_f1", "micro"), ("macro_f1", "macro"), ("samples_f1", "samples")):
        _close(result.metrics[name], f1_score(gold, pred, average=avg, zero_division=0))
    _close(result.metrics["subset_accuracy"], 1 / 3)
    _in_unit_interval(result)


def test_evaluate_multilabel_adds_unseen_labels() -> None:
    result = evaluate_predictions("multilabel", [["a"]], [["a", "zzz"]], ["a", "b"])
    assert result.report["labels"] == ["a", "b", "zzz"]
    _close(result.metrics["micro_f1"], 2 / 3)


def test_evaluate_ner() -> None:
    golds = [["B-PER", "I-PER", "O"], ["B-LOC", "O"]]
    preds = [["B-PER", "I-PER", "O"], ["B-ORG", "O"]]
    result = evaluate_predictions("ner", golds, preds, ["O", "B-PER", "I-PER", "B-LOC", "B-ORG"])
    assert set(result.metrics) == {"f1", "precision", "recall", "macro_f1", "token_accuracy"}
    assert result.report["primary_metric"] == "f1" and result.primary == 0.5
    assert result.metrics["token_accuracy"] == 0.8
    assert result.report["token"]["labels"] == ["O", "B-PER", "I-PER", "B-LOC", "B-ORG"]
    _in_unit_interval(result)


def test_evaluate_accepts_examples_and_predictions() -> None:
    golds = [Example(text="x", label="a"), Example(text="y", label="b")]
    preds = [Prediction(label="a"), Prediction(label="a")]
    assert evaluate_predictions("classification", golds, preds, ["a", "b"]).metrics["accuracy"] == 0.5
    tagged = [Example(text="a b", tokens=("a", "b"), tags=("B-X", "O"))]
    assert evaluate_predictions("ner", tagged, [Prediction(tags=["B-X", "O"])], []).metrics["f1"] == 1.0
    with pytest.raises(ValueError, match="no label"):
        evaluate_predictions("classification", [Example(text="x")], ["a"], ["a"])


@pytest.mark.parametrize("task", ["classification", "multilabel", "ner"])
def test_evaluate_empty_inputs(task: str) -> None:
    with pytest.raises(ValueError, match="no examples to evaluate"):
        evaluate_predictions(task, [], [], ["a"])


def test_evaluate_rejects_unknown_task_and_length_mismatch() -> None:
    with pytest.raises(ValueError, match="unknown task"):
        evaluate_predictions("regression", ["a"], ["a"], ["a"])
    with pytest.raises(ValueError, match="predictions"):
        evaluate_predictions("classification", ["a", "b"], ["a"], ["a", "b"])

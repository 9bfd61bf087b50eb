import pytest
import torch

from tuneforge.models.backbones import load_tokenizer, resolve_backbone
from tuneforge.models.tasks import IGNORE, get_task, words_with_offsets
from tuneforge.types import Example


@pytest.fixture(scope="module")
def tok():
    return load_tokenizer(resolve_backbone("tiny-random"))


def test_words_with_offsets_english_and_chinese():
    ex = words_with_offsets("Hi, Anna Smith!")
    assert ex.tokens == ("Hi", ",", "Anna", "Smith", "!")
    assert [ex.text[s:e] for s, e in ex.token_offsets()] == list(ex.tokens)
    zh = words_with_offsets("高勇，男")
    assert zh.tokens == ("高", "勇", "，", "男")
    assert zh.token_offsets() == [(0, 1), (1, 2), (2, 3), (3, 4)]


def test_classification_encode_collate_loss_decode(tok):
    task = get_task("classification")
    exs = [Example("where is my card", "card"), Example("hello there friend of mine", "greet")]
    labels = task.label_list(exs)
    feats = task.encode(exs, tok, {lab: i for i, lab in enumerate(labels)}, 16)
    batch = task.collate(feats, tok.pad_token_id)
    assert batch["input_ids"].shape[0] == 2 and batch["labels"].tolist() == [0, 1]
    assert batch["attention_mask"].sum(1).tolist() == [len(f["input_ids"]) for f in feats]
    logits = torch.tensor([[3.0, 0.0], [0.0, 3.0]])
    assert task.loss(logits, batch) < 0.1
    preds = task.decode(task.probabilities(logits), feats, exs, labels)
    assert [p.label for p in preds] == ["card", "greet"]
    assert sum(preds[0].probabilities.values()) == pytest.approx(1.0)


def test_example_weights_change_the_loss(tok):
    task = get_task("classification")
    batch = {"labels": torch.tensor([0, 1]), "weight": torch.tensor([1.0, 0.0])}
    logits = torch.tensor([[5.0, 0.0], [5.0, 0.0]])  # second example is wrong but has weight 0
    assert task.loss(logits, batch) < 0.01


def test_multilabel_targets_and_threshold(tok):
    task = get_task("multilabel")
    exs = [Example("a b", ("x", "y")), Example("c", ("z",))]
    labels = task.label_list(exs)
    assert labels == ["x", "y", "z"]
    feats = task.encode(exs, tok, {lab: i for i, lab in enumerate(labels)}, 16)
    assert feats[0]["labels"] == [1.0, 1.0, 0.0]
    probs = torch.tensor([[0.9, 0.6, 0.1], [0.2, 0.4, 0.7]])
    preds = task.decode(probs, feats, exs, labels, threshold=0.5)
    assert [p.label for p in preds] == [["x", "y"], ["z"]]


def test_ner_labels_first_subtoken_only_and_decodes_spans(tok):
    task = get_task("ner")
    ex = Example(
        "Anna Qwertzuiopx visited Paris",
        tokens=("Anna", "Qwertzuiopx", "visited", "Paris"),
        tags=("B-PER", "I-PER", "O", "B-LOC"),
    )
    labels = task.label_list([ex])
    assert labels == ["O", "B-LOC", "I-LOC", "B-PER", "I-PER"]
    l2i = {lab: i for i, lab in enumerate(labels)}
    (feat,) = task.encode([ex], tok, l2i, 32)
    labelled = [x for x in feat["labels"] if x != IGNORE]
    assert labelled == [l2i[t] for t in ex.tags]  # one label per word, on its first piece
    assert len(feat["input_ids"]) > len(ex.tokens) + 2  # "Qwertzuiopx" splits into pieces
    probs = torch.zeros(1, len(feat["input_ids"]), len(labels))
    for w, pos in enumerate(feat["word_starts"]):
        probs[0, pos, l2i[ex.tags[w]]] = 1.0
    (pred,) = task.decode(probs, [feat], [ex], labels)
    assert pred.tags == list(ex.tags)
    assert [(e.type, e.text, e.start, e.end) for e in pred.entities] == [
        ("PER", "Anna Qwertzuiopx", 0, 16),
        ("LOC", "Paris", 25, 30),
    ]


def test_ner_truncated_words_are_predicted_outside(tok):
    task = get_task("ner")
    ex = Example(" ".join(["word"] * 30), tokens=tuple(["word"] * 30), tags=tuple(["O"] * 29 + ["B-PER"]))
    l2i = {"O": 0, "B-PER": 1, "I-PER": 2}
    (feat,) = task.encode([ex], tok, l2i, 10)
    assert feat["word_starts"][-1] == -1
    probs = torch.zeros(1, 10, 3)
    probs[..., 1] = 1.0
    (pred,) = task.decode(probs, [feat], [ex], list(l2i))
    assert len(pred.tags) == 30 and pred.tags[-1] == "O"


def test_unknown_label_in_evaluation_data_is_a_data_error():
    from tuneforge.errors import DataError

    task = get_task("classification")
    with pytest.raises(DataError, match="Did you mean 'positive'"):
        task.check_labels([Example("x", "Postive", source="dev.csv", line=3)], ["negative", "positive"])

"""The distillation term of the task losses."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from tuneforge.models.tasks import Distillation, get_task, soft_kl


def test_soft_kl_is_zero_when_the_student_matches_the_teacher():
    logits = torch.tensor([[1.0, 2.0, 0.5]])
    probs = logits.softmax(-1)
    assert soft_kl(logits, probs, 1.0).item() == pytest.approx(0.0, abs=1e-6)
    # at T=2 the teacher p^(1/2) matches softmax(logits / 2)
    assert soft_kl(logits, probs, 2.0).item() == pytest.approx(0.0, abs=1e-6)
    assert soft_kl(logits, torch.tensor([[0.1, 0.1, 0.8]]), 2.0).item() > 0


def test_classification_loss_mixes_true_labels_and_kl():
    task = get_task("classification")
    logits = torch.tensor([[1.0, -1.0, 0.0], [0.2, 0.1, 0.0]])
    batch = {"labels": torch.tensor([0, 2]), "soft_targets": torch.tensor([[0.2, 0.5, 0.3], [0.6, 0.2, 0.2]])}
    ce = F.cross_entropy(logits, batch["labels"])
    kl = soft_kl(logits, batch["soft_targets"], 3.0).mean()
    task.distillation = Distillation(temperature=3.0, alpha=1.0)
    assert task.loss(logits, batch).item() == pytest.approx(ce.item(), rel=1e-5)
    task.distillation = Distillation(temperature=3.0, alpha=0.0)
    assert task.loss(logits, batch).item() == pytest.approx(kl.item(), rel=1e-5)
    task.distillation = Distillation(temperature=3.0, alpha=0.25)
    assert task.loss(logits, batch).item() == pytest.approx(0.25 * ce.item() + 0.75 * kl.item(), rel=1e-5)


def test_token_soft_targets_sit_on_word_starts():
    task = get_task("ner")
    feats = [
        {
            "input_ids": [1, 5, 6, 2],
            "word_starts": [1, 2],
            "labels": [-100, 1, 0, -100],
            "soft_targets": [[0.1, 0.9], [0.8, 0.2]],
        },
        {"input_ids": [1, 7, 2], "word_starts": [1], "labels": [-100, 0, -100], "soft_targets": [[0.7, 0.3]]},
    ]
    batch = task.collate(feats, pad_id=0)
    soft = batch["soft_targets"]
    assert soft.shape == (2, 4, 2)
    assert soft[0, 1].tolist() == pytest.approx([0.1, 0.9]) and soft[1, 1].tolist() == pytest.approx(
        [0.7, 0.3]
    )
    assert soft[0, 0].sum() == 0
    task.distillation = Distillation(temperature=2.0, alpha=0.0)
    logits = torch.randn(2, 4, 2)
    loss = task.loss(logits, batch)
    mask = batch["labels"] != -100
    expected = soft_kl(logits, soft, 2.0)[mask].mean()
    assert loss.item() == pytest.approx(expected.item(), rel=1e-5)


def test_multilabel_distillation_is_a_tempered_per_label_bce():
    task = get_task("multilabel")
    logits = torch.tensor([[1.5, -0.5, 0.0], [-2.0, 0.3, 1.0]], requires_grad=True)
    teacher = torch.tensor([[0.9, 0.2, 0.5], [0.1, 0.6, 0.7]])
    batch = {"labels": torch.tensor([[1.0, 0.0, 1.0], [0.0, 1.0, 1.0]]), "soft_targets": teacher}
    bce = F.binary_cross_entropy_with_logits(logits, batch["labels"], reduction="none").mean(-1).mean()
    t = 2.0
    teacher_t = torch.sigmoid(torch.logit(teacher) / t)
    soft = F.binary_cross_entropy_with_logits(logits / t, teacher_t, reduction="none").mean(-1) * t * t
    task.distillation = Distillation(temperature=t, alpha=0.25)
    loss = task.loss(logits, batch)
    assert loss.item() == pytest.approx(0.25 * bce.item() + 0.75 * soft.mean().item(), rel=1e-5)
    # the distillation term alone is stationary where the student's probabilities equal the teacher's
    task.distillation = Distillation(temperature=t, alpha=0.0)
    at_teacher = torch.logit(teacher).clone().requires_grad_(True)
    task.loss(at_teacher, batch).backward()
    assert at_teacher.grad.abs().max().item() < 1e-6


def test_transfer_examples_learn_from_the_teacher_alone():
    """``hard`` 0 (a transfer example without a true label): its loss is the KL term only, whatever
    placeholder label it carries; ``hard`` 1 keeps the alpha mix."""
    task = get_task("classification")
    task.distillation = Distillation(temperature=2.0, alpha=0.3)
    logits = torch.tensor([[1.0, -1.0, 0.0], [0.2, 0.1, 0.0]])
    soft = torch.tensor([[0.2, 0.5, 0.3], [0.6, 0.2, 0.2]])
    feats = [
        {"input_ids": [1, 4, 2], "labels": 2, "soft_targets": soft[0].tolist(), "hard": 1.0},
        {"input_ids": [1, 5, 2], "labels": 0, "soft_targets": soft[1].tolist(), "hard": 0.0},
    ]
    batch = task.collate(feats, pad_id=0)
    assert batch["hard"].tolist() == [1.0, 0.0]
    ce = F.cross_entropy(logits, batch["labels"], reduction="none")
    kl = soft_kl(logits, soft, 2.0)
    expected = ((0.3 * ce[0] + 0.7 * kl[0]) + kl[1]) / 2
    assert task.loss(logits, batch).item() == pytest.approx(expected.item(), rel=1e-5)
    # the placeholder label of the transfer example does not matter
    batch["labels"] = torch.tensor([2, 1])
    assert task.loss(logits, batch).item() == pytest.approx(expected.item(), rel=1e-5)


def test_ner_transfer_sentences_learn_from_the_teacher_alone():
    task = get_task("ner")
    task.distillation = Distillation(temperature=1.0, alpha=0.5)
    labelled = {
        "input_ids": [1, 5, 2],
        "word_starts": [1],
        "labels": [-100, 1, -100],
        "soft_targets": [[0.3, 0.7]],
    }
    transfer = {"input_ids": [1, 6, 7, 2], "word_starts": [1, 2], "soft_targets": [[0.9, 0.1], [0.4, 0.6]]}
    transfer["labels"] = task.placeholder_target(transfer, 2)
    assert transfer["labels"] == [-100, 0, 0, -100]  # the loss mask covers the words' first pieces
    labelled["hard"], transfer["hard"] = 1.0, 0.0
    batch = task.collate([labelled, transfer], pad_id=0)
    logits = torch.randn(2, 4, 2)
    ce = F.cross_entropy(logits.transpose(1, 2), batch["labels"], ignore_index=-100, reduction="none")
    kl = soft_kl(logits, batch["soft_targets"], 1.0)
    expected = ((0.5 * ce[0, 1] + 0.5 * kl[0, 1]) + kl[1, 1] + kl[1, 2]) / 3
    assert task.loss(logits, batch).item() == pytest.approx(expected.item(), rel=1e-5)


def test_a_transfer_set_needs_soft_targets_for_every_example():
    from tuneforge.errors import RunError
    from tuneforge.pipeline import _transfer_feats
    from tuneforge.types import Example

    class Tok:
        def __call__(self, texts, truncation=True, max_length=8):
            return {"input_ids": [[1, len(t), 2] for t in texts]}

    task = get_task("classification")
    examples = [Example(text="abc"), Example(text="de", label="x")]
    labelled = [{"input_ids": [1, 3, 2], "labels": 0, "soft_targets": [0.5, 0.5]}]
    with pytest.raises(RunError, match="soft_targets for the training examples"):
        _transfer_feats(
            task, examples, [[0.5, 0.5]] * 2, [{"input_ids": [1], "labels": 0}], Tok(), {"x": 0}, 8
        )
    with pytest.raises(RunError, match="2 transfer examples"):
        _transfer_feats(task, examples, [[0.5, 0.5]], labelled, Tok(), {"x": 0, "y": 1}, 8)
    feats = _transfer_feats(task, examples, [[0.9, 0.1], [0.2, 0.8]], labelled, Tok(), {"x": 0, "y": 1}, 8)
    assert [f["hard"] for f in labelled + feats] == [1.0, 0.0, 0.0]
    assert [f["soft_targets"] for f in feats] == [[0.9, 0.1], [0.2, 0.8]]
    assert all(f["labels"] == 0 for f in feats)  # a placeholder; "de"'s own label is not used


def test_recipe_and_python_distillation_defaults_agree():
    """``ensemble.distill`` in a recipe, ``distill()`` and ``Distillation`` share one default: the
    ensemble's distribution as it is (T = 1) and an even mix with the true labels."""
    import inspect

    from tuneforge.config import DistillConfig
    from tuneforge.ensemble import distill

    params = inspect.signature(distill).parameters
    cfg = DistillConfig()
    assert (cfg.temperature, cfg.alpha) == (1.0, 0.5)
    assert (params["temperature"].default, params["alpha"].default) == (1.0, 0.5)
    assert (Distillation().temperature, Distillation().alpha) == (1.0, 0.5)

"""Task definitions: how examples become tensors, which head they need, their loss, and how logits
become predictions. The training loop only ever calls these methods, so it has no task branches."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import DataError, did_you_mean
from ..types import Example, Prediction
from .heads import SequenceHead

IGNORE = -100
_WORD = re.compile(
    r"[\u3400-\u9fff\uf900-\ufaff\u3040-\u30ff\uac00-\ud7af]|[^\W\u3400-\u9fff]+|[^\w\s]", re.UNICODE
)


def words_with_offsets(text: str) -> Example:
    """Split raw text into words (CJK: one character each) keeping character offsets, for NER input."""
    matches = list(_WORD.finditer(text))
    return Example(
        text=text,
        tokens=tuple(m.group() for m in matches),
        spans=tuple((m.start(), m.end()) for m in matches),
    )


def _pad(seqs: Sequence[Sequence[int]], value: int) -> torch.Tensor:
    width = max(len(s) for s in seqs)
    out = torch.full((len(seqs), width), value, dtype=torch.long)
    for i, s in enumerate(seqs):
        out[i, : len(s)] = torch.as_tensor(s, dtype=torch.long)
    return out


@dataclass(frozen=True)
class Distillation:
    """Knowledge distillation from soft targets (``feats[i]["soft_targets"]``): the loss is
    ``alpha * true-label loss + (1 - alpha) * T^2 * KL(teacher_T || student_T)``, where ``teacher_T``
    is the soft targets sharpened or flattened by temperature ``T`` (``p^(1/T)``, renormalised).
    Multi-label tasks use the per-label analogue (``soft_bce``). Examples without a true label (a
    transfer set: ``feats[i]["hard"] == 0``) are trained on the distillation term alone."""

    temperature: float = 1.0
    alpha: float = 0.5  # weight of the true-label loss


def soft_kl(logits: torch.Tensor, probs: torch.Tensor, temperature: float) -> torch.Tensor:
    """``T^2 * KL(teacher_T || softmax(logits / T))`` over the last dimension (no reduction)."""
    teacher = F.log_softmax(probs.float().clamp(min=1e-12).log() / temperature, dim=-1)
    student = F.log_softmax(logits.float() / temperature, dim=-1)
    return (teacher.exp() * (teacher - student)).sum(-1) * temperature**2


def soft_bce(logits: torch.Tensor, probs: torch.Tensor, temperature: float) -> torch.Tensor:
    """Multi-label distillation: ``T^2 * BCE(sigmoid(logits / T), teacher_T)`` averaged over the labels
    (no reduction over examples); ``teacher_T = sigmoid(logit(p) / T)`` per label."""
    p = probs.float().clamp(1e-6, 1 - 1e-6)
    teacher = torch.sigmoid(torch.log(p / (1 - p)) / temperature)
    per = F.binary_cross_entropy_with_logits(logits.float() / temperature, teacher, reduction="none")
    return per.mean(-1) * temperature**2


class Task:
    """Base: shared encode/collate for sequence-level tasks."""

    name = "task"
    distillation: Distillation | None = None  # set on the instance when training from soft targets
    primary_metric = "accuracy"
    metrics: tuple[str, ...] = ("accuracy", "macro_f1", "weighted_f1", "micro_f1")
    # every method's default learning rate is multiplied by this for the task (Method.default_lr_for)
    lr_scale = 1.0

    # ---- labels ----------------------------------------------------------------------------
    def label_list(self, examples: Sequence[Example]) -> list[str]:
        return sorted({ex.label for ex in examples if isinstance(ex.label, str)})

    def check_labels(self, examples: Sequence[Example], labels: Sequence[str]) -> None:
        known = set(labels)
        for ex in examples:
            for lab in self._labels_of(ex):
                if lab not in known:
                    raise DataError(
                        f"label {lab!r} is not in the label set of the training data."
                        + did_you_mean(lab, labels),
                        file=ex.source,
                        line=ex.line,
                        hint="fix the label, or add training examples of it",
                    )

    def _labels_of(self, ex: Example) -> list[str]:
        return [ex.label] if isinstance(ex.label, str) else []

    # ---- tensors ---------------------------------------------------------------------------
    def encode(
        self, examples: Sequence[Example], tokenizer: Any, label2id: dict[str, int], max_length: int
    ) -> list[dict[str, Any]]:
        enc = tokenizer([ex.text for ex in examples], truncation=True, max_length=max_length)
        feats = []
        for i, ex in enumerate(examples):
            f: dict[str, Any] = {"input_ids": enc["input_ids"][i]}
            if ex.label is not None:
                f["labels"] = self._target(ex, label2id)
            feats.append(f)
        return feats

    def _target(self, ex: Example, label2id: dict[str, int]) -> Any:
        return label2id[ex.label]  # type: ignore[index]

    def placeholder_target(self, feat: dict[str, Any], n_labels: int) -> Any:
        """A stand-in label for an example without one (a distillation transfer example, whose
        true-label loss is weighted 0): any valid target of the right shape."""
        return 0

    def collate(self, feats: Sequence[dict[str, Any]], pad_id: int) -> dict[str, torch.Tensor]:
        ids = _pad([f["input_ids"] for f in feats], pad_id)
        batch = {"input_ids": ids, "attention_mask": (ids != pad_id).long()}
        if feats and "labels" in feats[0]:
            batch["labels"] = self._collate_labels(feats)
        if feats and "weight" in feats[0]:
            batch["weight"] = torch.tensor([f["weight"] for f in feats], dtype=torch.float)
        if feats and "soft_targets" in feats[0]:
            batch["soft_targets"] = self._collate_soft(feats, ids.shape[1])
        if feats and "hard" in feats[0]:  # 1: a true label to learn from; 0: soft targets only
            batch["hard"] = torch.tensor([f["hard"] for f in feats], dtype=torch.float)
        return batch

    def _collate_soft(self, feats: Sequence[dict[str, Any]], width: int) -> torch.Tensor:
        return torch.tensor([f["soft_targets"] for f in feats], dtype=torch.float)

    def _distilled(
        self, logits: torch.Tensor, batch: dict[str, torch.Tensor], per: torch.Tensor
    ) -> torch.Tensor:
        """Mix the per-example (or per-token) true-label loss with the distillation term."""
        soft, d = batch.get("soft_targets"), self.distillation
        if soft is None or d is None:
            return per
        kl = self.soft_loss(logits, soft.to(logits.device), d.temperature)
        hard = batch.get("hard")
        if hard is None:
            return d.alpha * per + (1 - d.alpha) * kl
        alpha = d.alpha * hard.to(per.device).view(-1, *([1] * (per.dim() - 1)))  # per example / per token
        return alpha * per + (1 - alpha) * kl

    soft_loss = staticmethod(soft_kl)  # the distillation term against the teacher's probabilities

    def _collate_labels(self, feats: Sequence[dict[str, Any]]) -> torch.Tensor:
        return torch.tensor([f["labels"] for f in feats], dtype=torch.long)

    # ---- model -----------------------------------------------------------------------------
    def build_head(
        self, hidden: int, n_labels: int, pooling: str, dropout: float, normalize: bool = False
    ) -> nn.Module:
        return SequenceHead(hidden, n_labels, pooling=pooling, dropout=dropout, normalize=normalize)

    def loss(
        self,
        logits: torch.Tensor,
        batch: dict[str, torch.Tensor],
        class_weights: torch.Tensor | None = None,
        label_smoothing: float = 0.0,
    ) -> torch.Tensor:
        per = F.cross_entropy(
            logits.float(),
            batch["labels"],
            weight=class_weights,
            label_smoothing=label_smoothing,
            reduction="none",
        )
        return _weighted_mean(self._distilled(logits, batch, per), batch.get("weight"))

    def loss_units(self, feat: dict[str, Any]) -> int | None:
        """What the loss averages over in one example, when that varies between examples (NER: its
        labelled words). ``None``: one unit per example, the batch mean is already fair."""
        return None

    def class_counts(self, feats: Sequence[dict[str, Any]], n_labels: int) -> torch.Tensor:
        counts = Counter(f["labels"] for f in feats)
        return torch.tensor([counts.get(i, 0) for i in range(n_labels)], dtype=torch.float)

    # ---- predictions -----------------------------------------------------------------------
    def probabilities(self, logits: torch.Tensor) -> torch.Tensor:
        return logits.float().softmax(-1)

    def decode(
        self,
        probs: torch.Tensor,
        feats: Sequence[dict[str, Any]],
        examples: Sequence[Example],
        id2label: Sequence[str],
        threshold: float = 0.5,
    ) -> list[Prediction]:
        out = []
        for row in probs.tolist():
            best = max(range(len(row)), key=row.__getitem__)
            out.append(Prediction(label=id2label[best], probabilities=dict(zip(id2label, row, strict=True))))
        return out

    def gold(self, ex: Example) -> Any:
        return ex.label

    def predicted(self, pred: Prediction) -> Any:
        return pred.label

    def probe_targets(self, feats: Sequence[dict[str, Any]]) -> torch.Tensor:
        return self._collate_labels(feats)

    def configure(self, meta: dict[str, Any]) -> Task:
        """Take the task's prediction settings from a run's meta (none for sequence tasks)."""
        return self


def _weighted_mean(per: torch.Tensor, weight: torch.Tensor | None) -> torch.Tensor:
    if weight is None:
        return per.mean()
    weight = weight.to(per.device)
    return (per * weight).sum() / weight.sum().clamp(min=1e-12)


class ClassificationTask(Task):
    name = "classification"
    primary_metric = "accuracy"


class MultiLabelTask(Task):
    name = "multilabel"
    primary_metric = "micro_f1"
    metrics = ("micro_f1", "macro_f1", "samples_f1", "subset_accuracy")

    def label_list(self, examples: Sequence[Example]) -> list[str]:
        return sorted({lab for ex in examples for lab in self._labels_of(ex)})

    def _labels_of(self, ex: Example) -> list[str]:
        return list(ex.label) if isinstance(ex.label, tuple | list) else ([ex.label] if ex.label else [])

    def placeholder_target(self, feat: dict[str, Any], n_labels: int) -> Any:
        return [0.0] * n_labels

    def _target(self, ex: Example, label2id: dict[str, int]) -> Any:
        vec = [0.0] * len(label2id)
        for lab in self._labels_of(ex):
            vec[label2id[lab]] = 1.0
        return vec

    def _collate_labels(self, feats: Sequence[dict[str, Any]]) -> torch.Tensor:
        return torch.tensor([f["labels"] for f in feats], dtype=torch.float)

    def loss(self, logits, batch, class_weights=None, label_smoothing=0.0):
        target = batch["labels"]
        if label_smoothing:
            target = target * (1 - label_smoothing) + 0.5 * label_smoothing
        per = F.binary_cross_entropy_with_logits(
            logits.float(), target, pos_weight=class_weights, reduction="none"
        ).mean(-1)
        return _weighted_mean(self._distilled(logits, batch, per), batch.get("weight"))

    soft_loss = staticmethod(soft_bce)  # independent labels: a tempered per-label BCE

    def class_counts(self, feats, n_labels):
        return torch.tensor([f["labels"] for f in feats], dtype=torch.float).sum(0)

    def probabilities(self, logits: torch.Tensor) -> torch.Tensor:
        return logits.float().sigmoid()

    def decode(self, probs, feats, examples, id2label, threshold=0.5):
        out = []
        for row in probs.tolist():
            labels = [id2label[i] for i, p in enumerate(row) if p >= threshold]
            out.append(Prediction(label=labels, probabilities=dict(zip(id2label, row, strict=True))))
        return out

    def gold(self, ex: Example) -> Any:
        return self._labels_of(ex)


TASKS: dict[str, type[Task]] = {"classification": ClassificationTask, "multilabel": MultiLabelTask}


def register_task(name: str, cls: type[Task]) -> None:
    TASKS[name] = cls


def get_task(name: str, meta: dict[str, Any] | None = None) -> Task:
    """A fresh task of kind ``name``, configured from a run's ``meta`` (e.g. its NER decoding)."""
    if name not in TASKS:
        from ..errors import ConfigError

        raise ConfigError(f"unknown task {name!r}; known tasks: {', '.join(sorted(TASKS))}")
    return TASKS[name]().configure(meta or {})


from . import token_task as _token_task  # noqa: E402,F401  (registers "ner")

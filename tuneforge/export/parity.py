"""Parity of an exported model with the model it came from, on the same inputs.

Both models see identical batches; the report has the share of inputs whose decoded prediction is the
same (label for classification, label set for multi-label, the entity spans for NER), the largest
absolute difference of any probability, and for NER the span-level agreement (|A and B| / |A or B|
over all predicted spans)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import torch

from ..models.inference import device_of, to_device
from ..models.tasks import Task
from ..train.batching import eval_batches
from ..types import Example, Prediction


@dataclass
class Parity:
    examples: int
    agreement: float  # share of inputs with the same decoded prediction
    max_prob_diff: float
    span_agreement: float | None = None  # NER only
    source: str = ""
    quantization: dict[str, Any] | None = None  # onnx-int8: the precision search (int8_search)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _key(p: Prediction) -> Any:
    if p.entities is not None:
        return frozenset((e.type, e.start, e.end) for e in p.entities)
    return tuple(p.label) if isinstance(p.label, list) else p.label


@torch.no_grad()
def compare(
    reference: torch.nn.Module,
    exported: torch.nn.Module,
    task: Task,
    feats: Sequence[dict[str, Any]],
    examples: Sequence[Example],
    labels: Sequence[str],
    *,
    pad_id: int = 0,
    threshold: float = 0.5,
    batch_size: int = 64,
    source: str = "",
) -> Parity:
    reference.eval()
    exported.eval()
    same = 0
    max_diff = 0.0
    inter = union = 0
    for idx in eval_batches([len(f["input_ids"]) for f in feats], batch_size):
        sub = [feats[i] for i in idx]
        batch = task.collate(sub, pad_id)
        batch.pop("labels", None)
        p_ref = task.probabilities(reference(**to_device(batch, device_of(reference))).cpu())
        p_exp = task.probabilities(exported(**to_device(batch, device_of(exported))).cpu())
        if p_ref.ndim == 3:  # token level: compare real tokens only
            mask = batch["attention_mask"].bool()
            max_diff = max(max_diff, float((p_ref - p_exp).abs()[mask].max()))
        else:
            max_diff = max(max_diff, float((p_ref - p_exp).abs().max()))
        exs = [examples[i] for i in idx]
        for a, b in zip(
            task.decode(p_ref, sub, exs, labels, threshold),
            task.decode(p_exp, sub, exs, labels, threshold),
            strict=True,
        ):
            ka, kb = _key(a), _key(b)
            same += ka == kb
            if isinstance(ka, frozenset):
                inter += len(ka & kb)
                union += len(ka | kb)
    n = len(feats)
    return Parity(
        examples=n,
        agreement=same / max(n, 1),
        max_prob_diff=max_diff,
        span_agreement=(inter / union if union else 1.0) if task.name == "ner" else None,
        source=source,
    )

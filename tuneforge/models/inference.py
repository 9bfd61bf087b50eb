"""Batched inference in length-sorted batches; results come back in the input order."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import nullcontext
from typing import Any

import torch

from ..train.batching import eval_batches
from ..types import Example, Prediction
from .heads import TaskModel
from .tasks import Task


def autocast(device: torch.device, bf16: bool):
    return torch.autocast(device.type, dtype=torch.bfloat16) if bf16 else nullcontext()


def device_of(model: torch.nn.Module) -> torch.device:
    """The device of a model's first parameter or buffer (CPU for a model without either)."""
    for t in model.parameters():
        return t.device
    for t in model.buffers():
        return t.device
    return torch.device("cpu")


def to_device(batch: dict[str, torch.Tensor], device: torch.device) -> dict[str, torch.Tensor]:
    return {k: v.to(device, non_blocking=True) for k, v in batch.items()}


@torch.no_grad()
def predict_features(
    model: TaskModel,
    task: Task,
    feats: Sequence[dict[str, Any]],
    examples: Sequence[Example],
    id2label: Sequence[str],
    *,
    batch_size: int = 128,
    pad_id: int = 0,
    threshold: float = 0.5,
    bf16: bool = False,
) -> tuple[list[Prediction], float | None]:
    """Predictions for every feature, and the mean loss when labels are present."""
    device = device_of(model)
    was_training = model.training
    model.eval()
    preds: list[Prediction | None] = [None] * len(feats)
    loss_sum, loss_n = 0.0, 0
    try:
        for idx in eval_batches([len(f["input_ids"]) for f in feats], batch_size):
            sub = [feats[i] for i in idx]
            batch = to_device(task.collate(sub, pad_id), device)
            with autocast(device, bf16):
                logits = model(**batch)
            if "labels" in batch:
                loss_sum += float(task.loss(logits, batch)) * len(idx)
                loss_n += len(idx)
            probs = task.probabilities(logits).cpu()
            for i, p in zip(
                idx, task.decode(probs, sub, [examples[i] for i in idx], id2label, threshold), strict=True
            ):
                preds[i] = p
    finally:
        model.train(was_training)
    return [p for p in preds if p is not None], (loss_sum / loss_n if loss_n else None)


@torch.no_grad()
def extract_features(
    model: TaskModel,
    task: Task,
    feats: Sequence[dict[str, Any]],
    *,
    batch_size: int = 128,
    pad_id: int = 0,
    bf16: bool = False,
    training_set: bool = False,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Frozen head-input features and their targets (sequence tasks: one row per example; token tasks:
    one row per labelled token), for linear probes. ``training_set``: ``feats`` are the first
    training examples, in order, so a frozen-prefix cache on the model is filled on the way."""
    device = device_of(model)
    was_training = model.training
    model.eval()
    xs, ys = [], []
    try:
        for idx in eval_batches([len(f["input_ids"]) for f in feats], batch_size):
            sub = [feats[i] for i in idx]
            batch = to_device(task.collate(sub, pad_id), device)
            with autocast(device, bf16):
                ids = torch.tensor(idx) if training_set else None
                x = model.features(batch["input_ids"], batch["attention_mask"], ids).float().cpu()
            y = task.probe_targets(sub)
            if x.ndim == 3:  # token level: keep labelled positions only
                keep = y != -100
                x, y = x[keep], y[keep]
            xs.append(x)
            ys.append(y)
    finally:
        model.train(was_training)
    return torch.cat(xs), torch.cat(ys)

"""Stage 1 of model selection: transferability estimates on frozen features, in seconds per backbone.

Each backbone encodes (a seeded subset of) the training and validation data once, pooled the way the
backbone was trained; three estimates are read off those features:

- ``probe``: a logistic-regression probe fitted on train, scored on validation in the task's own
  units (accuracy; micro F1 for multi-label; token-level micro F1 over entity tags for NER);
- ``knn``: cosine k-nearest-neighbour vote, scored the same way;
- ``logme``: LogME evidence on the training features (no validation data needed).

The encoding pass also gives the backbone's inference speed (examples/s, batched) and its latency
for one example at a time."""

from __future__ import annotations

import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from ..export.bundle import build_model
from ..models.backbones import BackboneSpec, load_tokenizer
from ..models.inference import extract_features
from ..models.tasks import Task
from ..train.probe import fit_linear_probe
from ..types import Example
from .logme import logme

ESTIMATORS = ("probe", "knn", "logme")
MAX_TOKEN_ROWS = 30_000  # NER: token rows kept for kNN and LogME


@dataclass
class BackboneFeatures:
    backbone: str
    train_x: np.ndarray
    train_y: np.ndarray
    val_x: np.ndarray
    val_y: np.ndarray
    parameters: int
    encode_seconds: float
    examples_per_second: float  # batched inference
    latency_ms: float  # one example at a time, median
    estimates: dict[str, float] = field(default_factory=dict)
    estimate_seconds: dict[str, float] = field(default_factory=dict)


def _latency_ms(model, task: Task, feats: Sequence[dict[str, Any]], pad_id: int, n: int = 16) -> float:
    times = []
    with torch.no_grad():
        for f in list(feats)[:n]:
            batch = task.collate([f], pad_id)
            t0 = time.perf_counter()
            model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"])
            times.append(1000 * (time.perf_counter() - t0))
    return statistics.median(times) if times else 0.0


def encode_backbone(
    task: Task,
    spec: BackboneSpec,
    train: Sequence[Example],
    validation: Sequence[Example],
    labels: Sequence[str],
    *,
    max_length: int,
    batch_size: int = 128,
    pooling: str | None = None,
    normalize: bool | None = None,
) -> BackboneFeatures:
    """Frozen features of ``train`` and ``validation`` under one backbone, with its speed."""
    tokenizer = load_tokenizer(spec)
    label2id = {lab: i for i, lab in enumerate(labels)}
    model = build_model(
        task,
        spec,
        len(labels),
        pooling or spec.pooling,
        0.0,
        normalize=spec.normalize if normalize is None else normalize,
    )
    model.eval()
    pad_id = tokenizer.pad_token_id or 0
    t0 = time.perf_counter()
    train_feats = task.encode(list(train), tokenizer, label2id, max_length)
    val_feats = task.encode(list(validation), tokenizer, label2id, max_length)
    tx, ty = extract_features(model, task, train_feats, batch_size=batch_size, pad_id=pad_id)
    vx, vy = extract_features(model, task, val_feats, batch_size=batch_size, pad_id=pad_id)
    seconds = time.perf_counter() - t0
    return BackboneFeatures(
        backbone=spec.name,
        train_x=tx.numpy(),
        train_y=ty.numpy(),
        val_x=vx.numpy(),
        val_y=vy.numpy(),
        parameters=sum(p.numel() for p in model.backbone.parameters()),
        encode_seconds=seconds,
        examples_per_second=(len(train_feats) + len(val_feats)) / max(seconds, 1e-9),
        latency_ms=_latency_ms(model, task, val_feats or train_feats, pad_id),
    )


def _score(task: Task, labels: Sequence[str], gold: np.ndarray, pred: np.ndarray) -> float:
    """Validation score of frozen-feature predictions, in the units of the task's primary metric."""
    if task.name == "multilabel":
        tp = float(np.sum((pred == 1) & (gold == 1)))
        denom = float(np.sum(pred == 1) + np.sum(gold == 1))
        return 2 * tp / denom if denom else 0.0
    if task.name == "ner":
        outside = labels.index("O") if "O" in labels else -1
        tp = float(np.sum((pred == gold) & (gold != outside)))
        denom = float(np.sum(pred != outside) + np.sum(gold != outside))
        return 2 * tp / denom if denom else 0.0
    return float(np.mean(pred == gold)) if len(gold) else 0.0


def _cap_rows(x: np.ndarray, y: np.ndarray, limit: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    if len(x) <= limit:
        return x, y
    keep = np.sort(np.random.default_rng(seed).choice(len(x), limit, replace=False))
    return x[keep], y[keep]


def probe_score(task: Task, labels: Sequence[str], f: BackboneFeatures) -> float:
    multilabel = task.name == "multilabel"
    w, b = fit_linear_probe(
        torch.from_numpy(f.train_x), torch.from_numpy(f.train_y), len(labels), multilabel=multilabel
    )
    logits = torch.from_numpy(f.val_x).float() @ w.T + b
    pred = (logits > 0).long().numpy() if multilabel else logits.argmax(-1).numpy()
    return _score(task, labels, f.val_y, pred)


def knn_score(task: Task, labels: Sequence[str], f: BackboneFeatures, k: int = 10, seed: int = 0) -> float:
    from sklearn.neighbors import KNeighborsClassifier

    x, y = _cap_rows(f.train_x, f.train_y, MAX_TOKEN_ROWS, seed)
    knn = KNeighborsClassifier(n_neighbors=min(k, len(x)), metric="cosine", weights="distance")
    knn.fit(x, y)
    return _score(task, labels, f.val_y, np.asarray(knn.predict(f.val_x)))


def logme_score(task: Task, f: BackboneFeatures, seed: int = 0) -> float:
    x, y = _cap_rows(f.train_x, f.train_y, MAX_TOKEN_ROWS, seed)
    return logme(x, y)


def estimate(
    task: Task, labels: Sequence[str], f: BackboneFeatures, estimators: Sequence[str] = ESTIMATORS
) -> BackboneFeatures:
    """Fill ``f.estimates`` (and the seconds each took) with the chosen estimators."""
    run = {
        "probe": lambda: probe_score(task, labels, f),
        "knn": lambda: knn_score(task, labels, f),
        "logme": lambda: logme_score(task, f),
    }
    for name in estimators:
        t0 = time.perf_counter()
        f.estimates[name] = float(run[name]())
        f.estimate_seconds[name] = time.perf_counter() - t0
    return f

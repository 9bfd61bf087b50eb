"""Checks that need the backbone: token counts and [UNK] coverage of its tokenizer, frozen embeddings
(for embedding near-duplicates), and label-noise detection with out-of-fold linear probes.

Label noise follows confident learning (Northcutt et al., 2021): with out-of-fold probabilities
``P``, each class ``j`` gets the threshold ``t_j`` = mean ``P[:, j]`` over rows labelled ``j``. A row
labelled ``i`` is flagged when ``P[i] < t_i`` and ``P[i] < noise_threshold`` while another class
``j`` reaches ``t_j``; the suggestion is the most probable such ``j``. Flagged rows are listed for
review and never dropped.
"""

from __future__ import annotations

import warnings
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from ...types import Example


@dataclass
class TokenStats:
    lengths: list[int]  # backbone tokens per example, special tokens included
    unknown: list[int]  # [UNK] tokens per example
    unknown_strings: Counter[str] = field(default_factory=Counter)

    def share(self) -> float:
        pieces = sum(self.lengths)
        return sum(self.unknown) / pieces if pieces else 0.0


def token_stats(examples: Sequence[Example], tokenizer: Any, batch: int = 1000) -> TokenStats:
    """Tokenise every text once: lengths, [UNK] counts and the strings that became [UNK]."""
    stats = TokenStats([], [])
    unk = tokenizer.unk_token_id
    offsets_ok = bool(getattr(tokenizer, "is_fast", False))
    texts = [ex.text for ex in examples]
    for start in range(0, len(texts), batch):
        chunk = texts[start : start + batch]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            enc = tokenizer(chunk, truncation=False, return_offsets_mapping=offsets_ok, verbose=False)
        for k, ids in enumerate(enc["input_ids"]):
            stats.lengths.append(len(ids))
            where = [p for p, t in enumerate(ids) if unk is not None and t == unk]
            stats.unknown.append(len(where))
            if offsets_ok:
                spans = enc["offset_mapping"][k]
                stats.unknown_strings.update(chunk[k][spans[p][0] : spans[p][1]] for p in where)
    return stats


def _embed_model(task_name: str, spec: Any, n_labels: int):
    from ...export.bundle import build_model
    from ...models.tasks import get_task

    task = get_task(task_name)
    model = build_model(task, spec, max(n_labels, 2), spec.pooling, 0.0, normalize=True)
    return model.eval(), task


@torch.no_grad()
def example_vectors(
    examples: Sequence[Example],
    spec: Any,
    tokenizer: Any,
    task_name: str,
    max_length: int,
    batch_size: int = 64,
) -> list[np.ndarray]:
    """Frozen backbone features per example: a normalised sentence vector ([d]) for classification,
    one vector per word ([n_words, d]) for NER."""
    from ...models.inference import to_device
    from ...train.batching import eval_batches

    model, task = _embed_model(task_name, spec, 2)
    feats = task.encode([replace_labels(ex) for ex in examples], tokenizer, {}, max_length)
    out: list[np.ndarray | None] = [None] * len(feats)
    device = torch.device("cpu")
    for idx in eval_batches([len(f["input_ids"]) for f in feats], batch_size):
        sub = [feats[i] for i in idx]
        batch = to_device(task.collate(sub, tokenizer.pad_token_id or 0), device)
        x = model.features(batch["input_ids"], batch["attention_mask"]).float()
        for row, i in enumerate(idx):
            if x.ndim == 3:
                starts = [p for p in feats[i]["word_starts"] if p >= 0]
                out[i] = x[row, starts].numpy()
            else:
                out[i] = x[row].numpy()
    return [v if v is not None else np.zeros(0) for v in out]


def replace_labels(ex: Example) -> Example:
    """The example without labels, so that encoding needs no label map."""
    from dataclasses import replace

    return replace(ex, label=None, tags=None)


def _oof_probabilities(
    x: np.ndarray, y: np.ndarray, groups: np.ndarray | None, folds: int, seed: int, c: float = 4.0
):
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GroupKFold, StratifiedKFold

    probs = np.zeros((len(y), int(y.max()) + 1))
    if groups is not None:
        splits = GroupKFold(n_splits=folds).split(x, y, groups)
    else:
        smallest = np.bincount(y).min()
        k = max(2, min(folds, int(smallest))) if smallest >= 2 else folds
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            splits = list(StratifiedKFold(n_splits=k, shuffle=True, random_state=seed).split(x, y))
    for train, held in splits:
        clf = LogisticRegression(max_iter=300, C=c)
        clf.fit(x[train], y[train])
        probs[np.ix_(held, clf.classes_)] = clf.predict_proba(x[held])
    return probs


def confident_flags(probs: np.ndarray, y: np.ndarray, threshold: float) -> list[tuple[int, int, float]]:
    """``(row, suggested class, p(given label))`` of rows whose label the probe confidently doubts."""
    n_classes = probs.shape[1]
    t = np.array([probs[y == j, j].mean() if (y == j).any() else 1.0 for j in range(n_classes)], dtype=float)
    flags = []
    for i, given in enumerate(y):
        p_given = probs[i, given]
        if p_given >= min(t[given], threshold):
            continue
        others = [(probs[i, j], j) for j in range(n_classes) if j != given and probs[i, j] >= t[j]]
        if others:
            flags.append((i, max(others)[1], float(p_given)))
    return flags


def label_noise_classification(
    vectors: Sequence[np.ndarray], labels: Sequence[str], threshold: float, seed: int, folds: int = 5
) -> list[tuple[int, str, float]]:
    """``(row, suggested label, p(given))`` for single-label classification."""
    names = sorted(set(labels))
    index = {lab: i for i, lab in enumerate(names)}
    y = np.array([index[lab] for lab in labels])
    probs = _oof_probabilities(np.stack(vectors), y, None, folds, seed)
    return [(i, names[j], p) for i, j, p in confident_flags(probs, y, threshold)]


def label_noise_ner(
    vectors: Sequence[np.ndarray], examples: Sequence[Example], threshold: float, seed: int, folds: int = 5
) -> list[tuple[int, str, float, str]]:
    """``(row, suggested type or O, p(given type), "TYPE 'mention'")`` per flagged entity, from a
    token-level probe on entity types (B-/I- collapsed), folds grouped by sentence."""
    from ..tags import bio_spans

    types = sorted({t[2:] for ex in examples for t in ex.tags or () if t != "O"})
    names = ["O", *types]
    index = {n: i for i, n in enumerate(names)}
    xs, ys, groups = [], [], []
    for row, (vec, ex) in enumerate(zip(vectors, examples, strict=True)):
        tags = list(ex.tags or ())[: len(vec)]
        xs.extend(vec[: len(tags)])
        ys.extend(index["O" if t == "O" else t[2:]] for t in tags)
        groups.extend([row] * len(tags))
    y, g = np.array(ys), np.array(groups)
    probs = _oof_probabilities(np.stack(xs), y, g, folds, seed)
    offsets = np.concatenate([[0], np.cumsum(np.bincount(g, minlength=len(examples)))])
    t = np.array([probs[y == j, j].mean() if (y == j).any() else 1.0 for j in range(len(names))])
    flags = []
    for row, ex in enumerate(examples):
        base = offsets[row]
        for type_, start, end in bio_spans(list(ex.tags or ())):
            if end + base > offsets[row + 1]:
                continue  # cut off by truncation
            mean = probs[base + start : base + end].mean(axis=0)
            given = index[type_]
            if mean[given] >= min(t[given], threshold):
                continue
            others = [(mean[j], j) for j in range(len(names)) if j != given and mean[j] >= t[j]]
            if others:
                mention = ex.sep.join((ex.tokens or ())[start:end])
                flags.append((row, names[max(others)[1]], float(mean[given]), f"{type_} {mention!r}"))
    return flags


def mention_features(
    vectors: Sequence[np.ndarray], examples: Sequence[Example]
) -> tuple[np.ndarray, list[tuple[int, str, int, int]]]:
    """One row per entity mention: the mean of its word vectors, its first word's vector, and the
    vectors of the words just before and after it (zeros at a sentence edge); and ``(row, type,
    start, end)`` of each mention. Mentions cut off by truncation are left out."""
    from ..tags import bio_spans

    rows: list[np.ndarray] = []
    where: list[tuple[int, str, int, int]] = []
    for row, (vec, ex) in enumerate(zip(vectors, examples, strict=True)):
        n = min(len(vec), len(ex.tags or ()))
        if n == 0:
            continue
        zero = np.zeros(vec.shape[1], dtype=vec.dtype)
        for type_, start, end in bio_spans(list(ex.tags or ())):
            if end > n:
                continue
            span = vec[start:end]
            before = vec[start - 1] if start > 0 else zero
            after = vec[end] if end < n else zero
            rows.append(np.concatenate([span.mean(0), span[0], before, after]))
            where.append((row, type_, start, end))
    width = 4 * vectors[0].shape[1] if len(vectors) and vectors[0].ndim == 2 else 0
    return (np.stack(rows) if rows else np.zeros((0, width))), where


# The mention probe reads 4 x hidden-size features per mention (1,536 on MiniLM) and has one row per
# mention, far fewer rows per feature than the per-word probe; held to C = 4 (the per-word and
# per-example probes' setting) its out-of-fold fits swing with the training folds and flag correct
# mentions confidently. Strong
# regularisation keeps its flags stable: on CoNLL-2003 with 5% of the entity sentences given a wrong
# type, C = 4 / 1 / 0.25 / 0.05 flagged the injected ones at recall 70.9 / 69.1 / 67.9 / 65.0% and
# precision 40.4 / 47.4 / 54.5 / 68.3% (bench/data_quality.py, BENCHMARKS.md "Data-quality gate").
MENTION_PROBE_C = 0.05


def label_noise_mentions(
    vectors: Sequence[np.ndarray],
    examples: Sequence[Example],
    threshold: float,
    seed: int,
    folds: int = 5,
    c: float = MENTION_PROBE_C,
) -> list[tuple[int, str, float, str]]:
    """``(row, suggested type, p(given type), "TYPE 'mention'")`` per flagged entity, from a probe that
    classifies each mention's type from its words and their neighbours (folds grouped by sentence)."""
    x, where = mention_features(vectors, examples)
    types = sorted({t for _, t, _, _ in where})
    counts = Counter(t for _, t, _, _ in where)
    sentences = len({r for r, _, _, _ in where})
    if len(types) < 2 or min(counts.values()) < 2 or sentences < folds:
        return []
    index = {t: i for i, t in enumerate(types)}
    y = np.array([index[t] for _, t, _, _ in where])
    groups = np.array([r for r, _, _, _ in where])
    probs = _oof_probabilities(x, y, groups, folds, seed, c=c)
    flags = []
    for i, j, p in confident_flags(probs, y, threshold):
        row, type_, start, end = where[i]
        ex = examples[row]
        mention = ex.sep.join((ex.tokens or ())[start:end])
        flags.append((row, types[j], p, f"{type_} {mention!r}"))
    return flags


def flagged_by_both(token: Sequence[tuple], mention: Sequence[tuple]) -> list[tuple]:
    """The per-word probe's flags on entities (same row and mention) the per-mention probe flags too."""
    seen = {(row, detail) for row, _, _, detail in mention}
    return [f for f in token if (f[0], f[3]) in seen]

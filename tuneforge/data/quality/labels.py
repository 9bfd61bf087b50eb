"""Label checks: spelling variants (case, whitespace, near-miss typos), unknown evaluation labels,
rare classes and the class-balance summary. NER works on entity types (``B-PER`` -> ``PER``)."""

from __future__ import annotations

import difflib
import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import replace

from ...types import Example

_SPACE_RE = re.compile(r"[\s_\-]+")


def label_norm(label: str) -> str:
    """Case, whitespace, ``_`` and ``-`` do not make a label different."""
    return _SPACE_RE.sub(" ", label.casefold()).strip()


def labels_of(ex: Example) -> list[str]:
    """Class labels of an example; for NER the entity type of every tag."""
    if ex.tokens is not None:
        return [t[2:] for t in ex.tags or () if t != "O"]
    if isinstance(ex.label, tuple):
        return list(ex.label)
    return [ex.label] if isinstance(ex.label, str) else []


def entity_counts(examples: Iterable[Example]) -> Counter[str]:
    """Entities per type (NER: counted at their B- tag) or examples per label."""
    counts: Counter[str] = Counter()
    for ex in examples:
        if ex.tokens is not None:
            counts.update(t[2:] for t in ex.tags or () if t.startswith("B-"))
        else:
            counts.update(labels_of(ex))
    return counts


def edit_distance(a: str, b: str) -> int:
    """Damerau-Levenshtein distance (optimal string alignment): a swap of neighbours costs 1."""
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        cur = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        prev2, prev = prev, cur
    return prev[-1]


def _similar(a: str, b: str) -> float:
    """Similarity of two label spellings; one typo in a short label (``PRE``/``PER``) counts as 0.8."""
    x, y = label_norm(a), label_norm(b)
    ratio = difflib.SequenceMatcher(None, x, y).ratio()
    if min(len(x), len(y)) >= 3 and edit_distance(x, y) == 1:
        ratio = max(ratio, 0.8)
    return ratio


def spelling_map(counts: Counter[str], *, ratio: float = 0.8, rare_share: float = 0.2) -> dict[str, str]:
    """``{variant: canonical}`` for the training labels.

    Labels equal up to case/whitespace/``_``/``-`` join their most frequent spelling. A label that is
    rare next to a similar one (count <= ``rare_share`` of it, similarity >= ``ratio``) is a typo of it.
    """
    groups: dict[str, list[str]] = {}
    for lab, _ in counts.most_common():
        groups.setdefault(label_norm(lab), []).append(lab)
    mapping = {lab: spell[0] for spell in groups.values() for lab in spell[1:]}
    merged = Counter({spell[0]: sum(counts[x] for x in spell) for spell in groups.values()})
    ranked = [lab for lab, _ in merged.most_common()]
    for lab in reversed(ranked):  # rarest first
        targets = [
            t
            for t in ranked
            if t != lab
            and t not in mapping
            and merged[lab] <= rare_share * merged[t]
            and _similar(lab, t) >= ratio
        ]
        if targets:
            best = max(targets, key=lambda t: (_similar(lab, t), merged[t]))
            mapping[lab] = best
            mapping.update({v: best for v, c in list(mapping.items()) if c == lab})
    return mapping


def eval_mapping(labels: Iterable[str], known: Sequence[str], ratio: float = 0.8) -> dict[str, str]:
    """``{label: known label}`` for evaluation labels that are a spelling variant of a training label."""
    by_norm = {label_norm(k): k for k in known}
    out = {}
    for lab in set(labels) - set(known):
        if label_norm(lab) in by_norm:
            out[lab] = by_norm[label_norm(lab)]
            continue
        scored = sorted(((_similar(lab, k), k) for k in known), reverse=True)
        if scored and scored[0][0] >= ratio and (len(scored) == 1 or scored[1][0] < scored[0][0]):
            out[lab] = scored[0][1]
    return out


def relabel(ex: Example, mapping: dict[str, str]) -> Example:
    """The example with its labels (NER: entity types) renamed by ``mapping``."""
    if ex.tokens is not None:
        tags = tuple(t if t == "O" else f"{t[:2]}{mapping.get(t[2:], t[2:])}" for t in ex.tags or ())
        return replace(ex, tags=tags)
    if isinstance(ex.label, tuple):
        seen: list[str] = []
        for lab in ex.label:
            new = mapping.get(lab, lab)
            if new not in seen:
                seen.append(new)
        return replace(ex, label=tuple(seen))
    if isinstance(ex.label, str):
        return replace(ex, label=mapping.get(ex.label, ex.label))
    return ex


def balance_summary(counts: Counter[str]) -> dict[str, float | int | str]:
    """Largest/smallest class, their ratio and the normalised entropy (1.0 = perfectly balanced)."""
    if not counts:
        return {}
    total = sum(counts.values())
    (big, n_big), (small, n_small) = counts.most_common()[0], counts.most_common()[-1]
    probs = [c / total for c in counts.values()]
    entropy = -sum(p * math.log(p) for p in probs if p > 0)
    return {
        "classes": len(counts),
        "largest": big,
        "largest_count": n_big,
        "smallest": small,
        "smallest_count": n_small,
        "imbalance_ratio": round(n_big / max(n_small, 1), 2),
        "normalized_entropy": round(entropy / math.log(len(counts)), 4) if len(counts) > 1 else 1.0,
    }

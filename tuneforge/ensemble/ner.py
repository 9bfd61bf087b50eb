"""NER ensembles: token-level probability averaging decoded to valid BIO, and span-level voting.

- Viterbi decoding (``models.bio_decode``): the most probable tag sequence under the averaged
  per-word probabilities among the valid IOB2 sequences (``I-X`` only after ``B-X`` or ``I-X``), so no entity is half-formed.
- ``span_vote``: each member's entities are votes (weighted); a span is kept when its votes exceed
  half the total weight; overlapping survivors keep the one with more votes (then the longer)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from ..data.tags import bio_spans, repair_bio
from ..types import Entity, Example, Prediction


def span_vote(
    tag_seqs: Sequence[Sequence[str]], weights: Sequence[float] | None = None, n_words: int | None = None
) -> list[str]:
    """Tags of the spans that more than half the (weighted) members predict."""
    weights = list(weights) if weights is not None else [1.0] * len(tag_seqs)
    total = sum(weights)
    votes: dict[tuple[str, int, int], float] = {}
    for seq, w in zip(tag_seqs, weights, strict=True):
        for span in bio_spans(list(seq)):
            votes[span] = votes.get(span, 0.0) + w
    n = n_words if n_words is not None else (len(tag_seqs[0]) if tag_seqs else 0)
    out = ["O"] * n
    taken = [False] * n
    kept = [s for s, v in votes.items() if v > total / 2]
    for etype, s, e in sorted(kept, key=lambda sp: (-votes[sp], -(sp[2] - sp[1]), sp[1])):
        if any(taken[s:e]):
            continue
        for i in range(s, e):
            out[i], taken[i] = (f"B-{etype}" if i == s else f"I-{etype}"), True
    return out


def tags_to_prediction(
    tags: Sequence[str], example: Example, scores: Sequence[float] | None = None
) -> Prediction:
    tags = repair_bio(tags)
    offsets = example.token_offsets()
    ents = []
    for etype, s, e in bio_spans(tags):
        start, end = offsets[s][0], offsets[e - 1][1]
        score = round(float(np.mean(scores[s:e])), 6) if scores is not None else None
        ents.append(
            Entity(
                type=etype,
                start=start,
                end=end,
                text=example.text[start:end],
                token_start=s,
                token_end=e,
                score=score,
            )
        )
    return Prediction(tags=list(tags), entities=ents)


def ner_tag_order(tags: Iterable[str]) -> list[str]:
    """The ensemble's tag order: ``O`` first, then per entity type ``B-`` before ``I-``."""
    return sorted(set(tags), key=lambda t: (t != "O", t[2:], t[:1]))


def align_tags(probs: np.ndarray, member_tags: Sequence[str], tags: Sequence[str]) -> np.ndarray:
    """A member's (words x its tags) probabilities in the ensemble's tag order (absent tags: 0)."""
    if list(member_tags) == list(tags):
        return probs
    out = np.zeros((probs.shape[0], len(tags)))
    index = {t: i for i, t in enumerate(tags)}
    for j, t in enumerate(member_tags):
        if t in index:
            out[:, index[t]] = probs[:, j]
    return out

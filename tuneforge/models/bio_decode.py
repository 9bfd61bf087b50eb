"""From per-word tag probabilities to an IOB2 tag sequence: the three decodings of a token tagger.

- ``viterbi`` (default): the most probable *valid* IOB2 sequence (``I-X`` only after ``B-X`` or
  ``I-X``) under the per-word probabilities, so no entity is half-formed and a confident ``I-PER``
  after ``O`` can pull its neighbour into the entity instead of being cut off or made up.
- ``lenient``: each word's most probable tag; an ``I-X`` that starts a run becomes ``B-X`` (how
  conlleval and seqeval's default mode read tags).
- ``strict``: each word's most probable tag; an ``I-X`` run with no ``B-X`` in front is dropped (how
  seqeval's strict IOB2 mode reads tags).

Where the word-level argmax is already valid IOB2 the three agree.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..data.tags import repair_bio

DECODINGS = ("viterbi", "lenient", "strict")


def word_probabilities(
    token_probs: np.ndarray, word_starts: Sequence[int], tags: Sequence[str]
) -> np.ndarray:
    """Per word, the tag probabilities on its first sub-token (words x tags); a word cut off by
    truncation (no sub-token) is certainly ``O``."""
    rows = np.zeros((len(word_starts), len(tags)), dtype=np.float64)
    outside = list(tags).index("O") if "O" in tags else 0
    for w, pos in enumerate(word_starts):
        if 0 <= pos < token_probs.shape[0]:
            rows[w] = token_probs[pos]
        else:
            rows[w, outside] = 1.0
    return rows


def allowed_transitions(tags: Sequence[str]) -> np.ndarray:
    """``allowed[i, j]``: tag j may follow tag i in IOB2."""
    n = len(tags)
    ok = np.ones((n, n), dtype=bool)
    for j, t in enumerate(tags):
        if t.startswith("I-"):
            ok[:, j] = [s in (f"B-{t[2:]}", t) for s in tags]
    return ok


def viterbi_bio(probs: np.ndarray, tags: Sequence[str]) -> list[str]:
    """Most probable valid IOB2 sequence for ``probs`` (words x tags)."""
    if len(probs) == 0:
        return []
    logp = np.log(np.clip(np.asarray(probs, dtype=np.float64), 1e-12, None))
    penalty = np.where(allowed_transitions(tags), 0.0, -np.inf)
    start = np.array([-np.inf if t.startswith("I-") else 0.0 for t in tags])
    score = start + logp[0]
    back = np.zeros((len(logp), len(tags)), dtype=np.int64)
    for w in range(1, len(logp)):
        cand = score[:, None] + penalty  # from i to j
        back[w] = cand.argmax(0)
        score = cand.max(0) + logp[w]
    path = [int(score.argmax())]
    for w in range(len(logp) - 1, 0, -1):
        path.append(int(back[w, path[-1]]))
    return [tags[j] for j in reversed(path)]


def strict_bio(tags: Sequence[str]) -> list[str]:
    """``tags`` with every ``I-X`` run that no ``B-X`` opens set to ``O`` (seqeval strict IOB2)."""
    out: list[str] = []
    open_type: str | None = None  # type of the entity the previous word belongs to, if any
    for tag in tags:
        if tag.startswith("B-"):
            open_type = tag[2:]
            out.append(tag)
        elif tag.startswith("I-") and open_type == tag[2:]:
            out.append(tag)
        else:
            open_type = None
            out.append("O")
    return out


def decode_bio(probs: np.ndarray, tags: Sequence[str], decoding: str = "viterbi") -> list[str]:
    """The tag sequence for ``probs`` (words x tags, columns in ``tags`` order) under ``decoding``."""
    if decoding == "viterbi":
        return viterbi_bio(probs, tags)
    argmax = [tags[int(j)] for j in np.asarray(probs).argmax(-1)] if len(probs) else []
    if decoding == "lenient":
        return repair_bio(argmax)
    if decoding == "strict":
        return strict_bio(argmax)
    raise ValueError(f"unknown NER decoding {decoding!r}: expected one of {', '.join(DECODINGS)}")

"""Row checks of one split at a time: normalisation, empty/short texts, label spellings, unknown
labels, BIO repair, duplicates and conflicting labels, near-duplicates.

Each check takes a ``Gate`` (see gate.py), the split name and its examples, and returns the examples
that stay; everything it changes or drops goes through ``gate.ledger``.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from ...types import Example
from ..tags import repair_bio, split_tag
from .labels import eval_mapping, labels_of, relabel
from .near import UnionFind, near_pairs
from .text import dedup_key, label_key, length_in_chars, normalize_example

if TYPE_CHECKING:
    from .gate import Gate


def normalize(gate: Gate, split: str, rows: list[Example]) -> list[Example]:
    out = []
    for ex in rows:
        new = normalize_example(ex)
        if new != ex:
            before, after = (ex.text, new.text)
            gate.report("normalize", split, ex, f"text normalised: {before!r} -> {after!r}", "changed")
            if gate.fixing("normalize", split):
                gate.ledger.change(split, ex, "normalize", "text", before, after)
                ex = new
        out.append(ex)
    return out


def empty_and_short(gate: Gate, split: str, rows: list[Example]) -> list[Example]:
    drop: dict[int, tuple[str, str]] = {}
    for i, ex in enumerate(rows):
        if ex.tokens is not None:
            if not ex.tokens:
                gate.report("empty", split, ex, "sentence without tokens", "removed")
                drop[i] = ("empty", "sentence without tokens")
            continue
        n = length_in_chars(ex)
        if n == 0:
            gate.report("empty", split, ex, "empty text", "removed")
            drop[i] = ("empty", "empty text")
        elif n < gate.cfg.min_chars:
            reason = f"text {ex.text!r} has {n} characters (< data.quality.min_chars={gate.cfg.min_chars})"
            gate.report("too_short", split, ex, reason, "removed")
            drop[i] = ("too_short", reason)
    return gate.drop(split, rows, {i: v for i, v in drop.items() if gate.fixing(v[0], split)})


def apply_spellings(gate: Gate, split: str, rows: list[Example], mapping: dict[str, str]) -> list[Example]:
    """Rename label variants (training-label spellings, or evaluation labels matched to them)."""
    if not mapping:
        return rows
    out = []
    for ex in rows:
        bad = sorted({lab for lab in labels_of(ex) if lab in mapping})
        if bad:
            what = ", ".join(f"{b!r} -> {mapping[b]!r}" for b in bad)
            gate.report("labels", split, ex, f"label spelling {what}", "changed")
            if gate.fixing("labels", split):
                new = relabel(ex, mapping)
                gate.ledger.change(split, ex, "labels", "label", label_key(ex), label_key(new))
                ex = new
        out.append(ex)
    return out


def unknown_labels(gate: Gate, split: str, rows: list[Example], known: Sequence[str]) -> list[Example]:
    """Evaluation labels the training data lacks: fixed as a spelling when close, else removed (NER:
    the unknown entity becomes O) or reported."""
    rows = apply_spellings(gate, split, rows, eval_mapping({x for e in rows for x in labels_of(e)}, known))
    known_set, out, drop = set(known), [], {}
    for i, ex in enumerate(rows):
        missing = sorted({lab for lab in labels_of(ex) if lab not in known_set})
        if not missing:
            out.append(ex)
            continue
        msg = f"label(s) {', '.join(map(repr, missing))} not in the training labels"
        gate.report("unknown_labels", split, ex, msg, "changed" if ex.tokens is not None else "removed")
        if gate.fixing("unknown_labels", split) and ex.tokens is not None:
            tags = tuple("O" if t != "O" and t[2:] in missing else t for t in ex.tags or ())
            gate.ledger.change(split, ex, "unknown_labels", "tags", ex.tags, tags)
            out.append(replace(ex, tags=tags))
        elif gate.fixing("unknown_labels", split) and ex.tokens is None:
            drop[i] = ("unknown_labels", msg + " (cannot be scored)")
            out.append(ex)
        else:
            out.append(ex)
    return gate.drop(split, out, drop)


def invalid_transitions(tags: Sequence[str]) -> list[int]:
    """Positions of I-X tags that follow O, the start, or another type."""
    bad, prev = [], None
    for i, tag in enumerate(tags):
        prefix, type_ = split_tag(tag)
        if prefix == "I" and prev != type_:
            bad.append(i)
        prev = type_
    return bad


def bio(gate: Gate, split: str, rows: list[Example]) -> list[Example]:
    out = []
    for ex in rows:
        bad = invalid_transitions(ex.tags or ()) if ex.tokens is not None else []
        if bad:
            where = ", ".join(f"token {i + 1} {ex.tokens[i]!r} {ex.tags[i]}" for i in bad[:3])  # type: ignore[index]
            gate.report("bio", split, ex, f"I- tag without a B- before it: {where}", "changed")
            if gate.fixing("bio", split):
                tags = tuple(repair_bio(ex.tags or ()))
                gate.ledger.change(split, ex, "bio", "tags", ex.tags, tags)
                ex = replace(ex, tags=tags)
        out.append(ex)
    return out


def _majority(labels: list[object]) -> object | None:
    (top, n), *rest = Counter(map(repr, labels)).most_common()
    if rest and rest[0][1] == n:
        return None
    return next(lab for lab in labels if repr(lab) == top)


def duplicates_and_conflicts(gate: Gate, split: str, rows: list[Example]) -> list[Example]:
    """Same text twice: a duplicate (same label) or a conflict (different labels, majority kept)."""
    groups: dict[str, list[int]] = defaultdict(list)
    for i, ex in enumerate(rows):
        groups[dedup_key(ex.text)].append(i)
    drop: dict[int, tuple[str, str]] = {}
    for idx in (g for g in groups.values() if len(g) > 1):
        labels = [label_key(rows[i]) for i in idx]
        first = rows[idx[0]]
        if len({repr(lab) for lab in labels}) > 1:
            major = _majority(labels)
            seen = ", ".join(f"{rows[i].where()}={label_key(rows[i])!r}" for i in idx[:4])
            for i in idx:
                if major is None or label_key(rows[i]) != major:
                    reason = f"same text, different labels ({seen}); " + (
                        "no majority label" if major is None else f"majority {major!r} kept"
                    )
                    gate.report("conflicts", split, rows[i], reason, "removed", other=first)
                    if gate.fixing("conflicts", split):
                        drop[i] = ("conflicts", reason)
        survivors = [i for i in idx if i not in drop]
        for i in survivors[1:]:
            if label_key(rows[i]) == label_key(rows[survivors[0]]):
                reason = f"duplicate of {rows[survivors[0]].where() or first.where()}"
                gate.report("duplicates", split, rows[i], reason, "removed", other=rows[survivors[0]])
                if gate.fixing("duplicates", split):
                    drop[i] = ("duplicates", reason)
    return gate.drop(split, rows, drop)


def near_duplicates(gate: Gate, split: str, rows: list[Example]) -> list[Example]:
    """Near copies inside a split; a later copy with the same label is removed under ``fix``."""
    pairs = near_pairs([ex.text for ex in rows], gate.cfg.near_threshold)
    pairs += gate.embedding_pairs(split, rows)
    uf = UnionFind(len(rows))
    for i, j, _ in pairs:
        if dedup_key(rows[i].text) != dedup_key(rows[j].text):  # exact copies are the duplicates check's
            uf.join(i, j)
    sim = {(i, j): s for i, j, s in pairs}
    drop: dict[int, tuple[str, str]] = {}
    for i in range(len(rows)):
        root = uf.root(i)
        if root == i:
            continue
        score = sim.get((root, i), max((s for (a, b), s in sim.items() if i in (a, b)), default=0.0))
        same = label_key(rows[i]) == label_key(rows[root])
        reason = f"near-duplicate (similarity {score:.2f}) of {rows[root].where()}" + (
            "" if same else f" with a different label {label_key(rows[root])!r}"
        )
        action = "removed" if same else "reported"
        gate.report("near_duplicates", split, rows[i], reason, action, other=rows[root])
        if same and gate.fixing("near_duplicates", split):
            drop[i] = ("near_duplicates", reason)
    return gate.drop(split, rows, drop)

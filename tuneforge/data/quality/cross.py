"""Checks across splits and on the training split: leakage, rare classes, tokenizer coverage and
length, label noise."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

from ...types import Example
from .labels import entity_counts, labels_of
from .near import near_pairs
from .text import dedup_key

if TYPE_CHECKING:
    from .gate import Gate


def leakage(gate: Gate, splits: dict[str, list[Example]]) -> dict[str, list[Example]]:
    """Training rows whose text is also in validation/test (``leakage``) or nearly so
    (``near_leakage``): the training copy goes, so the evaluation sets stay as the user gave them."""
    train = splits["train"]
    evals = [(name, ex) for name, rows in splits.items() if name != "train" for ex in rows]
    if not train or not evals:
        return splits
    exact = {dedup_key(ex.text): (name, ex) for name, ex in evals}
    found: dict[int, tuple[str, str, Example]] = {}
    for i, ex in enumerate(train):
        hit = exact.get(dedup_key(ex.text))
        if hit:
            found[i] = ("leakage", f"also in {hit[0]} ({hit[1].where()})", hit[1])
    if gate.mode("near_leakage") != "off":
        texts = [ex.text for ex in train] + [ex.text for _, ex in evals]
        for i, j, sim in near_pairs(texts, gate.cfg.near_threshold):
            if i < len(train) <= j and i not in found:
                name, ex = evals[j - len(train)]
                found[i] = (
                    "near_leakage",
                    f"near copy (similarity {sim:.2f}) of {name} row {ex.where()}",
                    ex,
                )
    drop = {}
    for i, (check, reason, other) in sorted(found.items()):
        gate.report(check, "train", train[i], reason, "removed", other=other)
        if gate.fixing(check, "train"):
            drop[i] = (check, reason)
    splits["train"] = gate.drop("train", train, drop)
    return splits


def rare_classes(gate: Gate, splits: dict[str, list[Example]]) -> dict[str, list[Example]]:
    """Classes with fewer than ``min_class_examples`` training examples (NER: entities of a type)."""
    counts = entity_counts(splits["train"])
    rare = {lab for lab, n in counts.items() if n < gate.cfg.min_class_examples}
    for lab in sorted(rare):
        gate.report("rare_classes", "train", None, f"class {lab!r} has {counts[lab]} training examples", "")
    gate.stats["rare_classes"] = {lab: counts[lab] for lab in sorted(rare)}
    if gate.mode("rare_classes") != "fix" or not rare or gate.task == "ner":
        return splits  # NER keeps rare types: dropping sentences would drop other entities too
    for name, rows in splits.items():
        drop = {
            i: ("rare_classes", f"class {sorted(set(labels_of(ex)) & rare)[0]!r} is too rare to learn")
            for i, ex in enumerate(rows)
            if set(labels_of(ex)) & rare
        }
        splits[name] = gate.drop(name, rows, drop)
    return splits


def coverage_and_length(gate: Gate, splits: dict[str, list[Example]]) -> dict[str, list[Example]]:
    """[UNK] share of the backbone's tokenizer per split (and its most frequent unknown strings), and
    texts longer than the model's length limit."""
    from .model_checks import token_stats
    from .stats import length_histogram

    assert gate.backbone is not None
    limit = gate.backbone.max_length
    cover: dict[str, object] = {}
    for name, rows in splits.items():
        stats = token_stats(rows, gate.backbone.tokenizer)
        share = stats.share()
        cover[name] = {
            "unknown_share": round(share, 5),
            "examples_with_unknown": sum(1 for u in stats.unknown if u),
            "top_unknown": stats.unknown_strings.most_common(20),
        }
        if share > gate.cfg.max_unknown_share:
            top = ", ".join(f"{s!r} ({n})" for s, n in stats.unknown_strings.most_common(8))
            gate.report(
                "coverage",
                name,
                None,
                f"{100 * share:.1f}% of the {name} tokens are unknown to the backbone's tokenizer "
                f"(above {100 * gate.cfg.max_unknown_share:g}%); most frequent: {top}",
                "",
            )
        drop = {}
        for i, (ex, n) in enumerate(zip(rows, stats.lengths, strict=True)):
            if n > limit:
                reason = f"{n} tokens, longer than model.max_length={limit} (the rest is cut off)"
                gate.report("too_long", name, ex, reason, "removed")
                if gate.fixing("too_long", name):
                    drop[i] = ("too_long", reason)
        splits[name] = gate.drop(name, rows, drop)
        gate.stats.setdefault("token_lengths", {})[name] = length_histogram([int(x) for x in stats.lengths])
    gate.stats["coverage"] = cover
    return splits


def label_noise(gate: Gate, train: list[Example]) -> None:
    """Flag training rows whose label an out-of-fold probe on frozen features doubts; never drop them."""
    from .model_checks import (
        flagged_by_both,
        label_noise_classification,
        label_noise_mentions,
        label_noise_ner,
    )

    if gate.task == "multilabel":
        gate.stats["label_noise"] = "not available for multi-label data"
        return
    counts = Counter(labels_of(ex)[0] for ex in train if labels_of(ex)) if gate.task != "ner" else None
    if counts is not None and (len(counts) < 2 or min(counts.values()) < 2):
        gate.stats["label_noise"] = "needs at least two examples of every class"
        return
    vectors = gate.vectors("train", train)
    thr = gate.cfg.noise_threshold
    if gate.task == "ner":
        probe = gate.cfg.ner_noise_probe
        flags = label_noise_ner(vectors, train, thr, gate.seed) if probe != "mention" else []
        if probe != "token":
            by_mention = label_noise_mentions(vectors, train, thr, gate.seed)
            flags = flagged_by_both(flags, by_mention) if probe == "both" else by_mention
    else:
        labels = [str(ex.label) for ex in train]
        flags = [
            (r, s, p, labels[r]) for r, s, p in label_noise_classification(vectors, labels, thr, gate.seed)
        ]
    for row, suggested, p, given in flags:
        ex = train[row]
        gate.report(
            "label_noise",
            "train",
            ex,
            f"{'entity ' + given if gate.task == 'ner' else 'label ' + repr(given)} looks wrong "
            f"(p={p:.2f}); the probe suggests {suggested!r}",
            "flagged",
        )
        gate.ledger.findings[-1].detail = {"suggested": suggested, "p_given": round(p, 4)}
    gate.stats["label_noise"] = {"flagged": len(flags), "checked": len(train)}

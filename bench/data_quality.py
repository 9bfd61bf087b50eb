"""Recall and precision of the data-quality gate on real datasets with injected, known faults.

    python bench/data_quality.py --dataset banking77
    python bench/data_quality.py --dataset conll2003
    python bench/data_quality.py --dataset conll2003 --seed 2   # other injected faults: *_seed2.json
    python bench/data_quality.py --dataset conll2003 --mention-c 4 1 0.25 0.05   # the probe's C
    python bench/data_quality.py --report          # tables from bench/results/data_quality/*.json

Faults injected into the training split (seeded): 5% exact duplicates and 5% near duplicates (one
typo, a changed or added word, punctuation or case) of random rows, 3% of the test rows copied into
train (half exact, half near), 5% flipped labels (NER: the type of 5% of the mentions), label
misspellings on 1% of the rows (NER: 1% of the mentions), and for NER 3% of the entities with a
broken BIO start (B-X -> I-X). The gate runs with its defaults (near copies are reported, exact
duplicates and exact leaks removed) plus label_noise=warn, on MiniLM-L6 features.

Scoring per fault type: a finding is a true positive when it involves an injected row (for copies:
the copy or its original); findings the same check also makes on the unmodified data are
"pre-existing" (real problems of the dataset, reported separately, not counted as false positives);
everything else is a false positive. The unmodified dataset's own findings are reported too.
For NER the three label-noise probes (``ner_noise_probe``: token, mention, both) are also compared on
the same gate inputs, counted as the threshold sweep counts (flags on rows flagged in the unmodified
run at that threshold are pre-existing).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import markdown_table, require_data, write_json  # noqa: E402
from tuneforge.config import QualityConfig  # noqa: E402
from tuneforge.data.quality import BackboneInfo, run_gate  # noqa: E402
from tuneforge.data.readers import read_examples  # noqa: E402
from tuneforge.models.backbones import load_tokenizer, resolve_backbone  # noqa: E402
from tuneforge.types import Example  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results" / "data_quality"
DATASETS = {
    "banking77": ("classification", "train.csv", "test.csv"),
    "conll2003": ("ner", "train.txt", "test.txt"),
}
FILLERS = ["please", "thanks", "now", "today", "again", "really"]
CHECKS = {
    "exact duplicates": "duplicates",
    "near duplicates": "near_duplicates",
    "leakage": "leakage",
    "flipped labels": "label_noise",
    "misspelled labels": "labels",
    "broken BIO": "bio",
}


def typo(rng: random.Random, word: str) -> str:
    if len(word) < 3:
        return word + word[-1]
    i = rng.randrange(len(word) - 1)
    op = rng.choice(["swap", "drop", "double", "replace"])
    if op == "swap":
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    if op == "drop":
        return word[:i] + word[i + 1 :]
    if op == "double":
        return word[: i + 1] + word[i:]
    return word[:i] + rng.choice("abcdefghijklmnopqrstuvwxyz") + word[i + 1 :]


def near_text(rng: random.Random, text: str) -> str:
    """A near copy: one typo, one added filler word, one punctuation change or a case change."""
    words = text.split()
    op = rng.choice(["typo", "filler", "punct", "case"])
    if op == "typo":
        k = max(range(len(words)), key=lambda i: (len(words[i]) >= 4, rng.random()))
        words[k] = typo(rng, words[k])
    elif op == "filler":
        words.insert(rng.randrange(len(words) + 1), rng.choice(FILLERS))
    elif op == "punct":
        return text.rstrip("?.!") + rng.choice(["?", "!", "..", " ?"])
    else:
        return text.lower() if text != text.lower() else text.upper()
    return " ".join(words)


def near_tokens(rng: random.Random, ex: Example) -> Example:
    toks = list(ex.tokens or ())
    outside = [i for i, t in enumerate(ex.tags or ()) if t == "O" and toks[i].isalpha() and len(toks[i]) >= 4]
    if outside:
        k = rng.choice(outside)
        toks[k] = typo(rng, toks[k])
    else:
        toks[-1] = toks[-1] + "."
    return replace(ex, tokens=tuple(toks), text=" ".join(toks))


def _copy_of(rng: random.Random, ex: Example, task: str, near: bool) -> Example:
    if not near:
        return ex
    return near_tokens(rng, ex) if task == "ner" else replace(ex, text=near_text(rng, ex.text))


def inject(rows: list[Example], test: list[Example], task: str, seed: int) -> tuple[list[Example], dict]:
    """The corrupted training rows (``line`` = position + 1) and, per fault, the injected rows' lines
    mapped to what they copy (the original's line, or ``("test", line)``; None for edits)."""
    rng = random.Random(seed)
    n = len(rows)
    items: list[dict[str, Any]] = [{"ex": ex, "fault": "", "row": i} for i, ex in enumerate(rows)]
    pool = [i for i in range(n) if task != "ner" or any(t != "O" for t in rows[i].tags or ())]
    flips = set(rng.sample(pool, round(0.05 * len(pool))))
    spells = set(rng.sample(sorted(set(pool) - flips), round(0.01 * len(pool))))
    edited = flips | spells
    for i in sorted(flips):
        items[i].update(ex=flip(rng, rows[i], rows, task), fault="flipped labels")
    for i in sorted(spells):
        items[i].update(ex=misspell(rng, rows[i], task), fault="misspelled labels")
    if task == "ner":
        cands = [
            i for i in range(n) if i not in edited and any(t.startswith("B-") for t in rows[i].tags or ())
        ]
        for i in rng.sample(cands, round(0.03 * len(cands))):
            items[i].update(ex=break_bio(rng, rows[i]), fault="broken BIO")
            edited.add(i)
    clean = [i for i in range(n) if i not in edited]  # copies of untouched rows: no cross-talk
    extra = [
        {"ex": _copy_of(rng, rows[i], task, near), "fault": f"{kind} duplicates", "of": i}
        for kind, near in (("exact", False), ("near", True))
        for i in rng.sample(clean, round(0.05 * n))
    ]
    for k, j in enumerate(rng.sample(range(len(test)), round(0.03 * len(test)))):
        extra.append(
            {"ex": _copy_of(rng, test[j], task, k % 2 == 1), "fault": "leakage", "test": test[j].line}
        )
    for item in extra:
        items.insert(rng.randrange(len(items) + 1), item)
    line_of_row = {item["row"]: k + 1 for k, item in enumerate(items) if "row" in item}
    truth: dict[str, dict[int, Any]] = {name: {} for name in CHECKS}
    for k, item in enumerate(items):
        if item["fault"]:
            origin = (
                line_of_row[item["of"]]
                if "of" in item
                else ("test", item["test"])
                if "test" in item
                else None
            )
            truth[item["fault"]][k + 1] = origin
    return [replace(item["ex"], source="train", line=k + 1) for k, item in enumerate(items)], truth


def flip(rng: random.Random, ex: Example, rows: list[Example], task: str) -> Example:
    if task != "ner":
        labels = sorted({r.label for r in rows} - {ex.label})
        return replace(ex, label=rng.choice(labels))
    types = ["PER", "LOC", "ORG", "MISC"]
    tags = list(ex.tags or ())
    starts = [i for i, t in enumerate(tags) if t.startswith("B-")]
    if not starts:
        return ex
    s = rng.choice(starts)
    new = rng.choice([t for t in types if t != tags[s][2:]])
    e = s + 1
    while e < len(tags) and tags[e] == "I-" + tags[s][2:]:
        e += 1
    tags[s:e] = ["B-" + new] + ["I-" + new] * (e - s - 1)
    return replace(ex, tags=tuple(tags))


def misspell(rng: random.Random, ex: Example, task: str) -> Example:
    if task != "ner":
        return replace(ex, label=typo(rng, str(ex.label)))
    tags = list(ex.tags or ())
    starts = [i for i, t in enumerate(tags) if t.startswith("B-")]
    if not starts:
        return ex
    s = rng.choice(starts)
    old = tags[s][2:]
    bad = typo(rng, old)
    e = s + 1
    while e < len(tags) and tags[e] == "I-" + old:
        e += 1
    tags[s:e] = ["B-" + bad] + ["I-" + bad] * (e - s - 1)
    return replace(ex, tags=tuple(tags))


def break_bio(rng: random.Random, ex: Example) -> Example:
    tags = list(ex.tags or ())
    starts = [i for i, t in enumerate(tags) if t.startswith("B-") and (i == 0 or tags[i - 1] == "O")]
    if not starts:
        return ex
    s = rng.choice(starts)
    tags[s] = "I-" + tags[s][2:]
    return replace(ex, tags=tuple(tags))


def load(dataset: str, data_dir: Path) -> tuple[str, list[Example], list[Example]]:
    task, train, test = DATASETS[dataset]
    return task, read_examples(data_dir / train, task=task), read_examples(data_dir / test, task=task)


def gate(train: list[Example], test: list[Example], task: str, backbone: BackboneInfo, seed: int):
    cfg = QualityConfig(label_noise="warn")  # the defaults otherwise: near copies are reported, not removed
    t0 = time.perf_counter()
    result = run_gate(
        {"train": train, "validation": [], "test": test}, task, cfg, backbone=backbone, seed=seed
    )
    return result, time.perf_counter() - t0


def _key(ex: Example) -> str:
    """A row's identity across the two runs: its text (labels may be the injected fault)."""
    return ex.text


def findings_by_check(result, rows: list[Example]) -> dict[str, list[tuple[int, int | None, str]]]:
    """Per check: (line, related line, identity of the flagged row) of every training finding."""
    by_line = {ex.line: ex for ex in rows}
    out: dict[str, list[tuple[int, int | None, str]]] = {}
    for f in result.ledger.findings:
        if f.split != "train" or not f.line:
            continue
        other = (f.detail.get("other") or {}).get("line") if f.check != "leakage" else None
        out.setdefault(f.check, []).append((f.line, other, _key(by_line[f.line])))
    return out


COPY_CHECKS = ("duplicates", "near_duplicates", "conflicts", "leakage", "near_leakage")
FAULT_CHECKS = {
    "exact duplicates": ["duplicates"],
    "near duplicates": ["near_duplicates", "duplicates"],
    "leakage": ["leakage", "near_leakage"],
}


def score(found, clean_found, truth, keys: dict[int, str]) -> dict[str, dict[str, Any]]:
    """Recall: injected rows the gate caught (copies: by any copy check, since a copy removed as a
    duplicate is no longer in train). Precision of the fault's own checks: findings that involve an
    injected row, among those that are not pre-existing (made on the unmodified data too, also when the
    flagged row is a copy of a row flagged there)."""
    copies = {line for f in ("exact duplicates", "near duplicates", "leakage") for line in truth[f]}
    originals = {c: o for f in ("exact duplicates", "near duplicates") for c, o in truth[f].items()}
    table = {}
    for fault, check in CHECKS.items():
        checks = FAULT_CHECKS.get(fault, [check])
        if not truth[fault] and not any(c in found for c in checks):
            continue
        injected = set(truth[fault])
        if fault in FAULT_CHECKS:
            hits = [x for c in COPY_CHECKS for x in found.get(c, [])]
            detected = {c for line, other, _ in hits for c in (line, other) if c in injected}
            relevant = copies
        else:
            detected = {line for line, _, _ in found.get(check, []) if line in injected}
            relevant = injected
        own = [x for c in checks for x in found.get(c, [])]
        before = {k for c in checks for _, _, k in clean_found.get(c, [])}
        tp = pre = 0
        for line, other, key in own:
            if line in relevant or other in relevant:
                tp += 1
            elif key in before or keys.get(originals.get(line, -1)) in before:
                pre += 1
        fp = len(own) - tp - pre
        table[fault] = {
            "check": "+".join(checks),
            "injected": len(injected),
            "detected": len(detected),
            "recall": round(len(detected) / len(injected), 4) if injected else None,
            "findings": len(own),
            "true_positive": tp,
            "pre_existing": pre,
            "false_positive": fp,
            "precision": round(tp / (tp + fp), 4) if tp + fp else None,
        }
    return table


def noise_sweep(result, rows: list[Example], clean_found, truth) -> list[dict[str, Any]]:
    """Recall and precision of label-noise flags kept only below stricter ``noise_threshold`` values."""
    keys = {ex.line: _key(ex) for ex in rows}
    before = {k for _, _, k in clean_found.get("label_noise", [])}
    flags = [
        (f.line, f.detail.get("p_given", 0.0)) for f in result.ledger.findings if f.check == "label_noise"
    ]
    injected = set(truth["flipped labels"])
    out = []
    for t in (0.5, 0.4, 0.3, 0.2, 0.1):
        lines = {line for line, p in flags if p < t}
        tp = len(lines & injected)
        fp = sum(1 for line in lines - injected if keys[line] not in before)
        out.append(
            {
                "noise_threshold": t,
                "flagged": len(lines),
                "recall": round(tp / len(injected), 4) if injected else None,
                "precision": round(tp / (tp + fp), 4) if tp + fp else None,
            }
        )
    return out


class ProbeRecorder:
    """NER: on each gate run, also compute every ``ner_noise_probe`` choice (token, mention, both) on
    the very rows the gate passes to the label-noise check, so that the three are compared on the
    same inputs; the gate itself keeps its configured probe."""

    def __init__(self, mention_cs: tuple[float, ...] = ()) -> None:
        import tuneforge.data.quality.model_checks as mc

        self.mention_cs = mention_cs
        self.calls: list[dict[str, Any]] = []
        self._token, self._mention, self._both = (
            mc.label_noise_ner,
            mc.label_noise_mentions,
            mc.flagged_by_both,
        )
        # the gate's default probe calls this function; the recorder stands in for it
        self._default = (
            "label_noise_ner" if QualityConfig().ner_noise_probe == "token" else "label_noise_mentions"
        )
        setattr(mc, self._default, self._record)

    def _record(self, vectors, examples, threshold, seed, folds=5):
        token = self._token(vectors, examples, 0.99, seed, folds)  # loose: thresholds applied later
        mention = self._mention(vectors, examples, 0.99, seed, folds)
        both = self._both(token, mention)
        probes = [("token", token), ("mention", mention), ("both", both)]
        probes += [  # the mention probe refitted at other regularisations, same inputs
            (f"mention C={c:g}", self._mention(vectors, examples, 0.99, seed, folds, c=c))
            for c in self.mention_cs
        ]
        lines = [ex.line for ex in examples]
        keys = [_key(ex) for ex in examples]
        self.calls.append({name: [(lines[r], keys[r], p) for r, _, p, _ in flags] for name, flags in probes})
        own = token if self._default == "label_noise_ner" else mention
        return [f for f in own if f[2] < threshold]

    def sweep(self, truth) -> dict[str, list[dict[str, Any]]]:
        """Recall / precision of each probe by noise_threshold, counted as ``noise_sweep`` counts."""
        clean, corrupted = self.calls[0], self.calls[1]
        injected = set(truth["flipped labels"])
        out: dict[str, list[dict[str, Any]]] = {}
        for name in clean:
            out[name] = []
            for t in (0.5, 0.3, 0.1):
                before = {k for _, k, p in clean[name] if p < t}
                flagged = {line: k for line, k, p in corrupted[name] if p < t}
                tp = len(set(flagged) & injected)
                fp = sum(1 for line, k in flagged.items() if line not in injected and k not in before)
                out[name].append(
                    {
                        "noise_threshold": t,
                        "flagged": len(flagged),
                        "recall": round(tp / len(injected), 4) if injected else None,
                        "precision": round(tp / (tp + fp), 4) if tp + fp else None,
                    }
                )
        return out


def cache_vectors() -> None:
    """Embed each distinct text once across the two gate runs (the unmodified and the corrupted data)."""
    import tuneforge.data.quality.model_checks as mc

    store: dict[str, Any] = {}
    compute = mc.example_vectors

    def cached(examples, *args, **kwargs):
        keys = [" ".join(ex.tokens) if ex.tokens is not None else ex.text for ex in examples]
        todo = {k: ex for k, ex in zip(keys, examples, strict=True) if k not in store}
        if todo:
            store.update(zip(todo, compute(list(todo.values()), *args, **kwargs), strict=True))
        return [store[k] for k in keys]

    mc.example_vectors = cached


def run(dataset: str, seed: int, data_root: str | None, mention_cs: tuple[float, ...] = ()) -> dict[str, Any]:
    task, train, test = load(dataset, require_data(dataset, data_root))
    cache_vectors()
    recorder = ProbeRecorder(mention_cs) if task == "ner" else None
    spec = resolve_backbone("minilm-l6")
    backbone = BackboneInfo(spec, load_tokenizer(spec), 128)
    train = [replace(ex, source="train", line=k + 1) for k, ex in enumerate(train)]
    clean, clean_s = gate(train, test, task, backbone, seed)
    clean_found = findings_by_check(clean, train)
    corrupted, truth = inject(train, test, task, seed)
    result, seconds = gate(corrupted, test, task, backbone, seed)
    probes = recorder.sweep(truth) if recorder is not None else None
    return {
        "dataset": dataset,
        "seed": seed,
        "train_rows": len(train),
        "corrupted_rows": len(corrupted),
        "unmodified": {"checks": clean.ledger.counts(), "seconds": round(clean_s, 1)},
        "faults": score(
            findings_by_check(result, corrupted), clean_found, truth, {ex.line: _key(ex) for ex in corrupted}
        ),
        "corrupted": {"checks": result.ledger.counts(), "seconds": round(seconds, 1)},
        "label_noise_sweep": noise_sweep(result, corrupted, clean_found, truth),
        **({"ner_noise_probes": probes} if probes else {}),
    }


def report() -> str:
    parts = []
    for path in sorted(RESULTS.glob("*.json")):
        r = json.loads(path.read_text())
        head = [
            "fault",
            "check",
            "injected",
            "detected",
            "recall",
            "findings",
            "pre-existing",
            "false pos.",
            "precision",
        ]
        rows = [
            dict(
                zip(
                    head,
                    [
                        fault,
                        f"`{v['check']}`",
                        v["injected"],
                        v["detected"],
                        f"{100 * v['recall']:.1f}%" if v["recall"] is not None else "-",
                        v["findings"],
                        v["pre_existing"],
                        v["false_positive"],
                        f"{100 * v['precision']:.1f}%" if v["precision"] is not None else "-",
                    ],
                    strict=True,
                )
            )
            for fault, v in r["faults"].items()
        ]
        parts.append(
            f"### {r['dataset']} (seed {r['seed']}, {r['train_rows']} -> {r['corrupted_rows']} training rows)\n"
        )
        parts.append(markdown_table(rows, head))
        clean = ", ".join(f"{c}: {v.get('found', 0)} found" for c, v in r["unmodified"]["checks"].items())
        parts.append(f"\nUnmodified {r['dataset']}: {clean} ({r['unmodified']['seconds']} s).\n")
        sweep = r.get("label_noise_sweep") or []
        if sweep:
            cells = ", ".join(
                f"{x['noise_threshold']}: {100 * (x['recall'] or 0):.1f}% / {100 * (x['precision'] or 0):.1f}%"
                for x in sweep
            )
            parts.append(f"Flipped labels, recall / precision by noise_threshold: {cells}.\n")
        for name, rows_ in (r.get("ner_noise_probes") or {}).items():
            cells = ", ".join(
                f"{x['noise_threshold']}: {100 * (x['recall'] or 0):.1f}% / {100 * (x['precision'] or 0):.1f}%"
                for x in rows_
            )
            parts.append(f"`ner_noise_probe: {name}`, recall / precision by noise_threshold: {cells}.\n")
    return "\n".join(parts)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dataset", choices=sorted(DATASETS))
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--data-root", default=None, help="folder holding banking77/ and conll2003/")
    ap.add_argument("--report", action="store_true")
    ap.add_argument(
        "--mention-c",
        nargs="*",
        type=float,
        default=[],
        help="NER: also refit the mention probe at these regularisations C on the same inputs",
    )
    args = ap.parse_args()
    if args.report or not args.dataset:
        print(report())
        return
    result = run(args.dataset, args.seed, args.data_root, tuple(args.mention_c))
    suffix = "" if args.seed == 1 else f"_seed{args.seed}"
    write_json(RESULTS / f"{args.dataset}{suffix}.json", result)
    print(json.dumps(result["faults"], indent=1))


if __name__ == "__main__":
    main()

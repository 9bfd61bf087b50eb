"""Ensembles of cheap shared-backbone members against the best single member, and the distilled student.

    python bench/ensemble.py --datasets banking77 sst2 --seeds 1 2 3 --train-subset 3000
    python bench/ensemble.py --report            # markdown tables from the finished cells
    python bench/ensemble.py --datasets banking77 --seeds 1 --cost idle   # re-time trained members
    python bench/ensemble.py --oracle --datasets banking77 sst2 --seeds 1    # room for a combination
    python bench/ensemble.py --ablate-ngram --datasets banking77 sst2 --seeds 1 2 3  # the n-gram member's share
    python bench/ensemble.py --datasets banking77 --seeds 1 --train-subset 10003   # the whole split

Members (MiniLM-L6, trained on one seeded subset per (dataset, seed), all sharing the embeddings and
the lower 5 of 6 layers, so one shared pass serves all four): two ``partial`` runs
(``freeze_layers: 5``: the top layer and the head train) and two ``adapter`` runs (a Pfeiffer adapter
in the top layer only), each with its own seed; a fixed number
of epochs, best validation epoch kept, probe-started heads. Per (dataset, seed) the cells are

- ``members``: the four members' test scores, and the inference cost of one model against the four
  members with the shared backbone (same 128 test texts, batch 64, ratio of medians of 5 repeats);
- ``voting-soft``, ``voting-hard``, ``voting-learn`` (weights learnt on the validation split),
  ``stacking-prefit`` (logistic regression on the members' validation probabilities),
  ``stacking-loglinear`` (the log-linear pool on the same): the same members;
- ``diverse-*``: the same cells over members that change every layer (full, LoRA, full, Houlsby
  adapters), and ``diverse-bagging``: 4 full fine-tuning runs on bootstrap samples;
- ``seeds-*``: the same cells over four full fine-tuning runs that differ only in their seed (a deep
  ensemble; members 1 and 3 are the diverse set's full runs, same recipe and seed, copied not retrained);
- ``backbones-*``: full fine-tuning of MiniLM-L6 (members 1 and 3, the diverse set's runs) and of the
  3-layer paraphrase MiniLM (members 2 and 4): members that differ in pretraining;
- ``distill``: a student (same recipe as member 1) trained on the soft-voting ensemble's soft labels
  (T=2, alpha=0.5); ``distill-loglinear``: the same from the ``stacking-loglinear`` ensemble;
  ``distill-transfer``: the same plus a transfer set, the rest of the training file with its labels
  dropped (text no member has seen), trained on the pooled stack's soft labels alone;
  ``distill-transfer-self``, the control: the same student and transfer set taught by member 1
  alone (what the extra text gives without the ensemble); ``distill-transfer-t1`` and
  ``distill-transfer-self-t1``: the same two at temperature 1 (the teacher's distribution as it is);
  ``...-t1-wide``: those two with a student that trains the top two layers (``partial``,
  ``freeze_layers: 4``) instead of member 1's one;
- ``ngram-*`` and ``shared-ngram-*``: the diverse and the shared set with a fifth member that is no
  transformer, TF-IDF word and character n-grams with logistic regression (``NgramMember``) on the
  same training split: other features, other mistakes;
- ``bagging`` (4 bootstrap members), ``boosting`` (SAMME, up to 4 rounds), ``stacking-kfold``
  (3 folds over members 1 and 2, logistic regression): members of their own (``partial``).

Each cell is ``bench/results/ensemble/<dataset>/<cell>-seed<k>.json``; finished cells are skipped and
trained members are kept under ``--work`` (reused by later cells), so an interrupted run continues.
Cheap cells of every (dataset, seed) run before the expensive ones.
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import shutil
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import markdown_table, require_data, write_json  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results" / "ensemble"
DEFAULT_SUBSET = 3000
DATASETS = {
    "banking77": ("train.csv", None, "test.csv", "auto", 3),
    "sst2": ("stsa.binary.train", "stsa.binary.dev", "stsa.binary.test", "txt", 2),
}
CHEAP = [
    "members",
    "voting-soft",
    "voting-hard",
    "voting-learn",
    "stacking-prefit",
    "stacking-loglinear",
    "distill",
    "distill-loglinear",
    "distill-transfer",
    "distill-transfer-self",
]
COSTLY = ["bagging", "boosting", "stacking-kfold"]
# the transfer-set students again at temperature 1 (the teacher's own distribution); the cells above
# distil at T = 2
T1 = ["distill-transfer-t1", "distill-transfer-self-t1"]
# ... and with a student that trains the top two layers (the shared members train one): the same
# student's own control (taught by member 1 alone) tells what the wider student adds by itself
WIDE_STUDENT = {"name": "partial", "freeze_layers": 4}
WIDE = ["distill-transfer-t1-wide", "distill-transfer-self-t1-wide"]
MEMBER_METHODS = [
    {"name": "partial", "freeze_layers": 5},
    {"name": "adapter", "placement": "pfeiffer", "layers": [5]},
    {"name": "partial", "freeze_layers": 5},
    {"name": "adapter", "placement": "pfeiffer", "layers": [5]},
]
# members that differ in method and seed and change every layer: nothing is shared at inference, so
# these cells measure what an ensemble can gain, the shared ones what it costs
DIVERSE_METHODS = [
    {"name": "full"},
    {"name": "lora", "r": 16},
    {"name": "full"},
    {"name": "adapter", "placement": "houlsby"},
]
# a deep ensemble: four full fine-tuning runs that differ only in their seed (the order of the
# batches, the dropout masks)
SEED_METHODS = [{"name": "full"}] * 4
# members on two backbones (MiniLM-L6 and the 3-layer paraphrase MiniLM): other pretraining, other
# mistakes; members 1 and 3 are the diverse set's full runs
BACKBONE_METHODS = [
    {"name": "full"},
    {"name": "full", "backbone": "minilm-l3"},
    {"name": "full"},
    {"name": "full", "backbone": "minilm-l3"},
]
# a fifth member that is no transformer: TF-IDF word and character n-grams with logistic regression
# (``NgramMember``), on the same training split; it reads surface forms and errs elsewhere
NGRAM = {"name": "ngram"}
MEMBER_SETS = {
    "": MEMBER_METHODS,
    "diverse-": DIVERSE_METHODS,
    "seeds-": SEED_METHODS,
    "backbones-": BACKBONE_METHODS,
    "ngram-": DIVERSE_METHODS + [NGRAM],
    "shared-ngram-": MEMBER_METHODS + [NGRAM],
}
# bagging of full fine-tuning runs: diversity from the data (bootstrap samples) on top of the seeds
DIVERSE = (
    [f"diverse-{c}" for c in CHEAP]
    + ["diverse-bagging"]
    + [f"seeds-{c}" for c in CHEAP]
    + [f"backbones-{c}" for c in CHEAP]
    + [f"ngram-{c}" for c in CHEAP]
    + [f"shared-ngram-{c}" for c in CHEAP]
    + [f"{p}{c}" for p in ("", "shared-ngram-", "ngram-") for c in T1]
    + [f"shared-ngram-{c}" for c in WIDE]
)
# a member of one set that is the very run of another set's member (same method, same seed); "" is
# the shared set
SAME_RUNS = {"seeds": "diverse", "backbones": "diverse", "ngram": "diverse", "shared-ngram": ""}


STUDENT_CELLS = ("distill", "distill-loglinear", "distill-transfer", "distill-transfer-self")


def student_cell(cell: str) -> tuple[str, float, bool] | None:
    """``(student cell, temperature, wide)`` of an inner cell name such as ``distill-transfer-t1-wide``;
    None for a cell that trains no student."""
    wide, cell = cell.endswith("-wide"), cell.removesuffix("-wide")
    t1, cell = cell.endswith("-t1"), cell.removesuffix("-t1")
    return (cell, 1.0 if t1 else 2.0, wide) if cell in STUDENT_CELLS else None


def member_set(cell: str) -> tuple[str, str, list[dict]]:
    """``(prefix, inner cell, member methods)`` of a cell name such as ``diverse-voting-soft``."""
    prefix = next((p for p in MEMBER_SETS if p and cell.startswith(p)), "")
    return prefix, cell[len(prefix) :], MEMBER_SETS[prefix]


def base_recipe(args: argparse.Namespace, dataset: str, method: dict, seed: int, out: Path) -> dict[str, Any]:
    """A member's recipe; ``method`` may name the member's ``backbone`` (default MiniLM-L6)."""
    method = dict(method)
    backbone = method.pop("backbone", "minilm-l6")
    train, dev, _, fmt, epochs = DATASETS[dataset]
    root = require_data(dataset)
    data: dict[str, Any] = {
        "train": str(root / train),
        "format": fmt,
        "max_train_examples": args.train_subset,
        "subset_seed": seed // 100,  # every member of a (dataset, seed) cell trains on one subset
        "seed": seed // 100,  # ... and on one validation hold-out (Banking77 has no validation file)
    }
    if dev:
        data["validation"] = str(root / dev)
    return {
        "task": "classification",
        "data": data,
        "backbone": backbone,
        "method": method,
        "model": {"max_length": 64},
        "output": str(out),
        "track": ["jsonl"],
        "train": {"seed": seed, "epochs": epochs, "early_stopping": {"patience": 0}, "threads": args.threads},
    }


def test_examples(dataset: str) -> list:
    from tuneforge.data.readers import read_examples

    _, _, test, fmt, _ = DATASETS[dataset]
    return read_examples(str(require_data(dataset) / test), task="classification", format=fmt)


def unlabelled_rest(dataset: str, test: list) -> list[str]:
    """The texts of the training file (labels dropped) that are not in the test file: the transfer
    set of ``distill-transfer``. Distillation drops the ones in the members' subset and validation
    split, which leaves the part of the file no member has seen: the unlabelled in-domain text a
    user distils on."""
    from tuneforge.data.quality.text import dedup_key
    from tuneforge.data.readers import read_examples

    train, _, _, fmt, _ = DATASETS[dataset]
    in_test = {dedup_key(e.text) for e in test}  # a few test texts recur in train
    rows = read_examples(str(require_data(dataset) / train), task="classification", format=fmt)
    return [e.text for e in rows if dedup_key(e.text) not in in_test]


def fitted(member, out: Path):
    from tuneforge.ensemble import Member

    if (out / "model" / "tuneforge.json").is_file():
        return Member.from_run(out, name=member.name)
    return member.fit(output=out)


def members_for(args, dataset: str, seed: int, methods: list[dict], work: Path) -> list:
    from tuneforge.ensemble import Member, NgramMember

    other = SAME_RUNS.get(work.name)
    other_methods = MEMBER_SETS.get(f"{other}-" if other else "", []) if other is not None else []
    work = work / "members"
    out = []
    for i, method in enumerate(methods):
        run = work / f"m{i + 1}"
        twin = work.parent.parent / str(other) / "members" / f"m{i + 1}"
        same = i < len(other_methods) and other_methods[i] == method
        if same and not run.exists() and (twin / "model" / "tuneforge.json").is_file():
            shutil.copytree(twin, run)  # the same recipe and seed: that run, not a second one
            print(f"   {run}: the same run as {twin}", flush=True)
        if method == NGRAM:  # the data of member 1's recipe (one data seed for the whole set)
            m: Any = NgramMember(base_recipe(args, dataset, methods[0], seed * 100, run), name=f"m{i + 1}")
        else:
            m = Member(base_recipe(args, dataset, method, seed * 100 + i, run), name=f"m{i + 1}")
        out.append(fitted(m, run))
    return out


def cached_probas(members, test, path: Path) -> list:
    """The members' test probabilities, computed once per (dataset, seed) and kept in the work folder."""
    if path.is_file():
        return pickle.loads(path.read_bytes())
    from tuneforge.ensemble import VotingEnsemble

    probas = VotingEnsemble(members).fit().member_probas(test)
    path.write_bytes(pickle.dumps(probas))
    return probas


def validation_scores(folder: Path) -> dict[str, float]:
    """Each member's validation accuracy (what a user can pick a single model by), from its run."""
    out = {}
    for run in sorted(p for p in folder.glob("m*") if (p / "metrics.jsonl").is_file()):
        if (run / "run.json").is_file():
            out[run.name] = json.loads((run / "run.json").read_text())["metrics"]["validation"]["accuracy"]
        else:  # the best epoch's validation score, which the run kept
            records = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
            out[run.name] = max(r["accuracy"] for r in records if r.get("split") == "validation")
    return out


def cost(members, test, repeats: int = 5) -> dict[str, float]:
    from tuneforge.ensemble.shared import member_probabilities, share_plan

    texts = [e.text for e in test[:128]]
    one, four, alone = [], [], []
    member_probabilities(members, texts[:32])  # warm-up
    for _ in range(repeats):
        for bucket, ms, share in ((one, members[:1], False), (four, members, True), (alone, members, False)):
            t0 = time.perf_counter()
            member_probabilities(ms, texts, batch_size=64, share=share)
            bucket.append(time.perf_counter() - t0)
    m1, m4, m4u = statistics.median(one), statistics.median(four), statistics.median(alone)
    return {
        "one_model_s": round(m1, 4),
        "four_shared_s": round(m4, 4),
        "four_unshared_s": round(m4u, 4),
        "shared_ratio": round(m4 / m1, 3),
        "unshared_ratio": round(m4u / m1, 3),
        "share_plan": [[idx, k] for idx, k in share_plan(members)],
    }


def run_cell(args, dataset: str, cell: str, seed: int) -> dict[str, Any]:
    from tuneforge.ensemble import (
        BaggingEnsemble,
        BoostingEnsemble,
        LogLinearPool,
        Member,
        StackingEnsemble,
        VotingEnsemble,
        distill,
        ensemble_report,
    )
    from tuneforge.ensemble.member import gold_indices, training_examples
    from tuneforge.ensemble.report import disagreement

    test = test_examples(dataset)
    prefix, cell, methods = member_set(cell)
    work = Path(args.work) / folder(args, dataset) / f"seed{seed}" / prefix.rstrip("-")
    members = members_for(args, dataset, seed, methods, work)
    base = Member(base_recipe(args, dataset, methods[0], seed * 100, work / "x"), name="p")
    validation = training_examples(base.recipe)["validation"]
    result: dict[str, Any] = {
        "dataset": dataset,
        "cell": prefix + cell,
        "seed": seed,
        "member_methods": methods,
        "train_subset": args.train_subset,
    }
    t0 = time.perf_counter()
    probas = cached_probas(members, test, work / "test_probas.pkl")
    if cell == "members":
        ens = VotingEnsemble(members).fit()
        gold = gold_indices(test, ens.labels)
        result["members"] = {
            m.name: float(np.mean(p.argmax(1) == gold)) for m, p in zip(members, probas, strict=True)
        }
        result["members_validation"] = validation_scores(work / "members")
        result["disagreement"] = disagreement("classification", probas, ens.labels)
        if len(members) == 4:  # one model against four (the n-gram sets have five members)
            result["cost"] = cost(members, test)
        result["score"] = max(result["members"].values())
        return result
    if cell.startswith("voting-"):
        kind = cell.split("-", 1)[1]
        ens = VotingEnsemble(
            members, voting="hard" if kind == "hard" else "soft", weights="learn" if kind == "learn" else None
        ).fit(validation)
        result["weights"] = ens.weights_.tolist()
    elif cell == "stacking-prefit":
        ens = StackingEnsemble(members, cv="prefit").fit(validation)
    elif cell == "stacking-loglinear":
        ens = StackingEnsemble(members, meta=LogLinearPool(), cv="prefit").fit(validation)
        result["weights"] = ens.meta_.coef_.tolist()
    elif (parsed := student_cell(cell)) is not None:
        cell, temperature, wide = parsed
        if cell == "distill":
            teacher: Any = VotingEnsemble(members).fit()
        elif cell == "distill-transfer-self":  # the control: member 1 alone teaches on the same text
            teacher = VotingEnsemble(members[:1]).fit()
        else:  # the stacked ensemble, its pool fitted on the validation split
            teacher = StackingEnsemble(members, meta=LogLinearPool(), cv="prefit").fit(validation)
        where = work / {
            "distill": "student",
            "distill-loglinear": "student-loglinear",
            "distill-transfer": "student-transfer",
        }.get(cell, "student-transfer-self")
        if temperature != 2.0:
            where = where.with_name(f"{where.name}-t{temperature:g}")
        student_method = methods[0]
        if wide:  # one more trained layer than the shared members' (partial, top two layers)
            student_method = WIDE_STUDENT
            where = where.with_name(f"{where.name}-wide")
        result["student_method"] = student_method
        student = Member(base_recipe(args, dataset, student_method, seed * 100, where), name="student")
        transfer = unlabelled_rest(dataset, test) if cell.startswith("distill-transfer") else None
        distill(teacher, student, temperature=temperature, alpha=0.5, transfer=transfer, output=str(where))
        result["temperature"] = temperature
        if student.transfer_ is not None:
            result["transfer"] = {
                "examples": len(student.transfer_.examples),
                "dropped_in_splits": student.transfer_.dropped_in_splits,
                "dropped_duplicate": student.transfer_.dropped_duplicate,
            }
        result["score"] = student.predictor_.evaluate(test).metrics["accuracy"]
        result["seconds"] = round(time.perf_counter() - t0, 1)
        return result
    elif cell == "bagging":
        ens = BaggingEnsemble(base, n_members=4).fit(out=str(work / "bagging"))
    elif cell == "boosting":
        ens = BoostingEnsemble(base, n_members=4).fit(out=str(work / "boosting"))
        result["alphas"], result["errors"], result["stopped"] = (
            ens.weights_.tolist(),
            ens.errors_,
            ens.stopped_,
        )
    elif cell == "stacking-kfold":  # members 1 and 2 refitted by the stacker, from this bench's recipes
        fresh = [
            Member(
                base_recipe(args, dataset, methods[i], seed * 100 + i, work / "stacking" / f"m{i + 1}"),
                name=f"m{i + 1}",
            )
            for i in range(2)
        ]
        ens = StackingEnsemble(fresh, cv=3).fit(out=str(work / "stacking"))
    else:
        raise SystemExit(f"unknown cell {cell}")
    if cell.startswith(("voting-", "stacking-prefit", "stacking-loglinear")):  # test probabilities cached
        preds = ens.predictions_from(probas, test)
        result["score"] = float(np.mean([p.label == e.label for p, e in zip(preds, test, strict=True)]))
        result["disagreement"] = disagreement("classification", probas, ens.labels)
        result["seconds"] = round(time.perf_counter() - t0, 1)
        return result
    rep = ensemble_report(ens, test)
    result["score"] = rep["rows"][-1]["metrics"]["accuracy"]
    result["members"] = {r["name"]: r["metrics"]["accuracy"] for r in rep["rows"] if r["kind"] == "member"}
    result["disagreement"] = rep["disagreement"]
    result["seconds"] = round(time.perf_counter() - t0, 1)
    return result


def folder(args: argparse.Namespace, dataset: str) -> str:
    """Where a dataset's cells and members live: ``<dataset>`` for the default 3,000-example subset,
    ``<dataset>-<n>`` for another ``--train-subset``."""
    return dataset if args.train_subset == DEFAULT_SUBSET else f"{dataset}-{args.train_subset}"


def oracle(args: argparse.Namespace, dataset: str, seed: int) -> dict[str, dict[str, float]]:
    """Per member set of a (dataset, seed) whose test probabilities are cached: the best member's test
    accuracy and the share of test examples at least one member gets right (what no combination of
    these members can exceed), from the cached probabilities."""
    from tuneforge.ensemble import Member
    from tuneforge.ensemble.member import gold_indices

    test = test_examples(dataset)
    out = {}
    for prefix in MEMBER_SETS:
        work = Path(args.work) / folder(args, dataset) / f"seed{seed}" / prefix.rstrip("-")
        if not (work / "test_probas.pkl").is_file():
            continue
        probas = pickle.loads((work / "test_probas.pkl").read_bytes())
        gold = gold_indices(test, Member.from_run(work / "members" / "m1").labels)
        right = np.stack([p.argmax(1) == gold for p in probas])
        out[prefix.rstrip("-") or "shared"] = {
            "best_member": round(float(right.mean(1).max()), 4),
            "some_member_right": round(float(right.any(0).mean()), 4),
        }
    return out


def ablate_ngram(args: argparse.Namespace, dataset: str, seed: int) -> dict[str, dict[str, float]]:
    """Per n-gram member set that has run (``ngram-``, ``shared-ngram-``): the log-linear pool over all
    five members and over the four transformer members alone, fitted on the same validation split,
    scored on the cached test probabilities: what the n-gram member adds to the pool."""
    from tuneforge.ensemble import LogLinearPool, Member, StackingEnsemble
    from tuneforge.ensemble.member import gold_indices, training_examples

    test = test_examples(dataset)
    out = {}
    for prefix in ("ngram-", "shared-ngram-"):
        work = Path(args.work) / folder(args, dataset) / f"seed{seed}" / prefix.rstrip("-")
        if not (work / "test_probas.pkl").is_file():
            continue
        methods = MEMBER_SETS[prefix]
        members = members_for(args, dataset, seed, methods, work)
        base = Member(base_recipe(args, dataset, methods[0], seed * 100, work / "x"), name="p")
        validation = training_examples(base.recipe)["validation"]
        probas = pickle.loads((work / "test_probas.pkl").read_bytes())
        gold = gold_indices(test, members[0].labels)
        row: dict[str, float] = {
            "best_member": round(float(max(np.mean(p.argmax(1) == gold) for p in probas)), 4),
            "best_transformer_member": round(float(max(np.mean(p.argmax(1) == gold) for p in probas[:4])), 4),
        }
        for name, chosen in (("pool_all", members), ("pool_without_ngram", members[:4])):
            ens = StackingEnsemble(chosen, meta=LogLinearPool(), cv="prefit").fit(validation)
            preds = ens.predictions_from(probas[: len(chosen)], test)
            row[name] = round(
                float(np.mean([p.label == e.label for p, e in zip(preds, test, strict=True)])), 4
            )
        out[prefix.rstrip("-")] = row
    return out


def cell_path(args: argparse.Namespace, dataset: str, cell: str, seed: int) -> Path:
    return RESULTS / folder(args, dataset) / f"{cell}-seed{seed}.json"


def run_all(args) -> None:
    plan = [
        (d, c, s)
        for cells in (CHEAP, DIVERSE, COSTLY)
        for s in args.seeds
        for d in args.datasets
        for c in cells
    ]
    for dataset, cell, seed in plan:
        path = cell_path(args, dataset, cell, seed)
        if path.is_file() or (args.cells and cell not in args.cells):
            continue
        print(f"== {dataset} {cell} seed {seed}", flush=True)
        result = run_cell(args, dataset, cell, seed)
        write_json(path, result)
        print(json.dumps({k: result.get(k) for k in ("dataset", "cell", "seed", "score")}), flush=True)


def _load(dataset: str) -> dict[str, dict[int, dict]]:
    """The finished cells of a results folder (a dataset, or ``<dataset>-<n>``)."""
    cells: dict[str, dict[int, dict]] = {}
    for path in sorted((RESULTS / dataset).glob("*-seed*.json")):
        r = json.loads(path.read_text())
        cells.setdefault(r["cell"], {})[r["seed"]] = r
    return cells


def _ms(values: list[float]) -> str:
    if not values:
        return ""
    if len(values) == 1:
        return f"{100 * values[0]:.2f} (n=1)"
    return f"{100 * statistics.mean(values):.2f} ± {100 * statistics.stdev(values):.2f} (n={len(values)})"


def accuracy_table(cells: dict[str, dict[int, dict]], prefix: str, later: list[str]) -> str:
    members = cells.get(f"{prefix}members", {})
    best = {s: r["score"] for s, r in members.items()}
    mean_member = {s: statistics.mean(r["members"].values()) for s, r in members.items()}
    rows = [["best single member", _ms(list(best.values())), "", ""]]
    rows.append(["mean single member", _ms(list(mean_member.values())), "", ""])
    picked = {  # the member with the best validation score: the single model a user would deploy
        s: r["members"][max(r["members_validation"], key=r["members_validation"].get)]
        for s, r in members.items()
        if r.get("members_validation")
    }
    if picked:
        rows.append(["member picked on validation", _ms(list(picked.values())), "", ""])
    for r in rows:  # the single-model rows have no comparison columns
        r.insert(3, "")
    for cell in [f"{prefix}{c}" for c in CHEAP[1:] + T1 + WIDE] + later:
        rs = cells.get(cell, {})
        seeds = [s for s in rs if s in best]
        if not seeds:
            continue
        gains = [rs[s]["score"] - best[s] for s in seeds]
        over_picked = [rs[s]["score"] - picked[s] for s in seeds if s in picked]
        dis = [rs[s]["disagreement"]["any"] for s in seeds if "disagreement" in rs[s]]
        rows.append(
            [
                cell,
                _ms([rs[s]["score"] for s in seeds]),
                f"{100 * statistics.mean(gains):+.2f}",
                f"{100 * statistics.mean(over_picked):+.2f}" if over_picked else "",
                f"{100 * statistics.mean(dis):.1f}" if dis else "",
            ]
        )
    head = [
        "model",
        "test accuracy % (mean ± sd)",
        "vs best member (points)",
        "vs member picked on validation",
        "members disagree %",
    ]
    table = markdown_table([dict(zip(head, r, strict=True)) for r in rows], head)
    return table + kept_gain(cells, prefix, best)


def kept_gain(cells: dict[str, dict[int, dict]], prefix: str, best: dict[int, float]) -> str:
    """How much of the pooled stack's gain over the best member each of its students keeps (the
    target: at least half), over the seeds where both were run."""
    pool = cells.get(f"{prefix}stacking-loglinear", {})
    lines = []
    for cell in ("distill-loglinear", "distill-transfer", T1[0], WIDE[0]):
        rs = cells.get(f"{prefix}{cell}", {})
        seeds = sorted(s for s in rs if s in pool and s in best)
        if not seeds:
            continue
        gain = statistics.mean(pool[s]["score"] - best[s] for s in seeds)
        kept = statistics.mean(rs[s]["score"] - best[s] for s in seeds)
        # below a tenth of a point (a third of one Banking77 test example per seed) there is no gain
        share = f"{100 * kept / gain:.0f}% of it" if gain >= 0.001 else "no measurable gain to keep"
        lines.append(
            f"- `{prefix}{cell}` (seeds {', '.join(map(str, seeds))}): the stack gains {100 * gain:+.2f} "
            f"points over the best member, the student {100 * kept:+.2f} ({share})"
        )
    return ("\n\n" + "\n".join(lines)) if lines else ""


def report(dataset: str) -> str:
    cells = _load(dataset)
    members = cells.get("members", {})
    if not members:
        return f"no finished cells for {dataset}"
    table = accuracy_table(cells, "", COSTLY)
    if cells.get("diverse-members"):
        methods = ", ".join(
            m["name"] for m in next(iter(cells["diverse-members"].values()))["member_methods"]
        )
        table += f"\n\nDiverse members ({methods}; nothing shared):\n\n" + accuracy_table(
            cells, "diverse-", ["diverse-bagging"]
        )
    if cells.get("seeds-members"):
        table += "\n\nFour full fine-tuning runs, seeds only (a deep ensemble):\n\n" + accuracy_table(
            cells, "seeds-", []
        )
    if cells.get("backbones-members"):
        table += (
            "\n\nTwo backbones (full fine-tuning of MiniLM-L6, MiniLM-L3, MiniLM-L6, MiniLM-L3):\n\n"
            + accuracy_table(cells, "backbones-", [])
        )
    if cells.get("shared-ngram-members"):
        table += (
            "\n\nThe shared members and a fifth, n-gram member (partial, adapter, partial, adapter, "
            "ngram):\n\n" + accuracy_table(cells, "shared-ngram-", [])
        )
    if cells.get("ngram-members"):
        table += (
            "\n\nThe diverse members and a fifth, n-gram member (full, lora, full, adapter, ngram):\n\n"
            + accuracy_table(cells, "ngram-", [])
        )
    costs = [r["cost"] for r in members.values()]
    cost_rows = [
        [
            str(s),
            f"{r['cost']['one_model_s']:.3f}",
            f"{r['cost']['four_shared_s']:.3f}",
            f"{r['cost']['shared_ratio']:.2f}×",
            f"{r['cost']['four_unshared_s']:.3f}",
            f"{r['cost']['unshared_ratio']:.2f}×",
        ]
        for s, r in sorted(members.items())
    ]
    cost_head = ["seed", "1 model s", "4 shared s", "shared ratio", "4 separate s", "separate ratio"]
    cost_table = markdown_table([dict(zip(cost_head, r, strict=True)) for r in cost_rows], cost_head)
    return (
        f"### {dataset}\n\n{table}\n\nInference of 128 test texts (batch 64), median of 5:\n\n{cost_table}\n"
        + (
            f"\nmedian shared ratio {statistics.median(c['shared_ratio'] for c in costs):.2f}×\n"
            if costs
            else ""
        )
    )


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--datasets", nargs="+", default=["banking77", "sst2"], choices=list(DATASETS))
    p.add_argument("--seeds", nargs="+", type=int, default=[1, 2, 3])
    p.add_argument(
        "--train-subset",
        type=int,
        default=DEFAULT_SUBSET,
        help="training examples per member; other than 3000, cells go to results/ensemble/<dataset>-<n>",
    )
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--cells", nargs="*", default=None, help="only these cells")
    p.add_argument("--work", default=os.environ.get("TUNEFORGE_BENCH_WORK", "/tmp/tuneforge-bench-ensemble"))
    p.add_argument("--report", action="store_true")
    p.add_argument(
        "--oracle",
        action="store_true",
        help="only the room a combination has: per member set with cached test probabilities, the best "
        "member's accuracy and the share of test examples some member gets right (results/ensemble/"
        "oracle_<dataset>_seed<k>.json)",
    )
    p.add_argument(
        "--ablate-ngram",
        action="store_true",
        help="only the n-gram member's share: per n-gram member set that has run, the log-linear pool "
        "with and without it (results/ensemble/ablate_ngram_<dataset>_seed<k>.json)",
    )
    p.add_argument(
        "--cost",
        metavar="TAG",
        help="only re-measure the shared-backbone inference cost of the trained members of each "
        "(dataset, seed) into results/ensemble/cost_<dataset>_seed<k>_<TAG>.json",
    )
    p.add_argument("--repeats", type=int, default=9, help="--cost: timing repeats (median)")
    p.add_argument(
        "--cost-set",
        default="",
        choices=["", "shared-ngram"],
        help="--cost: the member set (default: the four shared members; shared-ngram: and the n-gram member)",
    )
    args = p.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    if args.oracle:
        for dataset in args.datasets:
            for seed in args.seeds:
                path = RESULTS / f"oracle_{folder(args, dataset)}_seed{seed}.json"
                # sets whose cached probabilities are gone from --work keep their earlier figures
                result = {
                    **(json.loads(path.read_text()) if path.is_file() else {}),
                    **oracle(args, dataset, seed),
                }
                write_json(path, result)
                print(dataset, seed, json.dumps(result), flush=True)
        return
    if args.ablate_ngram:
        for dataset in args.datasets:
            for seed in args.seeds:
                result = ablate_ngram(args, dataset, seed)
                write_json(RESULTS / f"ablate_ngram_{folder(args, dataset)}_seed{seed}.json", result)
                print(dataset, seed, json.dumps(result), flush=True)
        return
    if args.report:
        print("\n".join(report(folder(args, d)) for d in args.datasets))
        return
    if args.cost:
        for dataset in args.datasets:
            for seed in args.seeds:
                work = Path(args.work) / dataset / f"seed{seed}" / args.cost_set
                members = members_for(
                    args, dataset, seed, MEMBER_SETS[f"{args.cost_set}-" if args.cost_set else ""], work
                )
                test = test_examples(dataset)
                result = cost(members[:4], test, repeats=args.repeats)
                if len(members) > 4:  # the same four and the n-gram member, timed in the same run
                    result["with_ngram"] = cost(members, test, repeats=args.repeats)
                write_json(RESULTS / f"cost_{dataset}_seed{seed}_{args.cost}.json", result)
                print(dataset, seed, json.dumps(result), flush=True)
        return
    run_all(args)


if __name__ == "__main__":
    main()

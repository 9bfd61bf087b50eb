"""``select(recipe)``: rank (backbone x method) candidates on the user's data within a time budget.

Stage 1 encodes the data once per backbone and reads transferability estimates off the frozen
features (seconds). Stage 2 races the most promising candidates with real, short fine-tuning runs
under budgeted successive halving. Both stages run on the same data the recipe would train on (after
its split, quality gate and augmentation), written once into the selection folder, so every candidate
is scored on the same validation examples. The test split is never looked at."""

from __future__ import annotations

import json
import math
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..config import Recipe, SelectConfig, as_recipe, recipe_from_dict, save_recipe
from ..data.quality import BackboneInfo
from ..data.split import subsample
from ..data.stage import prepare_data
from ..data.writers import write_examples
from ..errors import ConfigError, DataError, RunError
from ..io import atomic_write_json, atomic_write_text
from ..models.backbones import load_tokenizer, resolve_backbone
from ..models.tasks import get_task
from ..rundir import RunDir
from .candidates import Candidate, build_candidates, parse_duration
from .estimates import BackboneFeatures, encode_backbone, estimate
from .halving import HalvingResult, successive_halving
from .holdout import grow_validation
from .report import pareto_front, render_markdown
from .trial import tidy_trial

STAGE1_VALIDATION = 2000  # validation examples encoded for stage 1


@dataclass
class Selection:
    folder: Path
    pick: str
    rows: list[dict[str, Any]]
    budget_seconds: float
    seconds: float
    stage1_seconds: float
    best_recipe: Path
    info: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "pick": self.pick,
            "budget_seconds": self.budget_seconds,
            "seconds": round(self.seconds, 2),
            "stage1_seconds": round(self.stage1_seconds, 2),
            "best_recipe": str(self.best_recipe),
            "folder": str(self.folder),
            **self.info,
            "candidates": self.rows,
        }


def _config(recipe: Recipe, budget, backbones, methods) -> SelectConfig:
    cfg = recipe.select or SelectConfig()
    update: dict[str, Any] = {}
    if budget is not None:
        update["budget"] = str(budget)
    if backbones:
        update["backbones"] = list(backbones)
    if methods:
        update["methods"] = [{"name": m} if isinstance(m, str) else m for m in methods]
    return SelectConfig.model_validate(cfg.model_dump() | update) if update else cfg


def _write_data(
    recipe: Recipe, cfg: SelectConfig, folder: Path, say
) -> tuple[dict[str, list], dict[str, str], int]:
    """The recipe's data stage once; its train and validation splits (the validation grown to
    ``cfg.min_validation`` examples when it is smaller) written for every candidate."""
    spec = resolve_backbone(recipe.backbone)
    tokenizer = load_tokenizer(spec)
    info = BackboneInfo(spec, tokenizer, min(recipe.model.max_length, spec.max_length))
    folder.mkdir(parents=True, exist_ok=True)
    stage = prepare_data(recipe, RunDir(folder), info, say)
    splits = dict(stage.splits)
    before = len(splits["validation"])
    splits["train"], splits["validation"], moved = grow_validation(
        splits["train"], splits["validation"], minimum=cfg.min_validation,
        augmented=stage.augmented, seed=recipe.data_seed,
    )  # fmt: skip
    if moved:
        say(
            f"selection validation: {before} examples are few to tell candidates apart; {moved} training "
            f"examples moved to it ({len(splits['validation'])} validation, {len(splits['train'])} train)"
        )
    ext = "conll" if recipe.task == "ner" else "jsonl"
    files = {
        name: str(write_examples(folder / f"{name}.{ext}", splits[name], recipe.task))
        for name in ("train", "validation")
    }
    return splits, files, moved


def _candidate_recipe(
    recipe: Recipe, cand: Candidate, files: dict[str, str], output: Path, **train
) -> Recipe:
    data = recipe.resolved()
    data.pop("select", None)
    data.pop("tune", None)
    data.pop("ensemble", None)
    data["backbone"] = cand.backbone
    data["method"] = cand.method.model_dump(mode="json")
    d = data["data"]
    d.update(train=files["train"], validation=files["validation"], test=None, splits_file=None)
    d.update(format="conll" if recipe.task == "ner" else "jsonl", group_column=None, encoding="utf-8")
    d["quality"] = {**d["quality"], "enabled": False}  # the data were gated once already
    d["augment"] = {**d["augment"], "enabled": False}
    d["max_train_examples"] = train.pop("max_train_examples", None)
    data["train"].update(train)
    data["output"] = str(output)
    data["track"] = ["jsonl"]
    return recipe_from_dict(data)


def _best_validation(run_dir: RunDir, metric: str) -> tuple[float, float]:
    """``(metric, loss)`` of the run's best validation (the first to reach the best metric: the one
    the run kept). The loss breaks ties: on a few hundred examples two candidates often reach the same
    accuracy, and the one with the lower loss is surer of its right answers."""
    best, loss = -math.inf, math.inf
    if run_dir.metrics.is_file():
        for line in run_dir.metrics.read_text(encoding="utf-8").splitlines():
            rec = json.loads(line)
            if rec.get("split") == "validation" and metric in rec and float(rec[metric]) > best:
                best, loss = float(rec[metric]), float(rec.get("loss", math.inf))
    return best, loss


def _latency_ms(run_dir: RunDir, texts: list[Any], n: int = 16) -> float:
    from ..predictor import Predictor

    predictor = Predictor(run_dir.path, device="cpu")
    times = []
    for item in texts[:n]:
        t0 = time.perf_counter()
        predictor.predict([item])
        times.append(1000 * (time.perf_counter() - t0))
    return statistics.median(times) if times else 0.0


class _Racer:
    """Trains one candidate for a given number of seconds and remembers how fast it went."""

    def __init__(self, recipe, cands, feats, splits, files, folder, metric, say) -> None:
        self.recipe, self.cands, self.feats = recipe, cands, feats
        self.splits, self.files, self.folder, self.metric, self.say = splits, files, folder, metric, say
        self.history: dict[int, dict[str, float]] = {}
        self.last_run: dict[int, Path] = {}

    def _speed(self, idx: int) -> tuple[float, float, float]:
        """(training examples/s, seconds of overhead per run, forward examples/s): measured in the
        candidate's last run, else guessed from the backbone's stage-1 speed (a training step costs
        about three forward passes when the whole backbone trains, about two when it is frozen)."""
        n_train, n_val = len(self.splits["train"]), len(self.splits["validation"])
        fwd = self.feats[self.cands[idx].backbone].examples_per_second
        hist = self.history.get(idx)
        if hist:
            return hist["sps"], hist["overhead"], fwd
        factor = 3.0 if self.cands[idx].method.name == "full" else 2.2
        return fwd / factor, 3.0 + (n_train + n_val) / fwd, fwd

    def cost(self, idx: int) -> float:
        """Seconds of one run of one epoch: stage 2 splits a round's time in proportion to it, so
        that every candidate of the round trains on as many examples."""
        sps, overhead, _ = self._speed(idx)
        return overhead + len(self.splits["train"]) / sps

    def plan(self, idx: int, seconds: float) -> dict[str, Any]:
        """Epochs (or a data subset) that fill ``seconds``; ``train.max_seconds`` is the hard stop."""
        n_train, n_val = len(self.splits["train"]), len(self.splits["validation"])
        sps, overhead, fwd = self._speed(idx)
        train_s = max(seconds - overhead, 0.3 * seconds)
        fit = train_s * sps
        max_epochs = self.recipe.train.epochs
        if fit >= n_train:
            epochs = max(1, min(max_epochs, int(fit // n_train)))
            while epochs > 1 and epochs * (n_train / sps + n_val / fwd) > train_s:
                epochs -= 1
            return {"epochs": epochs, "max_seconds": train_s}
        return {"epochs": 1, "max_seconds": train_s, "max_train_examples": max(int(fit), min(n_train, 32))}

    def __call__(self, idx: int, rnd: int, seconds: float) -> tuple[float, dict[str, Any]]:
        from ..pipeline import run

        cand = self.cands[idx]
        plan = self.plan(idx, seconds)
        out = self.folder / "runs" / f"round{rnd}-{cand.slug}"
        t0 = time.perf_counter()
        try:
            recipe = _candidate_recipe(self.recipe, cand, self.files, out, **dict(plan))
            run_dir = run(recipe, force=True, quiet=True)
        except (ConfigError, DataError, RuntimeError) as err:
            self.say(f"  {cand.name}: failed: {err}")
            return -math.inf, {"error": str(err), "plan": plan}
        summary = run_dir.read_summary()
        score, loss = _best_validation(run_dir, self.metric)
        wall = time.perf_counter() - t0
        latency = _latency_ms(run_dir, list(self.splits["validation"]))
        tidy_trial(run_dir.path, keep_model=True)  # a finished run needs no resumable checkpoints
        if idx in self.last_run:  # only a candidate's latest run keeps its model
            tidy_trial(self.last_run[idx], keep_model=False)
        self.last_run[idx] = run_dir.path
        train_s = float(summary.get("train_seconds", 0.0))
        self.history[idx] = {
            "sps": float(summary.get("train_samples_per_second") or 1.0),
            "overhead": max(time.perf_counter() - t0 - train_s, 0.5),
        }
        self.say(f"  round {rnd + 1}: {cand.name} {self.metric}={score:.4f} ({wall:.0f}s)")
        return score, {
            "tiebreak": -loss,
            "validation_loss": loss if math.isfinite(loss) else None,
            "plan": plan,
            "run": str(run_dir.path),
            "train_seconds": train_s,
            "wall_seconds": round(wall, 2),
            "latency_ms": round(latency, 2),
            "parameters": summary.get("parameters", {}),
            "steps": summary.get("steps"),
        }


def _stage1(
    task, labels, cands, splits, cfg: SelectConfig, recipe: Recipe, say
) -> dict[str, BackboneFeatures]:
    train = [
        splits["train"][i] for i in subsample(len(splits["train"]), cfg.stage1_examples, recipe.data_seed)
    ]
    val = splits["validation"][:STAGE1_VALIDATION]
    feats: dict[str, BackboneFeatures] = {}
    for name in dict.fromkeys(c.backbone for c in cands):
        spec = resolve_backbone(name)
        pooling = None if recipe.model.pooling == "auto" else recipe.model.pooling
        f = encode_backbone(
            task, spec, train, val, labels,
            max_length=min(recipe.model.max_length, spec.max_length),
            batch_size=recipe.train.eval_batch_size, pooling=pooling, normalize=recipe.model.normalize,
        )  # fmt: skip
        feats[name] = estimate(task, labels, f)
        shown = ", ".join(f"{k} {v:.4f}" for k, v in f.estimates.items())
        say(f"stage 1: {name}: {shown} (encoded {len(train) + len(val)} examples in {f.encode_seconds:.1f}s)")
    return feats


def _rows(
    cands, feats, race: HalvingResult | None, order: list[int], cfg: SelectConfig
) -> list[dict[str, Any]]:
    rows = []
    for i, cand in enumerate(cands):
        f = feats[cand.backbone]
        trials = [t for t in (race.trials if race else []) if t.candidate == i]
        last = trials[-1].details if trials else {}
        params = last.get("parameters") or {}
        rows.append(
            {
                "name": cand.name,
                **cand.describe(),
                "estimates": {k: round(v, 5) for k, v in f.estimates.items()},
                "stage1_rank": order.index(i) + 1,
                "stage2": i in order[: cfg.max_candidates],
                "score": round(trials[-1].score, 5) if trials and math.isfinite(trials[-1].score) else None,
                "rounds": race.rounds_reached(i) if race else 0,
                "train_seconds": round(sum(t.details.get("train_seconds", 0.0) for t in trials), 2),
                "wall_seconds": round(sum(t.seconds_used for t in trials), 2),
                "latency_ms": last.get("latency_ms", round(f.latency_ms, 2)),
                "inference_examples_per_second": round(f.examples_per_second, 1),
                "parameters": params.get("total", f.parameters),
                "trainable_parameters": params.get("trainable"),
                "error": next((t.details["error"] for t in trials if "error" in t.details), None),
                "trials": [
                    {
                        "round": t.round + 1,
                        "seconds_given": round(t.seconds_given, 2),
                        "seconds_used": round(t.seconds_used, 2),
                        "score": t.score,
                        **{
                            k: v
                            for k, v in t.details.items()
                            if k in ("plan", "run", "wall_seconds", "validation_loss")
                        },
                    }
                    for t in trials
                ],  # fmt: skip
            }
        )
    return rows


def select(
    recipe: Recipe | str | Path | dict,
    overrides: list[str] | None = None,
    *,
    budget: str | float | None = None,
    backbones: list[str] | None = None,
    methods: list[Any] | None = None,
    out: str | Path | None = None,
    say: Callable[[str], None] | None = None,
) -> Selection:
    """Measure the candidates on the recipe's data within ``budget`` and write ``selection.md/json``
    and ``best_recipe.yaml`` into the selection folder. See docs/selection.md."""
    say = say or (lambda _m: None)
    recipe = as_recipe(recipe, overrides)
    cfg = _config(recipe, budget, backbones, methods)
    budget_s = parse_duration(cfg.budget)
    cands = build_candidates(recipe, cfg)
    task = get_task(recipe.task)
    folder = Path(out or cfg.output or f"{recipe.output}-select")
    started = time.monotonic()
    splits, files, moved = _write_data(recipe, cfg, folder / "data", say)
    labels = task.label_list(splits["train"])
    task.check_labels(splits["validation"], labels)
    metric = task.primary_metric
    feats = _stage1(task, labels, cands, splits, cfg, recipe, say)
    stage1_s = time.monotonic() - started
    key = cfg.estimator
    order = sorted(range(len(cands)), key=lambda i: -feats[cands[i].backbone].estimates[key])
    racing = order[: cfg.max_candidates]
    left = budget_s - stage1_s
    say(
        f"stage 1 took {stage1_s:.0f}s; stage 2 races {len(racing)} candidates in the {max(left, 0):.0f}s left"
    )
    racer = _Racer(recipe, cands, feats, splits, files, folder, metric, say)
    race = (
        successive_halving(racing, racer, left, eta=cfg.eta, min_seconds=cfg.min_seconds, cost=racer.cost)
        if left > 0
        else None
    )
    rows = _rows(cands, feats, race, order, cfg)
    if race is not None and race.trials and not any(math.isfinite(t.score) for t in race.trials):
        errors = "; ".join(f"{cands[t.candidate].name}: {t.details.get('error')}" for t in race.trials)
        raise RunError(f"every candidate failed to train: {errors}")
    best_idx = race.best() if race is not None else None
    pick_idx = best_idx if best_idx is not None else order[0]
    for row in rows:
        row["pick"] = row["name"] == cands[pick_idx].name
    front = pareto_front(rows)
    for row in rows:
        row["pareto"] = row["name"] in front
    seconds = time.monotonic() - started
    best = recipe.model_copy(update={"backbone": cands[pick_idx].backbone, "method": cands[pick_idx].method})
    best_path = folder / "best_recipe.yaml"
    save_recipe(best, best_path)
    why = (
        f"best validation {metric} in the last round of successive halving ({race.rounds} round(s))"
        if race is not None and race.trials
        else f"best stage-1 estimate ({key}); the budget left no time for stage 2"
    )
    selection = Selection(
        folder, cands[pick_idx].name, rows, budget_s, seconds, stage1_s, best_path,
        info={"metric": metric, "estimator": key, "why": why, "eta": cfg.eta, "task": recipe.task,
              "train_examples": len(splits["train"]), "validation_examples": len(splits["validation"]),
              "validation_moved_from_train": moved,
              "stopped_for_budget": bool(race and race.stopped_for_budget)},
    )  # fmt: skip
    atomic_write_json(folder / "selection.json", selection.to_json())
    atomic_write_text(folder / "selection.md", render_markdown(selection.to_json()))
    return selection


def apply_selection(recipe: Recipe, path: str | Path) -> Recipe:
    """The recipe with the backbone and method that a ``tuneforge select`` run picked."""
    path = Path(path)
    file = path / "selection.json" if path.is_dir() else path
    if not file.is_file():
        raise ConfigError(f"{file} does not exist; run `tuneforge select RECIPE` first")
    data = json.loads(file.read_text(encoding="utf-8"))
    pick = next((r for r in data.get("candidates", []) if r.get("pick")), None)
    if pick is None:
        raise ConfigError(f"{file} names no pick; it is not a finished selection")
    from ..config import MethodConfig

    return recipe.model_copy(
        update={"backbone": pick["backbone"], "method": MethodConfig.model_validate(pick["method"])}
    )

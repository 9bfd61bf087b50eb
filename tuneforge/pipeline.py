"""``run(recipe)``: data -> encode -> model + method -> (probe) -> fit -> save -> evaluate -> report."""

from __future__ import annotations

import math
import os
import platform
import shutil
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import torch

from . import __version__
from .config import Recipe, load_recipe, save_recipe
from .data.quality import BackboneInfo
from .data.stage import prepare_data
from .errors import ConfigError, DataError, RunError, did_you_mean
from .evaluate.metrics import evaluate_predictions
from .evaluate.report import write_report
from .export.bundle import build_model, save_bundle
from .io import atomic_write_json
from .manifest import write_manifest
from .methods import count_parameters, get_method
from .models.backbones import load_tokenizer, resolve_backbone
from .models.inference import extract_features, predict_features
from .models.prefix_cache import FrozenPrefixCache, estimate_bytes, supports_prefix_cache
from .models.tasks import Distillation, Task, get_task
from .rundir import RunDir
from .track.base import Trackers
from .train.checkpoint import select_checkpoint
from .train.loop import EvalListener, fit
from .train.probe import fit_linear_probe, init_head_from_probe
from .train.progress import ProgressReporter
from .types import Example


def select_device(recipe: Recipe) -> tuple[torch.device, bool]:
    want = recipe.train.device
    if want == "cuda" and not torch.cuda.is_available():
        raise ConfigError("train.device=cuda but no CUDA device is available; use train.device=auto")
    device = torch.device("cuda" if want in ("cuda", "auto") and torch.cuda.is_available() else "cpu")
    precision = recipe.train.precision
    bf16 = device.type == "cuda" and precision in ("auto", "bf16")
    if precision == "bf16" and device.type == "cpu":
        bf16 = True  # CPU bf16 autocast when explicitly asked for
    return device, bf16


def seed_everything(seed: int) -> None:
    import random

    import numpy as np

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def load_splits(recipe: Recipe, run: RunDir) -> dict[str, list[Example]]:
    """Train / validation / test examples after the data stage (split, quality gate, augmentation)."""
    return prepare_data(recipe, run).splits


def _soft_row(task: Task, target: Any) -> Any:
    """One example's soft targets as plain floats (NER: one row per word)."""
    return [list(map(float, row)) for row in target] if task.name == "ner" else list(map(float, target))


def _attach_targets(
    task: Task,
    feats: list[dict[str, Any]],
    weights: Sequence[float] | None,
    soft: Sequence[Any] | None,
    distillation: Distillation | None,
) -> list[dict[str, Any]]:
    """Per-example weights and soft targets into the training features; weight-0 examples dropped."""
    for name, values in (("sample_weights", weights), ("soft_targets", soft)):
        if values is not None and len(values) != len(feats):
            raise RunError(
                f"{name} has {len(values)} entries but the data stage gave {len(feats)} training "
                "examples; give one entry per training example, in the order of the training split"
            )
    if soft is not None:
        task.distillation = distillation or Distillation()
        for f, target in zip(feats, soft, strict=True):
            f["soft_targets"] = _soft_row(task, target)
    if weights is None:
        return feats
    if any(w < 0 for w in weights) or not any(w > 0 for w in weights):
        raise RunError("sample_weights must be >= 0 with at least one positive weight")
    for f, w in zip(feats, weights, strict=True):
        f["weight"] = float(w)
    return [f for f in feats if f["weight"] > 0]


def _transfer_feats(
    task: Task,
    examples: Sequence[Example],
    targets: Sequence[Any] | None,
    labelled: list[dict[str, Any]],
    tokenizer: Any,
    label2id: dict[str, int],
    max_length: int,
) -> list[dict[str, Any]]:
    """Features of a distillation transfer set: examples without true labels, trained on their soft
    targets alone (``hard`` 0; the labelled examples get ``hard`` 1)."""
    if not labelled or "soft_targets" not in labelled[0]:
        raise RunError(
            "a transfer set is trained on the teacher's soft targets alone; give soft_targets for the "
            "training examples too (knowledge distillation)"
        )
    if targets is None or len(targets) != len(examples):
        raise RunError(
            f"transfer_targets has {0 if targets is None else len(targets)} entries for {len(examples)} "
            "transfer examples; give one row of teacher probabilities per transfer example"
        )
    if task.name == "ner" and any(not e.tokens for e in examples):
        raise RunError("NER transfer examples need their words (Example.tokens)")
    unlabelled = [replace(e, label=None, tags=None) for e in examples]
    feats = task.encode(unlabelled, tokenizer, label2id, max_length)
    for f, target in zip(feats, targets, strict=True):
        f["labels"] = task.placeholder_target(f, len(label2id))
        f["soft_targets"] = _soft_row(task, target)
        f["hard"] = 0.0
        if "weight" in labelled[0]:
            f["weight"] = 1.0
    for f in labelled:
        f["hard"] = 1.0
    return feats


def _class_weights(task: Task, feats: list[dict[str, Any]], n: int, mode: str) -> torch.Tensor | None:
    if mode == "none":
        return None
    counts = task.class_counts(feats, n)
    return (counts.sum() / (n * counts.clamp(min=1.0))).float()


def _prepare_output(run: RunDir, resume: bool, force: bool) -> None:
    if run.path.exists() and any(run.path.iterdir()) and not resume:
        if not force:
            raise ConfigError(
                f"output folder {run.path} is not empty: use --resume to continue that run, --force to "
                "replace it, or set output=another/folder"
            )
        shutil.rmtree(run.path)
    run.path.mkdir(parents=True, exist_ok=True)


def evaluate_examples(
    model,
    task: Task,
    tokenizer,
    examples: list[Example],
    labels: list[str],
    max_length: int,
    batch_size: int,
    threshold: float = 0.5,
    bf16: bool = False,
):
    """Score labelled examples: ``(EvalResult, predictions, mean loss)``."""
    label2id = {lab: i for i, lab in enumerate(labels)}
    feats = task.encode(examples, tokenizer, label2id, max_length)
    preds, loss = predict_features(
        model,
        task,
        feats,
        examples,
        labels,
        batch_size=batch_size,
        pad_id=tokenizer.pad_token_id or 0,
        threshold=threshold,
        bf16=bf16,
    )
    result = evaluate_predictions(
        task.name, [task.gold(e) for e in examples], [task.predicted(p) for p in preds], labels
    )
    return result, preds, loss


def run(
    recipe: Recipe | str | Path,
    overrides: list[str] | None = None,
    *,
    resume: bool = False,
    force: bool = False,
    quiet: bool = False,
    sample_weights: Sequence[float] | None = None,
    soft_targets: Sequence[Any] | None = None,
    distillation: Distillation | None = None,
    on_evaluate: EvalListener | None = None,
    transfer: Sequence[Example] | None = None,
    transfer_targets: Sequence[Any] | None = None,
) -> RunDir:
    """Fine-tune as the recipe says and leave a finished run directory. See docs/recipe.md.

    ``sample_weights``: one weight per training example after the data stage (integer bootstrap
    counts, boosting weights); examples of weight 0 are left out of training altogether (also of
    the probe-started head). ``on_evaluate(state, metrics)`` is told of every validation (a search's
    pruner raises from it to end the run). ``soft_targets``: per training example, class probabilities (NER: one
    row per word) that the loss matches as ``distillation`` says (knowledge distillation). ``transfer``:
    more training examples without labels (a distillation transfer set), trained on their
    ``transfer_targets`` alone; they join the training epochs but not the probe or class weights."""
    if not isinstance(recipe, Recipe):
        recipe = load_recipe(recipe, overrides)
    method = get_method(recipe.method.name, recipe.method.options())
    if recipe.train.lr is None:  # each method (and task) has its own sensible learning rate
        recipe = recipe.model_copy(
            update={"train": recipe.train.model_copy(update={"lr": method.default_lr_for(recipe.task)})}
        )
    run_dir = RunDir(recipe.output)
    _prepare_output(run_dir, resume, force)
    save_recipe(recipe, run_dir.recipe)
    progress = ProgressReporter(quiet=quiet)
    torch.set_num_threads(recipe.train.threads or os.cpu_count() or 1)
    device, bf16 = select_device(recipe)
    seed_everything(recipe.train.seed)

    task = get_task(recipe.task, {"ner_decoding": recipe.model.ner_decoding})
    spec = resolve_backbone(recipe.backbone)  # configuration errors first, before any data is read
    metric = (
        task.primary_metric
        if recipe.train.early_stopping.metric == "auto"
        else recipe.train.early_stopping.metric
    )
    if metric not in task.metrics:
        raise ConfigError(
            f"train.early_stopping.metric {metric!r} is not a {task.name} metric; choose one of "
            f"{', '.join(task.metrics)}.{did_you_mean(metric, task.metrics)}"
        )
    tokenizer = load_tokenizer(spec)
    max_length = min(recipe.model.max_length, spec.max_length - method.extra_positions())
    data = prepare_data(recipe, run_dir, BackboneInfo(spec, tokenizer, max_length), progress.message)
    splits = data.splits
    write_manifest(run_dir.path, recipe, device)
    labels = task.label_list(splits["train"])
    if len(labels) < 2 and recipe.task != "ner":
        raise DataError(
            f"the training data has {len(labels)} label(s); classification needs at least 2",
            file=recipe.data.train,
        )
    for name in ("validation", "test"):
        task.check_labels(splits[name], labels)
    label2id = {lab: i for i, lab in enumerate(labels)}

    train_feats = task.encode(splits["train"], tokenizer, label2id, max_length)
    train_feats = _attach_targets(task, train_feats, sample_weights, soft_targets, distillation)
    labelled = train_feats  # the examples with true labels (the probe and class weights fit on these)
    if transfer:
        train_feats = labelled + _transfer_feats(
            task, transfer, transfer_targets, labelled, tokenizer, label2id, max_length
        )
    cut = sum(len(f["input_ids"]) >= max_length for f in train_feats)
    if cut:
        progress.message(
            f"[yellow]warning:[/yellow] {cut} of {len(train_feats)} training examples are longer "
            f"than model.max_length={max_length} tokens and are truncated"
            + (" (their cut-off words count as 'O')" if task.name == "ner" else "")
        )
    pooling = spec.pooling if recipe.model.pooling == "auto" else recipe.model.pooling
    normalize = spec.normalize if recipe.model.normalize is None else recipe.model.normalize
    model = build_model(
        task,
        spec,
        len(labels),
        pooling,
        recipe.model.dropout,
        recipe.model.hidden_dropout,
        normalize=normalize,
    )
    batches = math.ceil(len(train_feats) / recipe.train.batch_size)
    method.apply(model, spec, total_steps=math.ceil(batches / recipe.train.grad_accum) * recipe.train.epochs)
    model.to(device)
    params = count_parameters(model)
    progress.message(
        f"{method.name}: {params['trainable']:,} of {params['total']:,} parameters train "
        f"({100 * params['trainable_share']:.2f}%), lr {recipe.train.lr:g}; {len(splits['train'])} train "
        + (f"+ {len(transfer)} transfer " if transfer else "")
        + "/ "
        f"{len(splits['validation'])} validation examples; device {device}"
    )
    _setup_prefix_cache(recipe, method, model, train_feats, progress)
    pad_id = tokenizer.pad_token_id or 0
    chosen = select_checkpoint(run_dir.checkpoints) if resume else None
    resume_step = chosen[1] if chosen else None
    resuming = resume_step is not None
    probe_seconds = 0.0
    if recipe.model.head_init in ("auto", "probe") and not resuming:
        t0 = time.perf_counter()
        x, y = extract_features(  # with a frozen-prefix cache, this fills it: epoch 1 runs cached too
            model,
            task,
            labelled,
            batch_size=recipe.train.eval_batch_size,
            pad_id=pad_id,
            bf16=bf16,
            training_set=True,
        )
        w, b = fit_linear_probe(x, y, len(labels), multilabel=task.name == "multilabel")
        init_head_from_probe(model.head, w, b)
        probe_seconds = time.perf_counter() - t0
        progress.message(f"head initialised from a linear probe on frozen features ({probe_seconds:.1f}s)")

    val_feats = task.encode(splits["validation"], tokenizer, label2id, max_length)

    def evaluate(m) -> tuple[dict[str, float], float | None]:
        preds, loss = predict_features(
            m,
            task,
            val_feats,
            splits["validation"],
            labels,
            batch_size=recipe.train.eval_batch_size,
            pad_id=pad_id,
            threshold=recipe.model.multilabel_threshold,
            bf16=bf16,
        )
        res = evaluate_predictions(
            task.name,
            [task.gold(e) for e in splits["validation"]],
            [task.predicted(p) for p in preds],
            labels,
        )
        return res.metrics, loss

    train_cfg = recipe.train
    if train_cfg.head_lr is None:  # a probe-started head is already fitted; a random one needs to catch up
        probe_start = recipe.model.head_init in ("auto", "probe")
        train_cfg = train_cfg.model_copy(update={"head_lr": train_cfg.lr * (1 if probe_start else 10)})
    trackers = Trackers(run_dir.path, recipe.track, resume_step=resume_step)
    try:
        result = fit(
            model,
            task,
            train_feats,
            train_cfg,
            evaluate=evaluate,
            ckpt_dir=run_dir.checkpoints,
            trackers=trackers,
            metric=metric,
            pad_id=pad_id,
            resume=resuming,
            bf16=bf16,
            class_weights=_class_weights(task, labelled, len(labels), recipe.train.class_weights),
            progress=progress,
            method=method,
            on_evaluate=on_evaluate,
        )
    finally:
        trackers.close()

    meta = {
        "task": task.name,
        "labels": labels,
        "backbone": spec.name,
        "backbone_path": spec.path,
        "pooling": pooling,
        "normalize": normalize,
        "dropout": recipe.model.dropout,
        "max_length": max_length,
        "multilabel_threshold": recipe.model.multilabel_threshold,
        "ner_decoding": recipe.model.ner_decoding,
        "normalize_text": recipe.data.quality.enabled and recipe.data.quality.normalize == "fix",
        "method": method.describe(),
        "parameters": params,
        "tuneforge_version": __version__,
    }
    cache_bytes = model.prefix_cache.bytes if model.prefix_cache is not None else 0
    model.prefix_cache = None  # training-only
    save_bundle(run_dir.model, model.cpu(), tokenizer, meta)
    model.to(device)
    summary = _final_reports(run_dir, recipe, model, task, tokenizer, splits, labels, max_length, bf16)
    summary.update(
        train_seconds=round(result.train_seconds, 2),
        eval_seconds=round(result.eval_seconds, 2),
        probe_seconds=round(probe_seconds, 2),
        steps=result.state.step,
        best_step=result.state.best_step,
        early_stopped=result.state.stopped,
        train_samples_per_second=round(result.samples_seen / max(result.train_seconds, 1e-9), 2),
        grad_state_bytes=result.grad_state_bytes,
        prefix_cache_bytes=cache_bytes,
        parameters=params,
        method=method.describe(),
        backbone=spec.name,
        device=str(device),
        bf16=bf16,
        torch=torch.__version__,
        python=platform.python_version(),
        tuneforge=__version__,
    )
    atomic_write_json(run_dir.summary, summary)
    write_manifest(run_dir.path, recipe, device, run_dir.model)
    return run_dir


def _setup_prefix_cache(recipe: Recipe, method, model, train_feats, progress: ProgressReporter) -> None:
    mode = recipe.train.cache_frozen_prefix
    n_frozen = method.frozen_prefix(model)
    if mode == "off" or (mode == "auto" and n_frozen == 0):
        return
    if n_frozen == 0:
        raise ConfigError(
            f"train.cache_frozen_prefix=on, but method {method.name!r} leaves no lower layers frozen; "
            "use method: {name: partial, freeze_layers: N}, a method with layers: [...] above the lowest "
            "layer (adapter, lora, adalora, ia3) or cache_frozen_prefix=auto"
        )
    if not supports_prefix_cache(model.backbone):
        if mode == "on":
            raise ConfigError(
                "train.cache_frozen_prefix=on needs a BERT-style encoder (embeddings + encoder.layer)"
            )
        return
    cut = method.frozen_cut(model)
    need = estimate_bytes(sum(len(f["input_ids"]) for f in train_feats), model.backbone.config.hidden_size)
    need *= len(cut.captures) if cut is not None else 1
    if need > recipe.train.cache_max_mb * 2**20:
        progress.message(
            f"[yellow]warning:[/yellow] caching the {n_frozen} frozen layers would take {need / 2**20:.0f} MB "
            f"> train.cache_max_mb={recipe.train.cache_max_mb}; running without the cache"
        )
        return
    model.prefix_cache = FrozenPrefixCache(n_frozen, cut)
    within = f" and, in layer {n_frozen}, of its frozen {cut.describe()}" if cut is not None else ""
    progress.message(
        f"caching the outputs of the {n_frozen} frozen lower layers{within} (~{need / 2**20:.0f} MB)"
    )


def _final_reports(
    run_dir: RunDir, recipe: Recipe, model, task: Task, tokenizer, splits, labels, max_length: int, bf16: bool
) -> dict[str, Any]:
    extra = {"run": str(run_dir.path), "backbone": recipe.backbone, "method": recipe.method.name}
    out: dict[str, Any] = {}
    for name in ("validation", "test"):
        if not splits[name]:
            continue
        res, _, _ = evaluate_examples(
            model,
            task,
            tokenizer,
            splits[name],
            labels,
            max_length,
            recipe.train.eval_batch_size,
            recipe.model.multilabel_threshold,
            bf16,
        )
        stem = "report" if name == "test" or not splits["test"] else f"{name}_report"
        write_report(
            res, run_dir.path, title=f"{name.capitalize()} report", extra=extra | {"data": name}, stem=stem
        )
        out[name] = res.metrics
    return {"metrics": out}

"""THE training loop. Reads top to bottom: step, accumulate, clip, schedule, evaluate, early-stop,
checkpoint. Task differences live in the task (loss, decode); method differences in which
parameters require gradients."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from ..config import TrainConfig
from ..methods.base import Method
from ..models.heads import TaskModel
from ..models.inference import autocast, to_device
from ..models.tasks import Task
from ..track.base import Trackers
from .batching import train_batches
from .checkpoint import LoopState, has_checkpoint, load_checkpoint, restore_best, save_best, save_checkpoint
from .optim import build_optimizer, build_scheduler
from .progress import ProgressReporter

# evaluate(model) -> (metrics dict, validation loss); provided by the caller
Evaluator = Callable[[TaskModel], tuple[dict[str, float], float | None]]
# on_evaluate(state, metrics): told of every evaluation (a search pruner); may raise to end the run
EvalListener = Callable[[LoopState, dict[str, float]], None]


@dataclass
class FitResult:
    state: LoopState
    best_metrics: dict[str, float]
    train_seconds: float  # wall time of training, without the evaluations
    eval_seconds: float
    samples_seen: int
    grad_state_bytes: int  # bytes held for gradients + optimizer state, counted from the tensors


def _improved(value: float, best: float | None, min_delta: float) -> bool:
    return best is None or value > best + min_delta


def fit(
    model: TaskModel,
    task: Task,
    train_feats: Sequence[dict[str, Any]],
    cfg: TrainConfig,
    *,
    evaluate: Evaluator,
    ckpt_dir: Path,
    trackers: Trackers,
    metric: str,
    pad_id: int = 0,
    class_weights: torch.Tensor | None = None,
    resume: bool = False,
    bf16: bool = False,
    progress: ProgressReporter | None = None,
    method: Method | None = None,
    on_evaluate: EvalListener | None = None,
) -> FitResult:
    progress = progress or ProgressReporter(quiet=True)
    device = next(model.parameters()).device
    lengths = [len(f["input_ids"]) for f in train_feats]
    # Token-level losses average over the batch's labelled words; length-grouped batches would give a
    # word in a batch of short sentences far more weight than one in a batch of long ones. Scaling
    # each batch's mean by its share of the average batch's words weighs every word alike, as random
    # batches do on average.
    n_batches = math.ceil(len(train_feats) / cfg.batch_size)
    units = [task.loss_units(f) for f in train_feats] if cfg.token_weighting else []
    per_batch_units = sum(units) / n_batches if units and units[0] is not None else None
    steps_per_epoch = math.ceil(n_batches / cfg.grad_accum)
    opt = build_optimizer(model, cfg)
    sched = build_scheduler(opt, cfg, steps_per_epoch * cfg.epochs)
    state = LoopState()
    if resume and has_checkpoint(ckpt_dir):
        state, extra = load_checkpoint(ckpt_dir, model, opt, sched, report=progress.message)
        if method is not None and extra:
            method.load_loop_state(model, extra)
        progress.message(f"resumed at epoch {state.epoch + 1}, batch {state.batch}, step {state.step}")
    else:
        torch.manual_seed(cfg.seed)
    cw = class_weights.to(device) if class_weights is not None else None
    best_metrics: dict[str, float] = {}
    es = cfg.early_stopping
    started, seen, eval_seconds = time.perf_counter(), 0, 0.0
    grad_state_bytes = 0
    evaluated_at: list[int] = []

    def checkpoint() -> None:
        extra = method.loop_state(model) if method is not None else None
        save_checkpoint(ckpt_dir, model, opt, sched, state, extra)

    def run_eval() -> None:
        nonlocal best_metrics, eval_seconds
        t0 = time.perf_counter()
        metrics, val_loss = evaluate(model)
        eval_seconds += time.perf_counter() - t0
        record = {"step": state.step, "epoch": state.epoch, "split": "validation", **metrics}
        if val_loss is not None:
            record["loss"] = val_loss
        trackers.log(record)
        progress.evaluated(metric, metrics[metric])
        if _improved(metrics[metric], state.best, es.min_delta):
            state.best, state.best_step, state.bad_evals = metrics[metric], state.step, 0
            best_metrics = metrics
            save_best(ckpt_dir, model)
        else:
            state.bad_evals += 1
            state.stopped = es.patience > 0 and state.bad_evals >= es.patience
        evaluated_at.append(state.step)
        if on_evaluate is not None:
            on_evaluate(state, metrics)

    def out_of_time() -> bool:
        return cfg.max_seconds is not None and time.perf_counter() - started - eval_seconds >= cfg.max_seconds

    progress.start(steps_per_epoch * cfg.epochs, state.step)
    model.train()
    opt.zero_grad(set_to_none=True)
    while state.epoch < cfg.epochs and not state.stopped:
        batches = train_batches(lengths, cfg.batch_size, cfg.seed, state.epoch, cfg.group_by_length)
        epoch_started, epoch_eval = time.perf_counter(), eval_seconds
        while state.batch < len(batches) and not state.stopped:
            idx = batches[state.batch]
            batch = to_device(task.collate([train_feats[i] for i in idx], pad_id), device)
            batch["example_ids"] = torch.tensor(idx)
            with autocast(device, bf16):
                logits = model(**batch)
            loss = task.loss(logits, batch, cw, cfg.label_smoothing)
            weight = 1.0
            if per_batch_units:
                weight = sum(units[i] for i in idx) / per_batch_units  # type: ignore[misc]
            reg = method.regularization(model) if method is not None else None
            if reg is not None:
                loss = loss + reg / weight
            (loss * weight / cfg.grad_accum).backward()
            state.batch += 1
            seen += len(idx)
            if state.batch % cfg.grad_accum and state.batch < len(batches):
                continue  # keep accumulating
            if cfg.grad_clip:
                torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
            opt.step()
            sched.step()
            state.step += 1
            if method is not None:
                method.after_step(model, state.step)
            if not grad_state_bytes:
                grad_state_bytes = _grad_state_bytes(model, opt)
            opt.zero_grad(set_to_none=True)
            trackers.log(
                {
                    "step": state.step,
                    "epoch": state.epoch,
                    "split": "train",
                    "loss": loss.item(),
                    "lr": sched.get_last_lr()[0],
                }
            )
            progress.step(state.step, loss.item())
            if cfg.eval_steps and state.step % cfg.eval_steps == 0:
                run_eval()
            if state.step % cfg.checkpoint_steps == 0 and state.batch < len(batches):
                checkpoint()
            if out_of_time() and not state.stopped:  # train.max_seconds: a budget, not an error
                progress.message(f"train.max_seconds={cfg.max_seconds:g} reached at step {state.step}")
                if not evaluated_at or evaluated_at[-1] != state.step:
                    run_eval()
                state.stopped = True
        if state.batch >= len(batches):
            trackers.log(
                {
                    "step": state.step,
                    "epoch": state.epoch,
                    "split": "epoch",
                    "train_seconds": time.perf_counter() - epoch_started - (eval_seconds - epoch_eval),
                }
            )
            state.epoch, state.batch = state.epoch + 1, 0
            if not cfg.eval_steps:
                run_eval()
        checkpoint()
    if cfg.eval_steps and not state.stopped and state.step != state.best_step and state.step % cfg.eval_steps:
        run_eval()  # the steps after the last multiple of eval_steps are evaluated too
    progress.close()
    if cfg.select_best and restore_best(ckpt_dir, model):
        progress.message(f"restored the best weights (step {state.best_step}, {metric}={state.best:.4f})")
    if method is not None:
        method.finalize(model)
    state.done = True
    checkpoint()
    elapsed = time.perf_counter() - started
    return FitResult(state, best_metrics, elapsed - eval_seconds, eval_seconds, seen, grad_state_bytes)


def _grad_state_bytes(model: TaskModel, opt: torch.optim.Optimizer) -> int:
    """Bytes of every gradient plus every optimizer state tensor (measured after an optimizer step)."""
    grads = sum(p.grad.numel() * p.grad.element_size() for p in model.parameters() if p.grad is not None)
    states = sum(
        t.numel() * t.element_size()
        for st in opt.state.values()
        for t in st.values()
        if torch.is_tensor(t) and t.dim() > 0
    )
    return grads + states

"""The training loop on a tiny model in-process: early stopping, best-weight restore, accumulation,
class weights and checkpoints."""

from __future__ import annotations

import json

import pytest
import torch

from tuneforge.config import TrainConfig
from tuneforge.export.bundle import build_model
from tuneforge.methods import get_method
from tuneforge.models.backbones import load_tokenizer, resolve_backbone
from tuneforge.models.tasks import get_task
from tuneforge.track.base import Trackers
from tuneforge.train.checkpoint import checkpoint_step
from tuneforge.train.loop import fit
from tuneforge.types import Example


@pytest.fixture(scope="module")
def setup():
    spec = resolve_backbone("tiny-random")
    tok = load_tokenizer(spec)
    task = get_task("classification")
    exs = [Example(f"{w} card lost", "card") for w in "abcdefghij"] + [
        Example(f"{w} hello there", "greet") for w in "abcdefghij"
    ]
    labels = task.label_list(exs)
    feats = task.encode(exs, tok, {lab: i for i, lab in enumerate(labels)}, 16)
    return spec, task, feats, labels


def _model(spec, task, labels):
    torch.manual_seed(0)
    model = build_model(task, spec, len(labels), "mean", 0.0)
    get_method("full").apply(model, spec)
    return model


def _fit(setup, tmp_path, scores, on_evaluate=None, **cfg):
    spec, task, feats, labels = setup
    model = _model(spec, task, labels)
    calls = iter(scores)

    def evaluate(m):
        return {"accuracy": next(calls)}, None

    trackers = Trackers(tmp_path, ["jsonl"])
    config = TrainConfig(batch_size=4, lr=1e-3, threads=1, **cfg)
    result = fit(
        model,
        task,
        feats,
        config,
        evaluate=evaluate,
        ckpt_dir=tmp_path / "ckpt",
        trackers=trackers,
        metric="accuracy",
        pad_id=tok_pad(spec),
        on_evaluate=on_evaluate,
    )
    trackers.close()
    return result, model


def tok_pad(spec):
    return load_tokenizer(spec).pad_token_id


def test_early_stopping_stops_after_patience_and_keeps_best_step(setup, tmp_path):
    result, _ = _fit(setup, tmp_path, [0.5, 0.7, 0.6, 0.65, 0.9], epochs=5, early_stopping={"patience": 2})
    assert result.state.stopped
    assert result.state.best == 0.7
    assert result.state.best_step == 10  # 5 batches an epoch; best after epoch 2
    assert result.state.step == 20
    records = [json.loads(x) for x in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert sum(r["split"] == "validation" for r in records) == 4


def test_best_weights_are_restored_unless_select_best_is_off(setup, tmp_path):
    from safetensors.torch import load_file

    result, model = _fit(setup, tmp_path / "a", [0.9, 0.1], epochs=2, early_stopping={"patience": 0})
    best = load_file(str(tmp_path / "a" / "ckpt" / "best.safetensors"))
    torch.testing.assert_close(model.head.out.weight.detach(), best["head.out.weight"])
    _, last = _fit(
        setup, tmp_path / "b", [0.9, 0.1], epochs=2, early_stopping={"patience": 0}, select_best=False
    )
    assert not torch.allclose(last.head.out.weight, best["head.out.weight"])


def test_gradient_accumulation_counts_optimizer_steps(setup, tmp_path):
    result, _ = _fit(setup, tmp_path, [0.5] * 3, epochs=3, grad_accum=2, early_stopping={"patience": 0})
    assert result.state.step == 3 * 3  # 5 batches an epoch -> 3 optimizer steps
    assert result.samples_seen == 3 * 20


def test_eval_steps_and_checkpoints(setup, tmp_path):
    result, _ = _fit(
        setup,
        tmp_path,
        [0.1 * i for i in range(1, 20)],
        epochs=2,
        eval_steps=3,
        checkpoint_steps=4,
        early_stopping={"patience": 0},
    )
    records = [json.loads(x) for x in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    # every 3 steps, and once more at the end for the steps after the last multiple
    assert [r["step"] for r in records if r["split"] == "validation"] == [3, 6, 9, 10]
    assert checkpoint_step(tmp_path / "ckpt") == 10
    assert result.state.done


def test_class_weights_balanced_upweights_rare_class():
    from tuneforge.pipeline import _class_weights

    task = get_task("classification")
    feats = [{"labels": 0}] * 9 + [{"labels": 1}]
    w = _class_weights(task, feats, 2, "balanced")
    assert w[1] / w[0] == pytest.approx(9.0)
    assert _class_weights(task, feats, 2, "none") is None


def test_on_evaluate_sees_every_evaluation_and_can_end_the_run(setup, tmp_path):
    seen = []

    class Pruned(Exception):
        pass

    def listener(state, metrics):
        seen.append((state.step, metrics["accuracy"]))
        if len(seen) == 2:
            raise Pruned

    with pytest.raises(Pruned):
        _fit(setup, tmp_path, [0.5, 0.6, 0.7], epochs=3, on_evaluate=listener)
    assert seen == [(5, 0.5), (10, 0.6)]


def test_max_seconds_stops_training_and_evaluates_where_it_stopped(setup, tmp_path):
    result, _ = _fit(setup, tmp_path, [0.5] * 5, epochs=50, max_seconds=1e-9, early_stopping={"patience": 0})
    assert result.state.stopped and result.state.done
    assert result.state.step == 1  # the budget ends training after the first optimizer step
    records = [json.loads(x) for x in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in records if r["split"] == "validation"] == [1]

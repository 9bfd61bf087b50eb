"""Hyper-parameter search: the space (defaults, key checks), the pruning glue, a small study on the
tiny random backbone, resuming a study, and the Ray Tune backend on a local Ray instance."""

from __future__ import annotations

import json
import sys

import optuna
import pytest

from tests.conftest import tiny_recipe
from tuneforge.config import load_recipe, recipe_from_dict
from tuneforge.errors import ConfigError
from tuneforge.methods import METHODS
from tuneforge.select.space import apply_params, baseline, check_key, default_space, resolve_space
from tuneforge.select.trial import make_listener, tune_metric
from tuneforge.select.tune import make_pruner, open_study, parse_duration, recover, study_lock, tune
from tuneforge.train.checkpoint import LoopState


def _recipe(**extra):
    return recipe_from_dict({"data": {"train": "train.csv"}, **extra})


# -- the space ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("method", sorted(METHODS))
def test_every_method_has_a_valid_default_space(method):
    space = resolve_space(_recipe(method=method))  # every key checked, every end tried on the recipe
    assert space["train.lr"].log and space["train.lr"].low < space["train.lr"].high


def test_default_spaces_use_the_methods_own_options():
    assert {"method.r", "method.alpha", "method.dropout"} <= set(default_space("lora"))
    assert "method.reduction_factor" in default_space("adapter")
    assert "method.virtual_tokens" in default_space("prompt")
    assert default_space("prompt")["train.lr"].high == pytest.approx(0.1)
    assert {"train.head_lr", "train.weight_decay", "model.dropout"} <= set(default_space("full"))


@pytest.mark.parametrize(
    "key, hint",
    [
        ("train.lrr", "Did you mean 'train.lr'?"),
        ("modle.dropout", "Did you mean 'model.dropout'?"),
        ("train.early_stopping.patiense", "Did you mean 'train.early_stopping.patience'?"),
        ("method.alpah", "Did you mean 'alpha'?"),
        ("train.early_stopping", "is a section"),
        ("output", "cannot be searched"),
    ],
)
def test_space_keys_are_checked_against_the_recipe(key, hint):
    with pytest.raises(ConfigError, match="tune.space") as err:
        check_key(key, _recipe(method="lora"))
    assert hint in str(err.value)


def test_a_space_typo_stops_before_any_trial():
    recipe = _recipe(tune={"space": {"train.lrr": {"type": "float", "low": 1e-5, "high": 1e-3}}})
    with pytest.raises(ConfigError, match="Did you mean 'train.lr'"):
        tune(recipe, out="unused")


@pytest.mark.parametrize(
    "param, message",
    [
        ({"type": "float", "low": 1.0, "high": 0.1}, "low <= high"),
        ({"type": "categorical"}, "non-empty list of choices"),
        ({"type": "float", "low": 0.0, "high": 1.0, "log": True}, "low > 0"),
        ({"type": "int", "low": 1.5, "high": 4}, "whole numbers"),
        ({"type": "uniform", "low": 0, "high": 1}, "type"),
        ({"type": "float", "low": 0, "high": 1, "hgih": 2}, "unknown key"),
    ],
)
def test_distributions_are_strict(param, message):
    with pytest.raises(ConfigError, match=message):
        _recipe(tune={"space": {"train.lr": param}})


def test_range_ends_are_tried_on_the_recipe():
    recipe = _recipe(tune={"space": {"model.dropout": {"type": "float", "low": 0.0, "high": 1.0}}})
    with pytest.raises(ConfigError, match=r"model.dropout=1.0 is not a valid value"):
        resolve_space(recipe)
    lora = _recipe(method="lora", tune={"space": {"method.r": {"type": "int", "low": 0, "high": 8}}})
    with pytest.raises(ConfigError, match=r"method.r=0"):
        resolve_space(lora)


def test_the_recipes_own_values_are_the_first_trial():
    lora = _recipe(method="lora")
    assert baseline(lora, resolve_space(lora)) == {
        "train.lr": 5e-4, "method.r": 8, "method.alpha": 16, "method.dropout": 0.05, "train.warmup": 0.06,
    }  # fmt: skip
    full = _recipe(model={"head_init": "random"})
    assert baseline(full, default_space("full"))["train.head_lr"] == pytest.approx(5e-4)  # as run() fills in
    outside = _recipe(train={"lr": 0.5})
    assert baseline(outside, default_space("full")) is None
    ner = _recipe(task="ner", method="lora")  # token classification starts at its own default rate
    assert baseline(ner, resolve_space(ner))["train.lr"] == pytest.approx(1e-3)


def test_apply_params_sets_nested_keys_and_drops_the_tune_section():
    recipe = _recipe(method="lora", tune={"trials": 3})
    out = apply_params(recipe, {"method.r": 16, "train.early_stopping.patience": 1}, output="x")
    assert out.method.options()["r"] == 16 and out.train.early_stopping.patience == 1
    assert out.output == "x" and out.tune is None and recipe.tune.trials == 3


def test_the_metric_defaults_to_the_early_stopping_one():
    assert tune_metric(_recipe()) == "accuracy"
    assert tune_metric(_recipe(task="ner")) == "f1"
    assert tune_metric(_recipe(train={"early_stopping": {"metric": "macro_f1"}})) == "macro_f1"
    with pytest.raises(ConfigError, match="Did you mean 'macro_f1'"):
        tune_metric(_recipe(tune={"metric": "macro_F1x"}))


def test_durations():
    assert parse_duration("90s") == 90 and parse_duration("30m") == 1800 and parse_duration("1h30m") == 5400
    assert parse_duration("45") == 45 and parse_duration(None) is None and parse_duration(12) == 12
    with pytest.raises(ConfigError, match="30m"):
        parse_duration("soon")


# -- pruning: the listener and the pruners, with a fake objective ---------------------------------------
def _fake_trial(study, curve):
    """Report ``curve`` (one value per epoch) through the on_evaluate listener, as a run would."""
    trial = study.ask()

    def report(step, value):
        trial.report(value, step)
        if trial.should_prune():
            raise optuna.TrialPruned()

    listener = make_listener("accuracy", "epoch", True, report)
    try:
        for epoch, value in enumerate(curve, start=1):
            listener(LoopState(epoch=epoch, step=10 * epoch), {"accuracy": value})
    except optuna.TrialPruned:
        study.tell(trial, state=optuna.trial.TrialState.PRUNED)
        return study.trials[-1]
    study.tell(trial, max(curve))
    return study.trials[-1]


@pytest.mark.parametrize("pruner", ["median", "halving"])
def test_a_bad_trial_is_pruned(pruner):
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction="maximize", pruner=make_pruner(pruner, 1))
    for i in range(4):
        assert _fake_trial(study, [0.6, 0.7 + i / 100, 0.8, 0.85]).state.name == "COMPLETE"
    bad = _fake_trial(study, [0.2, 0.25, 0.3, 0.35])
    assert bad.state.name == "PRUNED" and bad.last_step == 2  # never on the first evaluation
    assert bad.value == pytest.approx(0.25)


def test_no_pruner_never_prunes():
    study = optuna.create_study(direction="maximize", pruner=make_pruner("none", 1))
    for _ in range(4):
        _fake_trial(study, [0.8, 0.9])
    assert _fake_trial(study, [0.1, 0.1]).state.name == "COMPLETE"


def test_the_listener_reports_the_best_so_far_once_per_step():
    seen = []
    listener = make_listener("accuracy", "epoch", True, lambda s, v: seen.append((s, v)))
    for epoch, value in [(1, 0.5), (2, 0.7), (2, 0.9), (3, 0.6)]:
        listener(LoopState(epoch=epoch), {"accuracy": value})
    assert seen == [(1, 0.5), (2, 0.7), (3, 0.9)]


# -- resuming ------------------------------------------------------------------------------------------
def test_trials_left_running_are_failed_and_queued_again(tmp_path):
    study = open_study(tmp_path, "s", "fp", make_pruner("none", 1), seed=0, startup=2)
    done = study.ask({"x": optuna.distributions.FloatDistribution(0, 1)})
    study.tell(done, 0.5)
    lost = study.ask({"x": optuna.distributions.FloatDistribution(0, 1)})  # the process dies here
    (tmp_path / "trials" / "trial-0001").mkdir(parents=True)
    again = open_study(tmp_path, "s", "fp", make_pruner("none", 1), seed=0, startup=2)
    assert recover(again, tmp_path) == [1]
    states = [t.state.name for t in again.trials]
    assert states == ["COMPLETE", "FAIL", "WAITING"]
    assert again.trials[2].params == {} and again.trials[2].user_attrs["retry_of"] == 1
    assert again.trials[2].system_attrs["fixed_params"] == {"x": lost.params["x"]}
    assert not (tmp_path / "trials" / "trial-0001").exists()
    with pytest.raises(ConfigError, match="another recipe"):
        open_study(tmp_path, "s", "other", make_pruner("none", 1), seed=0, startup=2)


def test_one_study_one_process(tmp_path):
    with (
        study_lock(tmp_path),
        pytest.raises(ConfigError, match="another `tuneforge tune`"),
        study_lock(tmp_path),
    ):
        pass


# -- a small study on the tiny random backbone -------------------------------------------------------
@pytest.fixture(scope="module")
def study(demo_data, tmp_path_factory):
    root = tmp_path_factory.mktemp("tune")
    recipe = tiny_recipe(demo_data, "classification", root / "run", epochs=2)
    recipe["tune"] = {
        "startup_trials": 2,
        "space": {"train.lr": {"type": "float", "low": 1e-4, "high": 3e-3, "log": True}},
    }
    out = root / "study"
    first = tune(recipe, trials=2, out=out, pruner="none", quiet=True)
    run_json = out / "trials" / "trial-0000" / "run.json"
    stamp = run_json.stat().st_mtime_ns
    second = tune(recipe, trials=3, out=out, pruner="none", quiet=True)  # continues: one more trial
    return {
        "recipe": recipe,
        "out": out,
        "first": first,
        "second": second,
        "stamp": stamp,
        "run_json": run_json,
    }


def test_a_small_study_finishes_and_reports(study):
    result, out = study["second"], study["out"]
    assert [r["state"] for r in result.trials] == ["COMPLETE"] * 3
    assert result.best_value == max(r["value"] for r in result.trials)
    assert set(result.best_params) == {"train.lr"}
    table = json.loads((out / "tuning.json").read_text())
    assert table["best_trial"] == result.best_trial and len(table["trials"]) == 3
    assert all(r["seconds"] > 0 and r["run"] for r in table["trials"])
    assert "| trial | state | accuracy |" in (out / "tuning.md").read_text()
    for row in result.trials:  # the value is the run's own validation metric, not the test split
        summary = json.loads((out / "trials" / f"trial-{row['number']:04d}" / "run.json").read_text())
        assert row["value"] == pytest.approx(summary["metrics"]["validation"]["accuracy"])


def test_the_study_starts_from_the_recipe(study):
    first = study["second"].trials[0]
    assert first["params"] == {"train.lr": 1e-3} and first["baseline"] is True
    assert study["second"].best_value >= first["value"]


def test_resuming_continues_without_redoing_trials(study):
    assert len(study["first"].trials) == 2 and [r["number"] for r in study["second"].trials] == [0, 1, 2]
    assert study["run_json"].stat().st_mtime_ns == study["stamp"]
    assert study["second"].trials[0]["value"] == study["first"].trials[0]["value"]


def test_only_the_best_trial_keeps_its_model(study):
    out, best = study["out"], study["second"].best_trial
    for n in range(3):
        folder = out / "trials" / f"trial-{n:04d}"
        assert not (folder / "checkpoints").exists()
        assert (folder / "model").is_dir() == (n == best)
    assert study["second"].best_run == out / "trials" / f"trial-{best:04d}"


def test_the_best_recipe_loads_and_runs(study):
    from tuneforge.pipeline import run

    result = study["second"]
    assert result.best_recipe.read_text().startswith("# best of 3 trials")
    best = load_recipe(result.best_recipe)
    assert best.train.lr == pytest.approx(result.best_params["train.lr"]) and best.tune is None
    assert best.output == str(study["out"] / "best")
    finished = run(best, ["train.epochs=1"], quiet=True)
    assert finished.is_finished()


def test_a_changed_recipe_does_not_mix_with_the_study(study):
    recipe = dict(study["recipe"], train={**study["recipe"]["train"], "batch_size": 8})
    with pytest.raises(ConfigError, match="another recipe, search space or metric"):
        tune(recipe, trials=4, out=study["out"], quiet=True)
    with pytest.raises(ConfigError, match="already holds a study"):
        tune(study["recipe"], trials=4, out=study["out"], resume=False, quiet=True)


def test_unknown_backend_or_pruner(study, tmp_path):
    with pytest.raises(ConfigError, match="choose one of optuna, ray"):
        tune(study["recipe"], out=tmp_path, backend="dask", quiet=True)
    with pytest.raises(ConfigError, match="choose one of median, halving, none"):
        tune(study["recipe"], out=tmp_path, pruner="asha", quiet=True)


def test_a_folder_that_is_not_a_study_is_refused(study, tmp_path):
    (tmp_path / "something.txt").write_text("x")
    with pytest.raises(ConfigError, match="holds no study"):
        tune(study["recipe"], trials=1, out=tmp_path, quiet=True)


# -- Ray Tune ------------------------------------------------------------------------------------------
def test_ray_backend_without_ray_says_how_to_install(monkeypatch, study, tmp_path):
    monkeypatch.setitem(sys.modules, "ray", None)
    with pytest.raises(ConfigError, match=r"pip install 'tuneforge\[ray\]'"):
        tune(study["recipe"], trials=1, out=tmp_path / "r", backend="ray", quiet=True)


@pytest.mark.slow  # about 25 s on an idle 2-core machine (Ray's start-up), more under load
def test_ray_backend_on_a_local_ray_instance(demo_data, tmp_path):
    ray = pytest.importorskip("ray", reason="Ray is not installed: pip install 'tuneforge[ray]'")
    pytest.importorskip("ray.tune", reason="Ray Tune is not installed: pip install 'tuneforge[ray]'")
    recipe = tiny_recipe(demo_data, "classification", tmp_path / "run", epochs=2)
    recipe["tune"] = {"space": {"train.lr": {"type": "float", "low": 1e-4, "high": 3e-3, "log": True}}}
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        result = tune(recipe, trials=2, out=tmp_path / "study", backend="ray", pruner="none", quiet=True)
    finally:
        ray.shutdown()
    assert result.backend == "ray" and [r["state"] for r in result.trials] == ["COMPLETE", "COMPLETE"]
    assert {"train.lr": 1e-3} in [r["params"] for r in result.trials]  # the recipe's own value, first
    assert result.best_value == max(r["value"] for r in result.trials)
    assert (result.best_run / "model" / "tuneforge.json").is_file()
    assert load_recipe(result.best_recipe).train.lr == pytest.approx(result.best_params["train.lr"])
    assert (tmp_path / "study" / "tuning.md").is_file()

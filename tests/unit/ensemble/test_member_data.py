"""Members of one ensemble share one data stage: their seeds change training, not the split."""

from __future__ import annotations

import pytest

from tests.conftest import tiny_recipe
from tuneforge.config import EnsembleConfig
from tuneforge.ensemble import Member, StackingEnsemble
from tuneforge.ensemble.build import make_ensemble
from tuneforge.ensemble.member import data_identity, training_examples
from tuneforge.errors import ConfigError


def _held_out_recipe(demo_data, tmp_path, seed=3):
    """No validation file: the validation split is held out of train, seeded."""
    r = tiny_recipe(demo_data, "classification", tmp_path / "run", seed=seed)
    r["data"].pop("validation")
    return r


def _texts(examples):
    return [e.text for e in examples]


def test_a_clone_with_another_seed_keeps_the_split(demo_data, tmp_path):
    base = Member(_held_out_recipe(demo_data, tmp_path), name="m")
    clone = base.clone(seed=11)
    assert clone.recipe["train"]["seed"] == 11 and clone.recipe["data"]["seed"] == 3
    a, b = training_examples(base.recipe), training_examples(clone.recipe)
    assert _texts(a["validation"]) == _texts(b["validation"]) and _texts(a["train"]) == _texts(b["train"])
    # without the pinned data seed, the training seed would move the split (what the pin prevents)
    moved = _held_out_recipe(demo_data, tmp_path, seed=11)
    assert _texts(training_examples(moved)["validation"]) != _texts(a["validation"])
    assert data_identity(moved) != data_identity(base.recipe) == data_identity(clone.recipe)


def test_recipe_members_differ_in_seed_only(demo_data, tmp_path):
    base = _held_out_recipe(demo_data, tmp_path)
    ens = make_ensemble(EnsembleConfig(strategy="soft", n_members=3), base, tmp_path / "ens")
    assert [m.recipe["train"]["seed"] for m in ens.members] == [3, 4, 5]
    assert {m.recipe["data"]["seed"] for m in ens.members} == {3}
    assert len({str(data_identity(m.recipe)) for m in ens.members}) == 1


def test_kfold_stacking_refuses_members_on_different_data(demo_data, tmp_path):
    a = Member(_held_out_recipe(demo_data, tmp_path, seed=1), name="a")
    b = Member(_held_out_recipe(demo_data, tmp_path, seed=2), name="b")  # another split of train
    with pytest.raises(ConfigError, match=r"'b' differs from 'a' in data\.seed"):
        StackingEnsemble([a, b], cv=2).fit()


def test_the_recipe_names_the_meta_learner(demo_data, tmp_path):
    from tuneforge.ensemble import LogLinearPool

    base = _held_out_recipe(demo_data, tmp_path)
    cfg = EnsembleConfig(strategy="stacking", meta="loglinear", cv="prefit", n_members=2)
    assert isinstance(make_ensemble(cfg, base, tmp_path / "e").meta, LogLinearPool)
    cfg = EnsembleConfig(strategy="stacking", meta_c=0.5, n_members=2)
    assert make_ensemble(cfg, base, tmp_path / "e").meta.get_params()["C"] == 0.5
    with pytest.raises(ValueError, match="logistic"):
        EnsembleConfig(strategy="stacking", meta="forest")

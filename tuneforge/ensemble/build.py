"""Ensembles from a recipe's ``ensemble:`` section, from finished runs, and their evaluation: what
``tuneforge ensemble`` runs."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..config import EnsembleConfig, EnsembleMemberConfig, Recipe, apply_overrides, load_recipe
from ..errors import ConfigError
from .bagging import BaggingEnsemble
from .base import Ensemble
from .boosting import BoostingEnsemble
from .distill import distill
from .member import Member, pin_data_seed, training_examples
from .ngram import NgramMember
from .report import ensemble_report, write_ensemble_report
from .saved import load_ensemble, save_ensemble
from .stacking import StackingEnsemble, make_meta
from .voting import VotingEnsemble


def _member(base: dict[str, Any], cfg: EnsembleMemberConfig, index: int, out: Path) -> Member:
    name = cfg.name or f"m{index + 1}"
    if cfg.run:
        return Member.from_run(cfg.run, name=name)
    recipe = copy.deepcopy(base)
    if cfg.kind == "ngram":  # the same data (and data seed) as the fine-tuned members
        pin_data_seed(recipe)
        recipe["output"] = str(out / "runs" / name)
        return NgramMember(apply_overrides(recipe, cfg.overrides), name=name, options=cfg.ngram)
    if cfg.backbone:
        recipe["backbone"] = cfg.backbone
    if cfg.method is not None:
        recipe["method"] = cfg.method.model_dump()
    seed = cfg.seed if cfg.seed is not None else int(base["train"]["seed"]) + index
    pin_data_seed(recipe)
    recipe["train"]["seed"] = seed
    recipe["output"] = str(out / "runs" / name)
    return Member(apply_overrides(recipe, cfg.overrides), name=name)


def make_ensemble(cfg: EnsembleConfig, base: dict[str, Any], out: Path) -> Ensemble:
    """The unfitted ensemble an ``ensemble:`` section describes, over the recipe ``base``."""
    share = cfg.share_backbone
    if cfg.strategy == "bagging":
        return BaggingEnsemble(
            Member(base, name="m"), n_members=cfg.n_members, bootstrap=cfg.bootstrap, share_backbone=share
        )
    if cfg.strategy == "boosting":
        return BoostingEnsemble(
            Member(base, name="m"),
            n_members=cfg.n_members,
            learning_rate=cfg.learning_rate,
            share_backbone=share,
        )
    specs = cfg.members or [EnsembleMemberConfig() for _ in range(cfg.n_members)]
    members = [_member(base, m, i, out) for i, m in enumerate(specs)]
    if cfg.strategy == "stacking":
        meta = make_meta(cfg.meta, cfg.meta_c)
        return StackingEnsemble(members, meta=meta, cv=cfg.cv, share_backbone=share)
    weights = cfg.weights if isinstance(cfg.weights, str) else list(cfg.weights)
    return VotingEnsemble(members, voting=cfg.strategy, weights=weights, share_backbone=share)


def _student(cfg: EnsembleConfig, base: dict[str, Any], out: Path) -> Member:
    d = cfg.distill
    assert d is not None
    recipe = copy.deepcopy(base)
    if d.backbone:
        recipe["backbone"] = d.backbone
    if d.method is not None:
        recipe["method"] = d.method.model_dump()
    recipe["output"] = str(out / "student")
    return Member(apply_overrides(recipe, d.overrides), name="student")


def train_ensemble(
    recipe: Recipe | str | Path, overrides: list[str] | None = None, *, quiet: bool = True
) -> Path:
    """Train the members an ``ensemble:`` section asks for, combine them, distil if asked, save the
    ensemble directory (``output``) with its report; returns the directory."""
    if not isinstance(recipe, Recipe):
        recipe = load_recipe(recipe, overrides)
    cfg = recipe.ensemble
    if cfg is None:
        raise ConfigError(
            "the recipe has no ensemble: section; add e.g. `ensemble: {strategy: soft, n_members: 4}`"
        )
    out = Path(recipe.output)
    if (
        out.exists()
        and any(out.iterdir())
        and not (out / "ensemble.json").exists()
        and not (out / "runs").exists()
    ):
        raise ConfigError(
            f"output folder {out} is not empty and holds no ensemble; set output=another/folder"
        )
    base = recipe.resolved()
    base.pop("ensemble")
    ensemble = make_ensemble(cfg, base, out)
    splits = training_examples(base)
    ensemble.fit(splits["validation"], out=str(out))
    student = None
    if cfg.distill is not None:
        transfer = None
        if cfg.distill.transfer:
            from ..data.readers import read_texts

            transfer = read_texts(
                cfg.distill.transfer,
                format=cfg.distill.transfer_format,
                text_column=recipe.data.text_column,
                encoding=recipe.data.encoding,
            )
        student = distill(
            ensemble,
            _student(cfg, base, out),
            temperature=cfg.distill.temperature,
            alpha=cfg.distill.alpha,
            transfer=transfer,
            transfer_limit=cfg.distill.transfer_limit,
            output=str(out / "student"),
            quiet=quiet,
        )
    save_ensemble(ensemble, out, student)
    held = splits["test"] or splits["validation"]
    write_ensemble_report(
        ensemble_report(ensemble, held, student),
        out,
        title=f"Ensemble report ({'test' if splits['test'] else 'validation'} split)",
    )
    return out


def ensemble_runs(
    runs: Sequence[str | Path],
    out: str | Path,
    *,
    strategy: str = "soft",
    weights: Sequence[float] | str | None = None,
    data: Sequence[Any] | None = None,
    share_backbone: bool = True,
    meta: str = "logistic",
) -> Ensemble:
    """Combine finished runs (``soft`` / ``hard`` voting, or ``stacking`` with a meta-learner, ``meta``
    ``logistic`` or ``loglinear``, fitted on ``data``, a held-out labelled split); saves the ensemble
    directory at ``out``."""
    names = [Path(r).name for r in runs]
    if len(set(names)) != len(names):
        names = [f"m{i + 1}" for i in range(len(runs))]
    members = [Member.from_run(r, name=n) for r, n in zip(runs, names, strict=True)]
    if strategy == "stacking":
        ens: Ensemble = StackingEnsemble(
            members, meta=make_meta(meta), cv="prefit", share_backbone=share_backbone
        )
    elif strategy in ("soft", "hard"):
        ens = VotingEnsemble(members, voting=strategy, weights=weights, share_backbone=share_backbone)
    else:
        raise ConfigError(
            f"strategy {strategy!r}: finished runs combine by soft, hard or stacking (bagging and "
            "boosting train their own members: use a recipe with an ensemble: section)"
        )
    ens.fit(list(data) if data else None)
    save_ensemble(ens, out)
    if data:
        write_ensemble_report(ensemble_report(ens, list(data)), out)
    return ens


def evaluate_ensemble(
    path: str | Path, examples: Sequence[Any], out: str | Path | None = None
) -> dict[str, Any]:
    """Score a saved ensemble, its members and its student on labelled examples; writes the report."""
    ens = load_ensemble(path)
    report = ensemble_report(ens, list(examples), ens.student_)
    write_ensemble_report(report, out or path)
    return report

"""``Member``: one fine-tuned model as an estimator (constructor stores parameters, ``fit`` learns,
``clone`` gives an unfitted copy), so that voting, bagging, boosting and stacking are generic.

A member is either a recipe to train (``Member(recipe)``) or a finished run (``Member.from_run``).
``fit(weights=...)`` trains on the recipe's own data with one weight per training example after the
data stage (0 leaves the example out); nothing but the recipe's data files is read."""

from __future__ import annotations

import copy
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..config import Recipe, TrainConfig, recipe_from_dict
from ..errors import ConfigError, RunError
from ..types import Example


class Member:
    def __init__(self, recipe: dict[str, Any] | Recipe | None = None, *, name: str = "member") -> None:
        self.recipe = recipe.resolved() if isinstance(recipe, Recipe) else copy.deepcopy(recipe)
        self.name = name
        self.predictor_: Any = None  # learnt state: a Predictor over the fitted model
        self.model_dir_: Path | None = None
        self.transfer_: Any = None  # a distilled student: the transfer set it learnt from (or None)

    # -- estimator contract -----------------------------------------------------------------------
    def get_params(self) -> dict[str, Any]:
        return {"recipe": copy.deepcopy(self.recipe), "name": self.name}

    def clone(self, *, name: str | None = None, seed: int | None = None, output: str | None = None) -> Member:
        """An unfitted copy with the same parameters (optionally another name, seed or output)."""
        recipe = self._clone_recipe(seed, output)
        if seed is not None:
            recipe.setdefault("train", {})["seed"] = seed
        return Member(recipe, name=name or self.name)

    def _clone_recipe(self, seed: int | None, output: str | None) -> dict[str, Any]:
        """The recipe of a copy: the data seed pinned before a new ``seed`` (one data stage for all
        copies), another ``output``."""
        if self.recipe is None:
            raise ConfigError(
                f"member {self.name!r} is a finished run without a recipe; it cannot be refitted"
            )
        recipe = copy.deepcopy(self.recipe)
        recipe.pop("ensemble", None)
        if seed is not None:
            pin_data_seed(recipe)
        if output is not None:
            recipe["output"] = output
        return recipe

    @classmethod
    def from_run(cls, path: str | Path, name: str | None = None) -> Member:
        """A fitted member over a finished run directory (or its ``model/`` folder)."""
        from ..predictor import NgramPredictor, Predictor, model_dir_of

        model_dir = model_dir_of(path)
        recipe_file = model_dir.parent / "recipe.yaml"
        recipe = None
        if recipe_file.is_file():
            import yaml

            recipe = yaml.safe_load(recipe_file.read_text(encoding="utf-8"))
        predictor = Predictor(model_dir)
        if isinstance(predictor, NgramPredictor):  # an n-gram member's folder: refits as one
            from .ngram import NgramMember

            member: Member = NgramMember(
                recipe, name=name or Path(path).name, options=predictor.meta["options"]
            )
        else:
            member = cls(recipe, name=name or Path(path).name)
        member.predictor_ = predictor
        member.model_dir_ = model_dir
        return member

    @property
    def fitted(self) -> bool:
        return self.predictor_ is not None

    def fit(
        self,
        weights: Sequence[float] | None = None,
        *,
        soft_targets: Sequence[Any] | None = None,
        distillation: Any = None,
        transfer: Sequence[Example] | None = None,
        transfer_targets: Sequence[Any] | None = None,
        output: str | Path | None = None,
        quiet: bool = True,
    ) -> Member:
        """Train per the recipe (weights / soft targets: one per training example after the data
        stage; ``transfer``: unlabelled examples trained on their ``transfer_targets`` alone)."""
        from ..pipeline import run
        from ..predictor import Predictor

        if self.recipe is None:
            raise ConfigError(f"member {self.name!r} has no recipe to train from")
        recipe = copy.deepcopy(self.recipe)
        recipe.pop("ensemble", None)
        if output is not None:
            recipe["output"] = str(output)
        run_dir = run(
            recipe_from_dict(recipe, source=f"member {self.name}"),
            force=True,
            quiet=quiet,
            sample_weights=None if weights is None else [float(w) for w in weights],
            soft_targets=soft_targets,
            distillation=distillation,
            transfer=transfer,
            transfer_targets=transfer_targets,
        )
        self.model_dir_ = run_dir.model
        self.predictor_ = Predictor(run_dir.model)
        return self

    # -- predictions ------------------------------------------------------------------------------
    def _require(self) -> Any:
        if self.predictor_ is None:
            raise RunError(f"member {self.name!r} is not fitted; call fit() first")
        return self.predictor_

    @property
    def task(self) -> str:
        return self._require().task.name

    @property
    def labels(self) -> list[str]:
        return list(self._require().labels)

    def predict_proba(self, examples: Sequence[Example | str], batch_size: int = 64) -> Any:
        """Classification: ``(n, classes)`` in ``labels`` order. NER: one ``(words, tags)`` array per
        example (the probabilities on each word's first sub-token)."""
        from .shared import member_probabilities

        return member_probabilities([self], examples, batch_size=batch_size, share=False)[0]


def pin_data_seed(recipe: dict[str, Any]) -> dict[str, Any]:
    """Fix the recipe's data seed (``data.seed``, else its ``train.seed``) before its training seed is
    changed: members of one ensemble then share one split, gate and augmentation, so the validation
    examples that weights and meta-learners are fitted on were held out of every member's training,
    and example weights index the same training examples in every member."""
    data = recipe.setdefault("data", {})
    if data.get("seed") is None:
        data["seed"] = int(recipe.get("train", {}).get("seed", TrainConfig.model_fields["seed"].default))
    return recipe


def parsed_recipe(recipe: dict[str, Any], source: str = "ensemble member") -> Recipe:
    """A member's recipe dict parsed (defaults filled in), without an ``ensemble:`` section."""
    r = copy.deepcopy(recipe)
    r.pop("ensemble", None)
    return recipe_from_dict(r, source=source)


def data_identity(recipe: dict[str, Any]) -> dict[str, Any]:
    """What decides a member's data: its data section with defaults filled in and the effective data
    seed (``data.seed``, else ``train.seed``)."""
    parsed = parsed_recipe(recipe)
    return parsed.data.model_dump(mode="json") | {"seed": parsed.data_seed}


def training_examples(recipe: dict[str, Any]) -> dict[str, list[Example]]:
    """The train / validation / test splits exactly as the data stage of a member's run makes them
    (same split, quality gate and augmentation), in the order ``sample_weights`` refer to."""
    from ..data.quality import BackboneInfo
    from ..data.stage import prepare_data
    from ..methods import get_method
    from ..models.backbones import load_tokenizer, resolve_backbone
    from ..rundir import RunDir

    parsed = parsed_recipe(recipe, source="ensemble data")
    method = get_method(parsed.method.name, parsed.method.options())
    spec = resolve_backbone(parsed.backbone)
    max_length = min(parsed.model.max_length, spec.max_length - method.extra_positions())
    info = BackboneInfo(spec, load_tokenizer(spec), max_length)
    with tempfile.TemporaryDirectory() as tmp:
        return prepare_data(parsed, RunDir(tmp), info).splits


def gold_indices(examples: Sequence[Example], labels: Sequence[str]) -> np.ndarray:
    index = {lab: i for i, lab in enumerate(labels)}
    missing = sorted({str(e.label) for e in examples if e.label not in index})
    if missing:
        raise RunError(f"labels {missing[:5]} are not among the ensemble's labels {list(labels)[:10]}")
    return np.array([index[e.label] for e in examples], dtype=np.int64)  # type: ignore[index]


def label_matrix(examples: Sequence[Example], labels: Sequence[str]) -> np.ndarray:
    """Multi-label gold as a 0/1 matrix ``(examples, labels)``."""
    index = {lab: i for i, lab in enumerate(labels)}
    out = np.zeros((len(examples), len(labels)))
    for r, e in enumerate(examples):
        given = list(e.label) if isinstance(e.label, tuple | list) else ([e.label] if e.label else [])
        missing = [lab for lab in given if lab not in index]
        if missing:
            raise RunError(f"labels {missing[:5]} are not among the ensemble's labels {list(labels)[:10]}")
        out[r, [index[lab] for lab in given]] = 1.0
    return out

"""``NgramMember``: a TF-IDF word and character n-gram logistic regression as an ensemble member.

It trains on exactly the training split a fine-tuned member of the same recipe trains on (the same
data stage: split, quality gate, augmentation), in seconds, and follows the member contract
(``clone``, ``fit(weights=...)``, ``predict_proba``), so voting, stacking (prefit and k-fold),
bagging and boosting take it like any member. Its value is that it errs differently: it reads
surface forms, where the transformer members, started from one pretrained model, share their
mistakes. Classification and multi-label only; it cannot be a distillation student.

A fitted member is a run-like folder: ``model/`` (the n-gram model, see ``models.ngram``),
``recipe.yaml`` (the recipe whose data it trained on) and ``run.json`` (its validation and test
scores); written to a temporary folder and renamed, so a failed fit leaves nothing behind."""

from __future__ import annotations

import copy
import os
import shutil
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from ..io import atomic_write_json, replace_dir
from ..models.ngram import NgramModel, NgramOptions
from ..types import Example
from .member import Member, parsed_recipe, training_examples


class NgramMember(Member):
    """``recipe``: the recipe whose data (and ``data.seed``) the member uses; ``options``: the n-gram
    model's (``NgramOptions`` or a dict: ``word_ngrams``, ``char_ngrams``, ``char_min_df``, ``c``)."""

    def __init__(
        self,
        recipe: dict[str, Any] | None = None,
        *,
        name: str = "ngram",
        options: NgramOptions | dict[str, Any] | None = None,
    ) -> None:
        super().__init__(recipe, name=name)
        try:
            self.options = options if isinstance(options, NgramOptions) else NgramOptions(**(options or {}))
        except ValueError as err:
            raise ConfigError(f"n-gram member {name!r}: {err}") from None

    def get_params(self) -> dict[str, Any]:
        return {**super().get_params(), "options": self.options.model_dump()}

    def clone(
        self, *, name: str | None = None, seed: int | None = None, output: str | None = None
    ) -> NgramMember:
        """An unfitted copy. The n-gram model has no randomness; ``seed`` only pins the data seed, so
        that the copy trains on the same split as the fine-tuned members it is cloned beside."""
        recipe = self._clone_recipe(seed, output)
        return NgramMember(recipe, name=name or self.name, options=self.options)

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
    ) -> NgramMember:
        """Fit on the recipe's training split (``weights``: one per training example, 0 leaves it out)."""
        from ..predictor import NgramPredictor

        if soft_targets is not None or distillation is not None or transfer is not None:
            raise ConfigError(
                f"member {self.name!r} is an n-gram model: it learns from labels only and cannot be a "
                "distillation student; distil into a fine-tuned member"
            )
        if self.recipe is None:
            raise ConfigError(f"member {self.name!r} has no recipe to train from")
        parsed = parsed_recipe(self.recipe, source=f"member {self.name}")
        if parsed.task not in ("classification", "multilabel"):
            raise ConfigError(
                f"member {self.name!r}: an n-gram member classifies texts; the recipe's task is "
                f"{parsed.task!r} (use fine-tuned members for it)"
            )
        t0 = time.perf_counter()
        splits = training_examples(self.recipe)
        train = splits["train"]
        if weights is not None and len(weights) != len(train):
            raise ConfigError(f"{len(weights)} weights for {len(train)} training examples")
        from ..models.tasks import get_task

        labels = get_task(parsed.task).label_list(train)
        model = NgramModel(labels, parsed.task, self.options).fit(
            [e.text for e in train], [e.label for e in train], weights
        )
        out = Path(output or self.recipe.get("output") or tempfile.mkdtemp(prefix="tuneforge-ngram-"))
        recipe = copy.deepcopy(self.recipe)
        recipe.pop("ensemble", None)
        recipe["output"] = str(out)
        meta = {
            "backbone": "ngram",
            "multilabel_threshold": parsed.model.multilabel_threshold,
            "normalize_text": parsed.data.quality.enabled and parsed.data.quality.normalize == "fix",
            "train_examples": len(train) if weights is None else sum(1 for w in weights if w > 0),
        }
        tmp = out.parent / f".{out.name}.tmp-{os.getpid()}"
        shutil.rmtree(tmp, ignore_errors=True)
        try:
            model.save(tmp / "model", meta)
            _write_yaml(tmp / "recipe.yaml", recipe)
            predictor = NgramPredictor(tmp / "model")
            metrics = {
                split: predictor.evaluate(splits[split]).metrics
                for split in ("validation", "test")
                if splits[split]
            }
            atomic_write_json(
                tmp / "run.json",
                {
                    "kind": "ngram",
                    "name": self.name,
                    "options": self.options.model_dump(mode="json"),
                    "metrics": metrics,
                    "train_examples": meta["train_examples"],
                    "features": int(model.coef_.shape[1]) if model.coef_ is not None else 0,
                    "train_seconds": round(time.perf_counter() - t0, 2),
                },
            )
            replace_dir(tmp, out)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        self.model_dir_ = out / "model"
        self.predictor_ = NgramPredictor(self.model_dir_)
        return self


def _write_yaml(path: Path, data: dict[str, Any]) -> None:
    import yaml

    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")

"""The recipe: one YAML file that describes a run, validated with pydantic.

Unknown keys are errors that name the closest valid key; ``key.path=value`` overrides apply on top;
the resolved recipe is saved in every run directory.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from .errors import ConfigError, did_you_mean

TaskName = Literal["classification", "multilabel", "ner"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


CheckMode = Literal["off", "warn", "fix", "fail"]


class QualityConfig(_Strict):
    """The data-quality gate: each check is ``off``, ``warn`` (report only), ``fix`` (repair or remove,
    every change recorded) or ``fail`` (stop with a DataError naming the rows). See docs/data-quality.md."""

    enabled: bool = Field(True, description="run the gate before training")
    normalize: CheckMode = Field("fix", description="Unicode NFKC, control characters, runs of whitespace")
    empty: CheckMode = Field("fix", description="texts that are empty after normalisation")
    too_short: CheckMode = Field("warn", description="texts with fewer than min_chars characters")
    min_chars: int = Field(2, ge=1)
    too_long: CheckMode = Field("warn", description="texts longer than model.max_length backbone tokens")
    duplicates: CheckMode = Field("fix", description="exact duplicates inside a split (same text, label)")
    near_duplicates: CheckMode = Field("warn", description="MinHash over character n-grams")
    near_threshold: float = Field(0.7, gt=0.0, le=1.0, description="Jaccard similarity of a near pair")
    near_embeddings: bool = Field(False, description="also pair texts by backbone embedding cosine")
    embedding_threshold: float = Field(0.97, gt=0.0, le=1.0)
    conflicts: CheckMode = Field("fix", description="one text with different labels in a split")
    leakage: CheckMode = Field("fix", description="validation/test texts also in train (same text)")
    near_leakage: CheckMode = Field(
        "warn", description="training texts that are near copies of evaluation texts"
    )
    labels: CheckMode = Field("fix", description="case/whitespace/near-miss label spellings")
    unknown_labels: CheckMode = Field("fail", description="evaluation labels absent from training")
    rare_classes: CheckMode = Field("warn", description="classes with fewer than min_class_examples")
    min_class_examples: int = Field(5, ge=1)
    bio: CheckMode = Field("fix", description="NER: I- without B-, type change inside an entity")
    coverage: CheckMode = Field("warn", description="share of [UNK] tokens of the backbone's tokenizer")
    max_unknown_share: float = Field(0.01, ge=0.0, le=1.0)
    label_noise: CheckMode = Field(
        "off", description="out-of-fold probe flags likely mislabelled rows (warn: listed, never dropped)"
    )
    noise_threshold: float = Field(0.5, gt=0.0, lt=1.0, description="flag when p(given label) is below")
    ner_noise_probe: Literal["token", "mention", "both"] = Field(
        "mention",
        description="NER label noise: per-mention probe with neighbouring words (mention), per-word probe "
        "(token), or entities both flag (both: more precision, less recall)",
    )

    @field_validator(
        "normalize",
        "empty",
        "too_short",
        "too_long",
        "duplicates",
        "near_duplicates",
        "conflicts",
        "leakage",
        "labels",
        "unknown_labels",
        "rare_classes",
        "bio",
        "coverage",
        "label_noise",
        mode="before",
    )
    @classmethod
    def _yaml_off(cls, v: Any) -> Any:
        return "off" if v is False else v  # YAML reads a bare `off` as False


class AugmentConfig(_Strict):
    """Label-preserving augmentation of the training split (seeded). See docs/augmentation.md."""

    enabled: bool = False
    operations: list[Literal["swap", "delete", "insert", "synonym", "typo", "mention"]] = Field(
        default_factory=lambda: ["swap", "delete", "synonym", "typo"],
        description="mention (NER only): swap entity mentions of the same type across sentences",
    )
    copies: int = Field(1, ge=1, le=20, description="augmented copies per training example")
    rate: float = Field(0.1, gt=0.0, le=0.5, description="share of tokens an operation touches")
    seed: int | None = Field(None, description="default: data.seed")


class DataConfig(_Strict):
    train: str = Field(description="training file (csv, tsv, jsonl, conll, bmes)")
    validation: str | None = Field(None, description="validation file; default: hold out part of train")
    test: str | None = Field(None, description="test file, scored once at the end")
    format: Literal["auto", "csv", "tsv", "jsonl", "conll", "bmes", "txt"] = "auto"
    text_column: str = Field("auto", description="column/field with the text; auto: text, sentence, ...")
    label_column: str = Field("auto", description="column/field with the label; auto: label, category, ...")
    token_column: int = Field(0, description="CoNLL: index of the token column")
    tag_column: int = Field(-1, description="CoNLL: index of the tag column (-1: last)")
    label_separator: str = Field("|", description="multi-label: separator of labels inside one cell")
    encoding: str = Field("auto", description="file encoding; auto detects UTF-8/UTF-16/GB18030/...")
    validation_fraction: float = Field(0.1, gt=0.0, lt=0.5)
    max_train_examples: int | None = Field(None, gt=0, description="use a seeded subset of train")
    subset_seed: int | None = Field(None, description="seed of that subset; default: data.seed")
    seed: int | None = Field(
        None,
        description="seed of the data stage (subset, held-out splits, quality-gate folds, augmentation); "
        "default: train.seed. Ensemble members keep their base recipe's, so only their training differs",
    )
    test_fraction: float = Field(
        0.0, ge=0.0, lt=0.5, description="hold out a test split of train when data.test is not given"
    )
    group_column: str | None = Field(
        None, description="keep rows sharing this column's value in one split (e.g. a document id)"
    )
    splits_file: str | None = Field(
        None, description="reuse the split indices of an earlier run (its splits.json) exactly"
    )
    quality: QualityConfig = Field(default_factory=QualityConfig)
    augment: AugmentConfig = Field(default_factory=AugmentConfig)


class MethodConfig(BaseModel):
    """``name`` picks the method from the registry; the other keys are that method's options."""

    model_config = ConfigDict(extra="allow")
    name: str = "full"

    def options(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


class ModelConfig(_Strict):
    pooling: Literal["auto", "mean", "cls"] = Field("auto", description="auto: the backbone's own")
    normalize: bool | None = Field(
        None, description="L2-normalise the pooled sentence vector; default: as the backbone was trained"
    )
    dropout: float = Field(0.1, ge=0.0, lt=1.0, description="dropout before the head")
    hidden_dropout: float | None = Field(None, ge=0.0, lt=1.0, description="backbone dropout override")
    max_length: int = Field(128, ge=8, le=4096)
    head_init: Literal["auto", "probe", "random"] = Field(
        "auto",
        description="probe: start the head from a linear probe on frozen features (LP-FT); auto: probe",
    )
    multilabel_threshold: float = Field(0.5, gt=0.0, lt=1.0)
    ner_decoding: Literal["viterbi", "lenient", "strict"] = Field(
        "viterbi",
        description="NER tags from word probabilities: viterbi (best valid IOB2 sequence), "
        "lenient (argmax, a stray I- starts an entity) or strict (argmax, a stray I- run is dropped)",
    )


class EarlyStopping(_Strict):
    patience: int = Field(2, ge=0, description="evaluations without improvement before stopping; 0: off")
    metric: str = Field("auto", description="auto: accuracy / micro F1 / entity F1")
    min_delta: float = Field(0.0, ge=0.0)


class TrainConfig(_Strict):
    epochs: int = Field(10, ge=1, description="upper bound; early stopping usually ends sooner")
    batch_size: int = Field(32, ge=1)
    eval_batch_size: int = Field(128, ge=1)
    lr: float | None = Field(
        None,
        gt=0.0,
        description="learning rate of the backbone / method parameters; default: the method's own "
        "(full 5e-5, lora 5e-4, adapter 1e-3, prompt 3e-2, ...)",
    )
    head_lr: float | None = Field(
        None, gt=0.0, description="learning rate of the head; default: lr after a probe start, else 10x lr"
    )
    weight_decay: float = Field(0.01, ge=0.0)
    warmup: float = Field(0.06, ge=0.0, description="< 1: share of all steps; >= 1: number of steps")
    schedule: Literal["linear", "cosine", "constant"] = "linear"
    grad_clip: float | None = Field(1.0, gt=0.0)
    grad_accum: int = Field(1, ge=1)
    eval_steps: int | None = Field(None, ge=1, description="evaluate every N steps (default: each epoch)")
    early_stopping: EarlyStopping = Field(default_factory=EarlyStopping)
    max_seconds: float | None = Field(
        None, gt=0, description="stop after this much training time (seconds; the best weights are kept)"
    )
    select_best: bool = Field(True, description="end with the best evaluated weights, not the last ones")
    class_weights: Literal["none", "balanced"] = "none"
    label_smoothing: float = Field(0.0, ge=0.0, lt=1.0)
    seed: int = 42
    group_by_length: bool = Field(True, description="batch similar lengths together (dynamic padding)")
    token_weighting: bool = Field(
        True, description="NER: every labelled word weighs the same, whatever the length of its batch"
    )
    checkpoint_steps: int = Field(200, ge=1, description="save a resumable checkpoint every N steps")
    device: Literal["auto", "cpu", "cuda"] = "auto"
    precision: Literal["auto", "fp32", "bf16"] = Field("auto", description="auto: bf16 on CUDA, fp32 on CPU")
    threads: int | None = Field(None, ge=1, description="torch CPU threads (default: all cores)")
    cache_frozen_prefix: Literal["auto", "on", "off"] = Field(
        "auto",
        description="reuse the outputs of frozen lower layers across epochs (methods with a frozen prefix)",
    )
    cache_max_mb: int = Field(4096, ge=1, description="memory cap of that cache; above it caching is off")

    @field_validator("cache_frozen_prefix", mode="before")
    @classmethod
    def _yaml_on_off(cls, v: Any) -> Any:
        return (
            {True: "on", False: "off"}.get(v, v) if isinstance(v, bool) else v
        )  # YAML reads on/off as booleans


class SpaceParam(_Strict):
    """One searched recipe key: a float or int range (``log``: sampled on a log scale; ``step``: a
    grid) or a list of ``choices``. See docs/tuning.md."""

    type: Literal["float", "int", "categorical"]
    low: float | None = Field(None, description="float/int: smallest value")
    high: float | None = Field(None, description="float/int: largest value")
    log: bool = Field(False, description="float/int: sample on a log scale (low > 0)")
    step: float | None = Field(None, gt=0, description="float/int: sample multiples of step above low")
    choices: list[str | int | float | bool | None] | None = Field(None, description="categorical: the values")

    @model_validator(mode="after")
    def _consistent(self) -> SpaceParam:
        if self.type == "categorical":
            if not self.choices:
                raise ValueError("a categorical parameter needs a non-empty list of choices")
            if self.low is not None or self.high is not None or self.log or self.step is not None:
                raise ValueError("a categorical parameter takes choices, not low/high/log/step")
            return self
        if self.choices is not None:
            raise ValueError(
                f"a {self.type} parameter takes low/high, not choices (or use type: categorical)"
            )
        if self.low is None or self.high is None or self.low > self.high:
            raise ValueError(f"a {self.type} parameter needs low <= high")
        if self.log and (self.low <= 0 or self.step is not None):
            raise ValueError("log: true needs low > 0 and no step")
        if self.type == "int" and not all(
            float(v).is_integer() for v in (self.low, self.high, self.step or 1)
        ):
            raise ValueError("an int parameter needs whole numbers for low, high and step")
        return self


class TuneConfig(_Strict):
    """``tune:``: the hyper-parameter search of ``tuneforge tune RECIPE``. See docs/tuning.md."""

    trials: int = Field(20, ge=1, description="finished trials (complete or pruned) the study aims for")
    metric: str = Field("auto", description="validation metric to maximise; auto: the early-stopping one")
    pruner: Literal["median", "halving", "none"] = Field(
        "median", description="end poor trials early from their per-epoch validation metric"
    )
    seed: int | None = Field(None, description="seed of the TPE sampler; default: train.seed")
    startup_trials: int = Field(5, ge=0, description="random trials before TPE models the results")
    baseline: bool = Field(
        True, description="first trial: the recipe's own values of the searched keys (when inside the space)"
    )
    space: dict[str, SpaceParam] | None = Field(
        None, description="dotted recipe key -> distribution; default: the method's own space"
    )
    output: str | None = Field(None, description="study folder; default: <output>-tune")


class EnsembleMemberConfig(_Strict):
    """One member: the recipe with these changes (or a finished run, ``run: path``)."""

    name: str | None = Field(None, description="default: m1, m2, ...")
    run: str | None = Field(None, description="a finished run directory to use as it is")
    kind: Literal["finetune", "ngram"] = Field(
        "finetune",
        description="finetune: the recipe's backbone and method; ngram: TF-IDF word and character "
        "n-grams with logistic regression on the same training split (classification only)",
    )
    ngram: dict[str, Any] = Field(
        default_factory=dict, description="kind: ngram options (word_ngrams, char_ngrams, char_min_df, c)"
    )
    backbone: str | None = None
    method: MethodConfig | None = None
    seed: int | None = Field(None, description="default: train.seed + the member's index")
    overrides: list[str] = Field(default_factory=list, description="key.path=value changes of the recipe")

    @field_validator("method", mode="before")
    @classmethod
    def _method_shorthand(cls, v: Any) -> Any:
        return {"name": v} if isinstance(v, str) else v

    @model_validator(mode="after")
    def _ngram_fields(self) -> EnsembleMemberConfig:
        if self.kind == "ngram":
            extra = [k for k in ("run", "backbone", "method") if getattr(self, k)]
            if extra:
                raise ValueError(
                    f"an n-gram member has no {', '.join(extra)}: drop them or use kind: finetune"
                )
            from .models.ngram import NgramOptions

            NgramOptions(**self.ngram)  # its errors here, at recipe load
        elif self.ngram:
            raise ValueError("ngram: options are for kind: ngram members")
        return self


class DistillConfig(_Strict):
    """Train one student on the ensemble's soft labels (KL at temperature T, plus the true labels)."""

    backbone: str | None = Field(None, description="default: the recipe's")
    method: MethodConfig | None = Field(None, description="default: the recipe's")
    temperature: float = Field(
        1.0,
        gt=0.0,
        description="above 1 flattens the ensemble's distribution; 1 keeps it (measured best with many labels)",
    )
    alpha: float = Field(0.5, ge=0.0, le=1.0, description="weight of the true-label loss; 1 - alpha on KL")
    transfer: str | None = Field(
        None,
        description="unlabelled in-domain text the members have not trained on (one text a line, the text "
        "column of csv/tsv/jsonl, or the words of conll/bmes); the student also learns the ensemble's soft "
        "labels on it",
    )
    transfer_format: Literal["auto", "lines", "csv", "tsv", "jsonl", "conll", "bmes"] = "auto"
    transfer_limit: int | None = Field(None, gt=0, description="use at most this many transfer texts")
    overrides: list[str] = Field(default_factory=list)

    @field_validator("method", mode="before")
    @classmethod
    def _method_shorthand(cls, v: Any) -> Any:
        return {"name": v} if isinstance(v, str) else v


class EnsembleConfig(_Strict):
    """``ensemble:``: train several members and combine them. See docs/ensembling.md."""

    strategy: Literal["soft", "hard", "bagging", "boosting", "stacking"] = Field(
        "soft", description="soft/hard voting, bagging, boosting (SAMME), stacking"
    )
    members: list[EnsembleMemberConfig] = Field(
        default_factory=list, description="voting/stacking members; default: n_members seeds of the recipe"
    )
    n_members: int = Field(4, ge=1, le=64, description="members (bagging, boosting, default voting members)")
    weights: list[float] | Literal["equal", "learn"] = Field(
        "equal", description="voting weights: equal, learn (on the validation split), or one per member"
    )
    bootstrap: bool = Field(True, description="bagging: bootstrap samples (else seeds only)")
    learning_rate: float = Field(1.0, gt=0.0, description="boosting: shrinks each member's say")
    cv: int | Literal["prefit"] = Field(
        5, description="stacking: folds, or prefit (meta-learner on validation)"
    )
    meta: Literal["logistic", "loglinear"] = Field(
        "logistic",
        description="stacking meta-learner: logistic regression on the members' probabilities, or a "
        "learnt log-linear pool (one weight per member, one bias per label; for many labels or little data)",
    )
    meta_c: float = Field(
        1.0, gt=0.0, description="stacking: inverse regularisation of the logistic regression"
    )
    share_backbone: bool = Field(True, description="one backbone pass for members that leave it unchanged")
    distill: DistillConfig | None = Field(None, description="also train a student on the ensemble")

    @field_validator("cv")
    @classmethod
    def _cv(cls, v: Any) -> Any:
        if isinstance(v, int) and v < 2:
            raise ValueError("cv must be at least 2 (or prefit)")
        return v


class SelectConfig(_Strict):
    """``select:``: which (backbone x method) pairs ``tuneforge select`` measures. See docs/selection.md."""

    backbones: list[str] = Field(
        default_factory=list,
        description="registry names or local folders; default: the recipe's backbone and the packaged encoders",
    )
    methods: list[MethodConfig] = Field(
        default_factory=list, description="methods (names or {name: ..., options}); default: full and lora"
    )
    budget: str = Field("20m", description="wall-clock budget of the whole selection: 90s, 20m, 1h")
    estimator: Literal["probe", "knn", "logme"] = Field(
        "probe", description="the stage-1 estimate that orders candidates for stage 2"
    )
    max_candidates: int = Field(8, ge=1, description="candidates that go on to stage 2 (best estimates)")
    eta: int = Field(2, ge=2, description="successive halving keeps the best 1/eta after each round")
    min_seconds: float = Field(20.0, gt=0, description="least training time worth giving one candidate")
    stage1_examples: int = Field(4000, ge=10, description="training examples encoded for stage 1")
    min_validation: int = Field(
        500,
        ge=0,
        description="candidates are scored on at least this many validation examples: a smaller validation "
        "split is grown with training examples (at most a quarter of them) for the selection only; 0: as is",
    )
    output: str | None = Field(None, description="selection folder; default: <output>-select")

    @field_validator("methods", mode="before")
    @classmethod
    def _method_shorthand(cls, v: Any) -> Any:
        return [{"name": m} if isinstance(m, str) else m for m in v] if isinstance(v, list) else v


class Recipe(_Strict):
    task: TaskName = "classification"
    data: DataConfig
    backbone: str = Field("minilm-l6", description="registry name or local model folder")
    method: MethodConfig = Field(default_factory=MethodConfig)
    model: ModelConfig = Field(default_factory=ModelConfig)
    train: TrainConfig = Field(default_factory=TrainConfig)
    output: str = Field("runs/run", description="run directory")
    ensemble: EnsembleConfig | None = Field(None, description="train an ensemble: tuneforge ensemble RECIPE")
    select: SelectConfig | None = Field(None, description="model selection: tuneforge select RECIPE")
    tune: TuneConfig | None = Field(None, description="hyper-parameter search: tuneforge tune RECIPE")
    track: list[Literal["jsonl", "tensorboard"]] = Field(
        default_factory=lambda: ["jsonl", "tensorboard"],
        description="metrics.jsonl is always written; add tensorboard for TensorBoard event files",
    )

    @field_validator("method", mode="before")
    @classmethod
    def _method_shorthand(cls, v: Any) -> Any:
        return {"name": v} if isinstance(v, str) else v

    def resolved(self) -> dict[str, Any]:
        return self.model_dump(mode="json")

    @property
    def data_seed(self) -> int:
        """The seed of the data stage: ``data.seed``, else ``train.seed``."""
        return self.train.seed if self.data.seed is None else self.data.seed


def _models_at(loc: tuple[Any, ...]) -> type[BaseModel] | None:
    model: type[BaseModel] = Recipe
    for part in loc[:-1]:
        field = model.model_fields.get(str(part))
        ann = getattr(field, "annotation", None) if field else None
        if not (isinstance(ann, type) and issubclass(ann, BaseModel)):
            return None
        model = ann
    return model


def _explain(err: ValidationError, source: str) -> ConfigError:
    lines = []
    for e in err.errors():
        loc = ".".join(str(p) for p in e["loc"])
        if e["type"] == "extra_forbidden":
            parent = _models_at(e["loc"])
            hint = did_you_mean(str(e["loc"][-1]), parent.model_fields) if parent else ""
            lines.append(f"unknown key '{loc}'.{hint}")
        elif e["type"] == "missing":
            lines.append(f"missing required key '{loc}'")
        else:
            lines.append(f"'{loc}': {e['msg']} (got {e.get('input')!r})")
    return ConfigError(f"{source}: " + "; ".join(lines))


def parse_override(item: str) -> tuple[list[str], Any]:
    if "=" not in item:
        raise ConfigError(f"override {item!r} is not of the form key.path=value (e.g. train.lr=3e-5)")
    key, raw = item.split("=", 1)
    try:
        value = yaml.safe_load(raw) if raw != "" else None
    except yaml.YAMLError:
        value = raw
    return key.strip().split("."), value


def apply_overrides(data: dict[str, Any], overrides: list[str]) -> dict[str, Any]:
    for item in overrides:
        path, value = parse_override(item)
        node = data
        for part in path[:-1]:
            nxt = node.get(part)
            if nxt is None:
                nxt = node[part] = {}
            elif isinstance(nxt, str) and part == "method":
                nxt = node[part] = {"name": nxt}
            elif not isinstance(nxt, dict):
                raise ConfigError(f"override {item!r}: '{part}' is not a section")
            node = nxt
        node[path[-1]] = value
    return data


def recipe_from_dict(
    data: dict[str, Any], overrides: list[str] | None = None, source: str = "recipe"
) -> Recipe:
    data = apply_overrides(copy.deepcopy(dict(data or {})), overrides or [])
    try:
        return Recipe.model_validate(data)
    except ValidationError as err:
        raise _explain(err, source) from None


def load_recipe(path: str | Path, overrides: list[str] | None = None) -> Recipe:
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"recipe {path} does not exist")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as err:
        raise ConfigError(f"{path}: not valid YAML: {err}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not UTF-8 text; save the recipe as UTF-8") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: a recipe is a mapping of keys (task, data, backbone, ...)")
    base = path.parent
    recipe = recipe_from_dict(data, overrides, source=str(path))
    # paths in the recipe may be relative to the recipe file (when they are not to the working folder)
    ens = recipe.ensemble
    fields = [(recipe.data, key) for key in ("train", "validation", "test")]
    fields += [(ens.distill, "transfer")] if ens and ens.distill else []
    fields += [(member, "run") for member in (ens.members if ens else [])]
    for owner, key in fields:
        value = getattr(owner, key)
        if value and not Path(value).is_absolute() and not Path(value).exists() and (base / value).exists():
            setattr(owner, key, str(base / value))
    return recipe


def as_recipe(recipe: Recipe | str | Path | dict[str, Any], overrides: list[str] | None = None) -> Recipe:
    """A ``Recipe`` from a recipe, a dict or a YAML path, with ``key=value`` overrides applied."""
    if isinstance(recipe, dict):
        return recipe_from_dict(recipe, overrides)
    if isinstance(recipe, Recipe):
        return recipe_from_dict(recipe.resolved(), overrides) if overrides else recipe
    return load_recipe(recipe, overrides)


def save_recipe(recipe: Recipe, path: Path) -> None:
    from .io import atomic_write_text

    atomic_write_text(path, yaml.safe_dump(recipe.resolved(), sort_keys=False, allow_unicode=True))

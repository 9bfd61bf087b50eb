"""The search space of ``tuneforge tune``: dotted recipe keys mapped to distributions.

``tune.space`` in the recipe declares it; without it each method has a default space around its own
learning rate. Every key is checked against the Recipe schema (and ``method.*`` against the options
of the recipe's method) and every end of every range is tried on the recipe before the first trial,
so a typo or an impossible value stops the search at once, with the key and the fix."""

from __future__ import annotations

import types
import typing
from typing import Any

from pydantic import BaseModel

from ..config import Recipe, SpaceParam, recipe_from_dict
from ..errors import ConfigError, did_you_mean
from ..methods import METHODS, get_method


def _f(low: float, high: float, log: bool = False) -> SpaceParam:
    return SpaceParam(type="float", low=low, high=high, log=log)


def _c(*choices: Any) -> SpaceParam:
    return SpaceParam(type="categorical", choices=list(choices))


# learning-rate ranges (log scale) per method; methods not listed search default_lr / 10 .. x 10
_LR = {
    "full": (1e-5, 2e-4),
    "partial": (1e-5, 2e-4),
    "lora": (1e-4, 3e-3),
    "adalora": (1e-4, 3e-3),
    "adapter": (1e-4, 3e-3),
    "ia3": (1e-3, 3e-2),
    "bitfit": (1e-4, 1e-2),
    "layernorm": (1e-4, 1e-2),
    "prompt": (1e-3, 1e-1),
    "prefix": (1e-3, 1e-1),
    "ptuning": (1e-3, 1e-1),
}
_WARMUP = {"train.warmup": _f(0.0, 0.2)}
_FULL = {
    "train.head_lr": _f(1e-5, 1e-3, log=True),
    "train.weight_decay": _f(0.0, 0.1),
    "model.dropout": _f(0.0, 0.3),
    **_WARMUP,
}
_PROMPT = {"method.virtual_tokens": _c(8, 16, 32), **_WARMUP}
# the other keys of each method's default space (option names as the method registry defines them)
_EXTRA: dict[str, dict[str, SpaceParam]] = {
    "full": _FULL,
    "partial": _FULL,
    "lora": {
        "method.r": SpaceParam(type="int", low=4, high=32, step=4),
        "method.alpha": _c(8, 16, 32, 64),
        "method.dropout": _f(0.0, 0.2),
        **_WARMUP,
    },
    "adalora": {
        "method.init_r": _c(12, 16, 24),
        "method.target_r": _c(4, 8),
        "method.alpha": _c(16, 32, 64),
        "method.dropout": _f(0.0, 0.2),
    },
    "adapter": {"method.reduction_factor": _c(8, 16, 32), "method.dropout": _f(0.0, 0.2), **_WARMUP},
    "ia3": {"train.weight_decay": _f(0.0, 0.1), **_WARMUP},
    "bitfit": {"train.weight_decay": _f(0.0, 0.1), **_WARMUP},
    "layernorm": {"train.weight_decay": _f(0.0, 0.1), **_WARMUP},
    "prompt": _PROMPT,
    "prefix": _PROMPT,
    "ptuning": _PROMPT,
}


def default_space(method: str) -> dict[str, SpaceParam]:
    """The space searched when the recipe has no ``tune.space``: the method's learning rate on a log
    scale plus the few options that matter most for it."""
    if method in _LR:
        low, high = _LR[method]
    else:  # a plug-in method: a decade either side of its own default
        lr = get_method(method).default_lr()
        low, high = lr / 10, lr * 10
    return {"train.lr": _f(low, high, log=True), **_EXTRA.get(method, _WARMUP)}


def _section(annotation: Any) -> type[BaseModel] | None:
    """The pydantic model behind ``X``, ``X | None``; None for a plain value."""
    candidates = typing.get_args(annotation) if isinstance(annotation, types.UnionType) else (annotation,)
    for c in candidates:
        if isinstance(c, type) and issubclass(c, BaseModel):
            return c
    return None


def _leaves(model: type[BaseModel], prefix: str = "") -> list[str]:
    """Every dotted key of single values under ``model``."""
    out = []
    for name, field in model.model_fields.items():
        inner = _section(field.annotation)
        out += _leaves(inner, f"{prefix}{name}.") if inner else [prefix + name]
    return out


def check_key(key: str, recipe: Recipe) -> None:
    """A ConfigError (with the closest valid key) unless ``key`` names one value of the recipe."""
    parts = key.split(".")
    where = f"tune.space: key '{key}'"
    if parts[0] in ("tune", "output"):
        raise ConfigError(
            f"{where} cannot be searched; search training settings (train.*, model.*, method.*)"
        )
    if parts[0] == "method" and len(parts) == 2 and parts[1] != "name":
        options = METHODS[recipe.method.name].Options.model_fields if recipe.method.name in METHODS else {}
        if parts[1] not in options:
            raise ConfigError(
                f"{where}: method {recipe.method.name!r} has no option {parts[1]!r}."
                f"{did_you_mean(parts[1], options)} Its options: {', '.join(options) or 'none'}"
            )
        return
    model: type[BaseModel] = Recipe
    for i, part in enumerate(parts):
        fields = model.model_fields
        if part not in fields:
            prefix = ".".join(parts[:i])
            known = [f"{prefix}.{f}" if prefix else f for f in fields]
            hint = did_you_mean(key, _leaves(Recipe)) or did_you_mean(".".join(parts[: i + 1]), known)
            raise ConfigError(f"{where} is not a recipe key.{hint}")
        inner = _section(fields[part].annotation)
        if i == len(parts) - 1:
            if inner is not None:
                raise ConfigError(
                    f"{where} is a section; name one of its values, e.g. '{key}.{next(iter(inner.model_fields))}'"
                )
            return
        if inner is None:
            raise ConfigError(f"{where}: '{'.'.join(parts[: i + 1])}' is a value, not a section")
        model = inner


def apply_params(recipe: Recipe, params: dict[str, Any], output: str | None = None) -> Recipe:
    """The recipe with the sampled values set (and ``output`` if given); the ``tune`` section removed."""
    data = recipe.resolved()
    data["tune"] = None
    if output is not None:
        data["output"] = output
    for key, value in params.items():
        node = data
        parts = key.split(".")
        for part in parts[:-1]:
            if not isinstance(node.get(part), dict):
                node[part] = {}  # a section left at None (e.g. no ensemble:) starts from its defaults
            node = node[part]
        node[parts[-1]] = value
    return recipe_from_dict(data, source="the trial's recipe")


def _ends(param: SpaceParam) -> list[Any]:
    if param.type == "categorical":
        return list(param.choices or [])
    cast = int if param.type == "int" else float
    return [cast(param.low), cast(param.high)]


def resolve_space(recipe: Recipe) -> dict[str, SpaceParam]:
    """The recipe's space (or the method's default), each key checked and each end tried."""
    space = recipe.tune.space if recipe.tune and recipe.tune.space else default_space(recipe.method.name)
    for key, param in space.items():
        check_key(key, recipe)
        for value in _ends(param):
            try:
                trial = apply_params(recipe, {key: value})
                get_method(trial.method.name, trial.method.options())
            except ConfigError as err:
                raise ConfigError(f"tune.space: {key}={value!r} is not a valid value ({err})") from None
    return space


def suggest(trial: Any, space: dict[str, SpaceParam]) -> dict[str, Any]:
    """Ask an Optuna trial (``optuna.Trial``, also the define-by-run trial of Ray's OptunaSearch) for
    one value of every key."""
    params: dict[str, Any] = {}
    for key, p in space.items():
        if p.type == "categorical":
            params[key] = trial.suggest_categorical(key, p.choices)
        elif p.type == "int":
            params[key] = trial.suggest_int(key, int(p.low), int(p.high), step=int(p.step or 1), log=p.log)
        else:
            params[key] = trial.suggest_float(key, p.low, p.high, step=p.step, log=p.log)
    return params


def _current(recipe: Recipe, key: str) -> Any:
    """The value the recipe itself gives ``key`` (the defaults that the run would fill in, too)."""
    parts = key.split(".")
    method = get_method(recipe.method.name, recipe.method.options())
    if parts[0] == "method":
        return method.options.model_dump().get(parts[1])
    lr = recipe.train.lr if recipe.train.lr is not None else method.default_lr_for(recipe.task)
    if key == "train.lr":
        return lr
    if key == "train.head_lr" and recipe.train.head_lr is None:  # as pipeline.run fills it in
        return lr * (1 if recipe.model.head_init in ("auto", "probe") else 10)
    node: Any = recipe.resolved()
    for part in parts:
        node = node.get(part) if isinstance(node, dict) else None
    return node


def _inside(value: Any, p: SpaceParam) -> bool:
    if p.type == "categorical":
        return value in (p.choices or [])
    if isinstance(value, bool) or not isinstance(value, int | float) or not p.low <= value <= p.high:
        return False
    if p.type == "int" and (not float(value).is_integer() or (value - p.low) % (p.step or 1)):
        return False
    return (
        p.type == "int"
        or p.step is None
        or abs((value - p.low) / p.step - round((value - p.low) / p.step)) < 1e-9
    )


def baseline(recipe: Recipe, space: dict[str, SpaceParam]) -> dict[str, Any] | None:
    """The recipe's own values of the searched keys, when every one lies in the space: run as the
    first trial, so the search never ends below the recipe it started from (on validation)."""
    params = {key: _current(recipe, key) for key in space}
    if not all(_inside(v, space[k]) for k, v in params.items()):
        return None
    for key, value in params.items():  # the value as the space writes it (16, not 16.0)
        p = space[key]
        params[key] = next(c for c in p.choices if c == value) if p.type == "categorical" else value
        params[key] = int(value) if p.type == "int" else params[key]
    return params

"""What ``tuneforge select`` compares: (backbone x method) pairs, and the budget it has."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from ..config import MethodConfig, Recipe, SelectConfig
from ..errors import ConfigError
from ..methods import get_method
from ..models.backbones import resolve_backbone

# packaged encoders measured by default, when installed (decoders are slow to fine-tune on CPUs)
DEFAULT_BACKBONES = ("minilm-l6", "minilm-l3")
DEFAULT_METHODS = ("full", "lora")


@dataclass(frozen=True)
class Candidate:
    backbone: str
    method: MethodConfig

    @property
    def name(self) -> str:
        opts = ",".join(f"{k}={v}" for k, v in sorted(self.method.options().items()))
        short = self.backbone.rstrip("/").rsplit("/", 1)[-1]
        return f"{short}+{self.method.name}" + (f"({opts})" if opts else "")

    @property
    def slug(self) -> str:
        return re.sub(r"[^A-Za-z0-9_.+-]+", "_", self.name).strip("_")

    def describe(self) -> dict[str, Any]:
        return {"backbone": self.backbone, "method": self.method.model_dump(mode="json")}


def parse_duration(value: str | float | int, what: str = "budget") -> float:
    """``90``, ``"90s"``, ``"20m"``, ``"1h30m"`` -> seconds; ``what`` names the setting in errors."""
    if isinstance(value, int | float):
        seconds = float(value)
    else:
        text = str(value).strip().lower().replace(" ", "")
        parts = re.fullmatch(r"(?:(\d+(?:\.\d+)?)h)?(?:(\d+(?:\.\d+)?)m)?(?:(\d+(?:\.\d+)?)s?)?", text)
        if not text or parts is None or not any(parts.groups()):
            raise ConfigError(f"{what} {value!r} is not a duration; write it like 90s, 20m or 1h30m")
        h, m, s = (float(g) if g else 0.0 for g in parts.groups())
        seconds = 3600 * h + 60 * m + s
    if seconds <= 0:
        raise ConfigError(f"{what} {value!r} must be positive")
    return seconds


def _installed(name: str) -> bool:
    try:
        resolve_backbone(name)
    except ConfigError:
        return False
    return True


def default_backbones(recipe: Recipe) -> list[str]:
    names = [recipe.backbone] + [b for b in DEFAULT_BACKBONES if b != recipe.backbone and _installed(b)]
    return list(dict.fromkeys(names))


def build_candidates(recipe: Recipe, cfg: SelectConfig) -> list[Candidate]:
    """Every pair of the configured backbones and methods, each checked before anything is measured."""
    backbones = cfg.backbones or default_backbones(recipe)
    methods = cfg.methods or [MethodConfig(name=m) for m in DEFAULT_METHODS]
    for name in backbones:
        resolve_backbone(name)  # unknown names: the list of known ones
    for m in methods:
        get_method(m.name, m.options())  # unknown methods or options: did-you-mean
    out = [Candidate(b, m) for b in backbones for m in methods]
    names = [c.name for c in out]
    if len(set(names)) != len(names):
        raise ConfigError("select: the same (backbone, method) pair is listed twice")
    return out

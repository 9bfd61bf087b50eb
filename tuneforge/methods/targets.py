"""Where methods attach: the roles of a backbone's modules (attention projections, feed-forward
layers, the stack of transformer layers), found by name for each architecture family.

Methods ask for roles, never for raw names, so one method works on BERT-style encoders, DistilBERT
and Llama-style decoders alike; a backbone where a role is missing gets a clear error."""

from __future__ import annotations

import re
from collections.abc import Iterable

from torch import nn

from ..errors import ConfigError

# role -> regular expression on the full module name (searched, so a prefix such as "base_model." is fine)
FAMILIES: dict[str, dict[str, str]] = {
    "bert": {  # BERT, RoBERTa, XLM-R, ELECTRA, MiniLM
        "query": r"layer\.\d+\.attention\.self\.query$",
        "key": r"layer\.\d+\.attention\.self\.key$",
        "value": r"layer\.\d+\.attention\.self\.value$",
        "attn_out": r"layer\.\d+\.attention\.output\.dense$",
        "ffn_in": r"layer\.\d+\.intermediate\.dense$",
        "ffn_out": r"layer\.\d+\.output\.dense$",
    },
    "distilbert": {
        "query": r"layer\.\d+\.attention\.q_lin$",
        "key": r"layer\.\d+\.attention\.k_lin$",
        "value": r"layer\.\d+\.attention\.v_lin$",
        "attn_out": r"layer\.\d+\.attention\.out_lin$",
        "ffn_in": r"layer\.\d+\.ffn\.lin1$",
        "ffn_out": r"layer\.\d+\.ffn\.lin2$",
    },
    "llama": {  # Llama, SmolLM, Qwen, Mistral
        "query": r"layers\.\d+\.self_attn\.q_proj$",
        "key": r"layers\.\d+\.self_attn\.k_proj$",
        "value": r"layers\.\d+\.self_attn\.v_proj$",
        "attn_out": r"layers\.\d+\.self_attn\.o_proj$",
        "ffn_in": r"layers\.\d+\.mlp\.up_proj$",
        "ffn_out": r"layers\.\d+\.mlp\.down_proj$",
    },
}
_FAMILY_OF = {
    "bert": "bert",
    "roberta": "bert",
    "xlm-roberta": "bert",
    "electra": "bert",
    "camembert": "bert",
    "distilbert": "distilbert",
    "llama": "llama",
    "mistral": "llama",
    "qwen2": "llama",
}
_NORM_CLASSES = ("LayerNorm", "RMSNorm")


def family(backbone: nn.Module) -> str:
    model_type = getattr(getattr(backbone, "config", None), "model_type", "")
    return _FAMILY_OF.get(model_type, "bert")


def find(backbone: nn.Module, role: str, method: str) -> list[str]:
    """Full names of the modules that play ``role``; an error naming the method if there are none."""
    pattern = re.compile(FAMILIES[family(backbone)][role])
    names = [n for n, m in backbone.named_modules() if isinstance(m, nn.Linear) and pattern.search(n)]
    if not names:
        model_type = getattr(getattr(backbone, "config", None), "model_type", type(backbone).__name__)
        raise ConfigError(
            f"method {method!r} cannot apply to this backbone ({model_type}): it has no {role} layers "
            "that tuneforge recognises; name them with method.target_modules"
        )
    return names


def suffixes(names: list[str]) -> list[str]:
    """The distinct last two name parts (``attention.output.dense`` -> ``output.dense``) of names."""
    return sorted({".".join(n.split(".")[-2:]) for n in names})


def as_regex(names: list[str]) -> str:
    """A full-match pattern for exactly these module names, under any prefix."""
    return r"(.*\.)?(" + "|".join(re.escape(n) for n in sorted(names)) + ")"


def layer_stack(backbone: nn.Module) -> nn.ModuleList:
    """The ModuleList of transformer layers."""
    for path in ("encoder.layer", "transformer.layer", "layers", "model.layers"):
        obj: object = backbone
        for part in path.split("."):
            obj = getattr(obj, part, None)
        if isinstance(obj, nn.ModuleList) and len(obj):
            return obj
    raise ConfigError(f"cannot find the transformer layers of {type(backbone).__name__}")


def layer_index(name: str) -> int:
    """The transformer layer a module name lies in (``...layer.3.output.dense`` -> 3); -1 outside."""
    parts = name.split(".")
    for prev, part in zip(parts, parts[1:], strict=False):
        if prev in ("layer", "layers") and part.isdigit():
            return int(part)
    return -1


def check_layers(backbone: nn.Module, layers: list[int], method: str) -> set[int]:
    """``method.layers`` checked against the backbone: a non-empty set of valid layer indices."""
    n_layers = len(layer_stack(backbone))
    bad = sorted(i for i in layers if not 0 <= i < n_layers)
    if not layers or bad:
        raise ConfigError(
            f"method {method!r}: method.layers {bad or layers} out of range: this backbone has layers "
            f"0..{n_layers - 1}"
        )
    return set(layers)


def peft_targets_in(backbone: nn.Module, target_modules: Iterable[str] | str, layers: set[int]) -> str:
    """A full-match pattern for the linear modules peft would adapt for ``target_modules`` (a list of
    name suffixes, or a pattern), kept to the transformer ``layers``."""

    def wanted(name: str) -> bool:
        if isinstance(target_modules, str):
            return re.fullmatch(target_modules, name) is not None
        return any(name == t or name.endswith("." + t) for t in target_modules)

    names = [
        n
        for n, m in backbone.named_modules()
        if isinstance(m, nn.Linear) and layer_index(n) in layers and wanted(n)
    ]
    if not names:
        raise ConfigError(f"no module of {target_modules!r} lies in method.layers {sorted(layers)}")
    return as_regex(names)


def norm_modules(backbone: nn.Module) -> list[tuple[str, nn.Module]]:
    return [(n, m) for n, m in backbone.named_modules() if type(m).__name__.endswith(_NORM_CLASSES)]

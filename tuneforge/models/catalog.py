"""``tuneforge models list|info``: what each backbone is, read from its files (no weights loaded)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .backbones import REGISTRY, BackboneSpec, backbone_config, resolve_backbone


def _parameters(spec: BackboneSpec) -> int:
    """Parameter count from the safetensors headers; the tiny test model is built (it is small)."""
    if spec.path is None:
        from .backbones import build_backbone

        return sum(p.numel() for p in build_backbone(spec).parameters())
    from safetensors import safe_open

    total = 0
    for file in Path(spec.path).glob("*.safetensors"):
        with safe_open(str(file), framework="pt") as fh:
            for key in fh.keys():  # noqa: SIM118  (safe_open is not a mapping)
                shape = fh.get_slice(key).get_shape()
                n = 1
                for d in shape:
                    n *= d
                total += n
    return total


def describe(name: str) -> dict[str, Any]:
    spec = resolve_backbone(name)
    config = backbone_config(spec)
    return {
        "name": spec.name,
        "description": spec.description,
        "parameters": _parameters(spec),
        "layers": getattr(config, "num_hidden_layers", None),
        "hidden_size": getattr(config, "hidden_size", None),
        "max_length": spec.max_length,
        "vocabulary": getattr(config, "vocab_size", None),
        "architecture": getattr(config, "model_type", None),
        "languages": list(spec.languages),
        "license": spec.license,
        "pooling": spec.pooling,
        "normalize": spec.normalize,
        "lora_targets": list(spec.lora_targets),
        "path": spec.path,
    }


def catalog() -> list[dict[str, Any]]:
    out = []
    for name in REGISTRY:
        try:
            out.append(describe(name))
        except Exception as err:  # noqa: BLE001  a package that is not installed: list it as missing
            out.append({"name": name, "description": REGISTRY[name]["description"], "missing": str(err)})
    return out

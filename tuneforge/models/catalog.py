"""``tuneforge models list|info``: what each backbone is, read from its files (no weights loaded).

Packaged models that need a conversion are described from their source file (ONNX initialisers, the
GGUF header), so listing them converts nothing; ``path`` is their cache folder once converted."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .backbones import REGISTRY, BackboneSpec, backbone_config, registered_spec, resolve_backbone


def _parameters(spec: BackboneSpec) -> int | None:
    """Parameter count from the safetensors headers; the tiny test model is built (it is small)."""
    if spec.path is None:
        from .backbones import build_backbone

        return sum(p.numel() for p in build_backbone(spec).parameters())
    from safetensors import safe_open

    files = list(Path(spec.path).glob("*.safetensors"))
    if not files:
        return None  # weights in another format (pytorch_model.bin): not counted without loading them
    total = 0
    for file in files:
        with safe_open(str(file), framework="pt") as fh:
            for key in fh.keys():  # noqa: SIM118  (safe_open is not a mapping)
                shape = fh.get_slice(key).get_shape()
                n = 1
                for d in shape:
                    n *= d
                total += n
    return total


def _folder_facts(spec: BackboneSpec) -> dict[str, Any]:
    config = backbone_config(spec)
    return {
        "parameters": _parameters(spec),
        "layers": getattr(config, "num_hidden_layers", None),
        "hidden_size": getattr(config, "hidden_size", None),
        "vocabulary": getattr(config, "vocab_size", None),
        "architecture": getattr(config, "model_type", None),
        "path": spec.path,
    }


def describe(name: str) -> dict[str, Any]:
    """Everything tuneforge knows about a registry name, local folder or hub id, as plain data."""
    if name in REGISTRY and "facts" in REGISTRY[name]:
        spec = registered_spec(name, with_path=False)
        facts = REGISTRY[name]["facts"]()
        facts["converted"] = facts["path"] is not None
    else:
        spec = resolve_backbone(name)
        facts = _folder_facts(spec)
    out = {
        "name": spec.name,
        "description": spec.description,
        "kind": spec.kind,
        "parameters": facts.pop("parameters"),
        "layers": facts.pop("layers"),
        "hidden_size": facts.pop("hidden_size"),
        "max_length": spec.max_length,
        "vocabulary": facts.pop("vocabulary"),
        "architecture": facts.pop("architecture"),
        "languages": list(spec.languages),
        "license": spec.license,
        "pooling": spec.pooling,
        "normalize": spec.normalize,
        "lora_targets": list(spec.lora_targets),
    }
    return {**out, **facts}


def catalog() -> list[dict[str, Any]]:
    out = []
    for name in REGISTRY:
        try:
            out.append(describe(name))
        except Exception as err:  # noqa: BLE001  a package that is not installed: list it as missing
            out.append({"name": name, "description": REGISTRY[name]["description"], "missing": str(err)})
    return out

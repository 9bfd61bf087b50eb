"""A GGUF model file (llama.cpp's format, often quantised) -> a plain Hugging Face model folder.

transformers reads GGUF files itself (``from_pretrained(folder, gguf_file=name)``, with the ``gguf``
package) and dequantises the weights to float32; the converted model is saved without its
quantisation settings so that it loads like any other folder. The facts ``models list`` shows are read
from the file's header by a small reader here (the ``gguf`` package parses the whole vocabulary and
takes seconds)."""

from __future__ import annotations

import struct
from pathlib import Path
from typing import Any, BinaryIO

from ..errors import ConfigError

CONVERTER = "gguf-hf/1"
_SCALARS = {0: "B", 1: "b", 2: "H", 3: "h", 4: "I", 5: "i", 6: "f", 7: "?", 10: "Q", 11: "q", 12: "d"}
_STRING, _ARRAY = 8, 9


def _read(fh: BinaryIO, fmt: str) -> Any:
    size = struct.calcsize("<" + fmt)
    data = fh.read(size)
    if len(data) != size:
        raise ValueError("truncated GGUF header")
    return struct.unpack("<" + fmt, data)[0]


def _string(fh: BinaryIO) -> str:
    return fh.read(_read(fh, "Q")).decode("utf-8", errors="replace")


def _value(fh: BinaryIO, kind: int) -> Any:
    if kind in _SCALARS:
        return _read(fh, _SCALARS[kind])
    if kind == _STRING:
        return _string(fh)
    if kind == _ARRAY:  # arrays (the vocabulary, merges) are skipped; their length is kept
        item, count = _read(fh, "I"), _read(fh, "Q")
        if item in _SCALARS:
            fh.seek(count * struct.calcsize("<" + _SCALARS[item]), 1)
        else:
            for _ in range(count):
                _value(fh, item)
        return count
    raise ValueError(f"unknown GGUF value type {kind}")


def read_header(path: Path) -> tuple[dict[str, Any], dict[str, tuple[int, ...]]]:
    """``(metadata, tensor shapes)`` of a GGUF file (version 2 or 3), without reading the weights."""
    with open(path, "rb") as fh:
        if fh.read(4) != b"GGUF" or _read(fh, "I") not in (2, 3):
            raise ConfigError(f"{path} is not a GGUF file of version 2 or 3")
        n_tensors, n_kv = _read(fh, "Q"), _read(fh, "Q")
        meta = {}
        for _ in range(n_kv):
            key = _string(fh)
            meta[key] = _value(fh, _read(fh, "I"))
        tensors = {}
        for _ in range(n_tensors):
            name = _string(fh)
            dims = tuple(_read(fh, "Q") for _ in range(_read(fh, "I")))
            _read(fh, "I"), _read(fh, "Q")  # type, offset
            tensors[name] = dims
    return meta, tensors


def gguf_facts(path: Path) -> dict[str, Any]:
    """Parameters, layers, hidden size, context length and vocabulary from the header."""
    meta, tensors = read_header(path)
    arch = meta.get("general.architecture", "unknown")
    params = 0
    for dims in tensors.values():
        n = 1
        for d in dims:
            n *= d
        params += n
    return {
        "parameters": params,
        "layers": meta.get(f"{arch}.block_count"),
        "hidden_size": meta.get(f"{arch}.embedding_length"),
        "vocabulary": meta.get(f"{arch}.vocab_size") or meta.get("tokenizer.ggml.tokens"),
        "architecture": arch,
        "context_length": meta.get(f"{arch}.context_length"),
    }


def convert(gguf_path: Path, out: Path) -> None:
    """Dequantise ``gguf_path`` into a causal-LM folder at ``out`` (float32 safetensors, config,
    tokenizer with a pad token). ``AutoModel`` loads its decoder without the (tied) LM head."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from .backbones import quiet_transformers

    quiet_transformers()
    folder, name = str(gguf_path.parent), gguf_path.name
    tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=name)
    model = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name, dtype=torch.float32)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    setattr(model, "hf_quantizer", None)  # noqa: B010  (a plain attribute of the loaded model)
    for config in (model.config, getattr(model, "generation_config", None)):
        if config is not None and hasattr(config, "quantization_config"):
            del config.quantization_config
    model.config.pad_token_id = tokenizer.pad_token_id
    model.config.name_or_path = gguf_path.stem
    model.save_pretrained(str(out))
    tokenizer.save_pretrained(str(out))

"""A BERT encoder exported to ONNX (as sentence-transformers models are) -> a transformers BertModel.

How the weights are found: initialisers with a BERT parameter name (``...embeddings.word_embeddings.
weight``, ``...encoder.layer.0.output.LayerNorm.bias``) keep it, less any prefix before
``embeddings.``/``encoder.``. The exporter gives the linear layers' weights anonymous names
(``onnx::MatMul_470``); each is the second input of a ``MatMul`` whose output goes into an ``Add``
with a named bias (``...attention.self.query.bias``): the weight takes the bias's module name. ONNX
``MatMul`` computes ``x @ W``, ``nn.Linear`` computes ``x @ W.T``: those weights are transposed. The
number of attention heads is read from the ``Reshape`` that splits the query into heads.

The tokenizer is not in the ONNX file: the caller names a folder whose tokenizer files are copied."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ConfigError

CONVERTER = "onnx-bert/1"
_PARAM = re.compile(r"(?:^|\.)((?:embeddings|encoder)\..+\.(?:weight|bias))$")
TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "vocab.txt", "special_tokens_map.json")


class _Graph:
    """Initialisers, and which nodes produce and consume each tensor."""

    def __init__(self, model: Any) -> None:
        self.graph = model.graph
        self.inits = {t.name: t for t in self.graph.initializer}
        self.producer = {out: n for n in self.graph.node for out in n.output}
        self.consumers: dict[str, list[Any]] = {}
        for node in self.graph.node:
            for name in node.input:
                self.consumers.setdefault(name, []).append(node)

    def constant(self, name: str) -> np.ndarray | None:
        from onnx import numpy_helper

        if name in self.inits:
            return numpy_helper.to_array(self.inits[name])
        node = self.producer.get(name)
        if node is not None and node.op_type == "Constant":
            return numpy_helper.to_array(node.attribute[0].t)
        return None


def _bias_of_matmul(g: _Graph, matmul: Any) -> str | None:
    """The BERT name of the bias added to this MatMul's output, if any."""
    for node in g.consumers.get(matmul.output[0], []):
        if node.op_type != "Add":
            continue
        for name in node.input:
            match = _PARAM.search(name) if name in g.inits else None
            if match and match.group(1).endswith(".bias"):
                return match.group(1)
    return None


def weight_map(g: _Graph) -> dict[str, tuple[str, bool]]:
    """ONNX initialiser name -> (BertModel parameter name, transpose?)."""
    mapping: dict[str, tuple[str, bool]] = {}
    for name in g.inits:
        match = _PARAM.search(name)
        matmuls = [n for n in g.consumers.get(name, []) if n.op_type == "MatMul" and n.input[1] == name]
        if matmuls:
            bias = _bias_of_matmul(g, matmuls[0])
            if bias is None and match is None:
                raise ConfigError(
                    f"cannot place the ONNX weight {name!r}: its MatMul has no named bias; this converter "
                    "handles BERT encoders exported from PyTorch"
                )
            target = bias[: -len("bias")] + "weight" if bias else match.group(1)  # type: ignore[union-attr]
            mapping[name] = (target, True)
        elif match:
            mapping[name] = (match.group(1), False)
    targets = [t for t, _ in mapping.values()]
    if len(set(targets)) != len(targets):  # e.g. an exporter that merged identical tensors
        twice = sorted({t for t in targets if targets.count(t) > 1})
        raise ConfigError(f"the ONNX graph maps several tensors to {twice[:3]}; cannot convert it safely")
    return mapping


def _num_heads(g: _Graph, hidden: int) -> int:
    """Heads from the Reshape of the first query projection: shape (batch, length, heads, head_dim),
    one of the last two possibly -1."""
    for node in g.graph.node:
        if node.op_type != "Add" or not any(i.endswith("attention.self.query.bias") for i in node.input):
            continue
        for reshape in g.consumers.get(node.output[0], []):
            if reshape.op_type != "Reshape":
                continue
            shape = g.constant(reshape.input[1])
            parts = g.producer.get(reshape.input[1])
            if shape is None and parts is not None and parts.op_type == "Concat":
                last = [v for v in (g.constant(i) for i in parts.input[-2:]) if v is not None]
                shape = np.concatenate([v.reshape(-1) for v in last]) if len(last) == 2 else None
            if shape is None or len(shape) < 2:
                continue
            heads, head_dim = int(shape[-2]), int(shape[-1])  # one of them may be -1 (inferred)
            heads = hidden // head_dim if heads == -1 and head_dim > 0 else heads
            if heads > 0 and hidden % heads == 0 and head_dim in (-1, hidden // heads):
                return heads
    raise ConfigError("cannot read the number of attention heads from the ONNX graph (no query Reshape)")


def shapes(g: _Graph) -> dict[str, tuple[int, ...]]:
    """BertModel parameter name -> shape (as nn.Linear stores it), read without loading the weights."""
    out = {}
    for onnx_name, (name, transpose) in weight_map(g).items():
        dims = tuple(int(d) for d in g.inits[onnx_name].dims)
        out[name] = dims[::-1] if transpose else dims
    return out


def bert_config_dict(g: _Graph) -> dict[str, Any]:
    sizes = shapes(g)
    vocab, hidden = sizes["embeddings.word_embeddings.weight"]
    layers = {int(m.group(1)) for k in sizes if (m := re.match(r"encoder\.layer\.(\d+)\.", k))}
    eps = [
        a.f
        for n in g.graph.node
        if n.op_type == "LayerNormalization"
        for a in n.attribute
        if a.name == "epsilon"
    ]
    return dict(
        vocab_size=vocab,
        hidden_size=hidden,
        num_hidden_layers=len(layers),
        num_attention_heads=_num_heads(g, hidden),
        intermediate_size=sizes["encoder.layer.0.intermediate.dense.weight"][0],
        max_position_embeddings=sizes["embeddings.position_embeddings.weight"][0],
        type_vocab_size=sizes["embeddings.token_type_embeddings.weight"][0],
        layer_norm_eps=float(np.float32(eps[0])) if eps else 1e-12,
        hidden_act="gelu",
    )


def load_graph(onnx_path: Path) -> _Graph:
    import onnx

    return _Graph(onnx.load(str(onnx_path)))


def onnx_facts(onnx_path: Path) -> dict[str, Any]:
    """Parameters, layers, hidden size and vocabulary of the encoder, without converting it."""
    g = load_graph(onnx_path)
    config = bert_config_dict(g)
    return {
        "parameters": sum(int(np.prod(s)) for s in shapes(g).values()),
        "layers": config["num_hidden_layers"],
        "hidden_size": config["hidden_size"],
        "vocabulary": config["vocab_size"],
        "architecture": "bert",
    }


def to_bert(onnx_path: Path):
    """The ONNX encoder as a transformers ``BertModel`` (no pooler), in eval mode."""
    import torch
    from onnx import numpy_helper
    from transformers import BertConfig, BertModel

    from .backbones import quiet_transformers

    quiet_transformers()
    g = load_graph(onnx_path)
    config = BertConfig(**bert_config_dict(g), architectures=["BertModel"])
    state = {}
    for onnx_name, (name, transpose) in weight_map(g).items():
        array = numpy_helper.to_array(g.inits[onnx_name])
        state[name] = torch.from_numpy(np.ascontiguousarray(array.T if transpose else array).copy())
    model = BertModel(config, add_pooling_layer=False)
    missing, unexpected = model.load_state_dict(state, strict=False)
    missing = [k for k in missing if not k.endswith("position_ids")]
    if missing or unexpected:
        raise ConfigError(
            f"the ONNX graph does not hold a whole BERT encoder: missing {missing[:5]}, unexpected "
            f"{unexpected[:5]}"
        )
    return model.eval()


def convert(onnx_path: Path, out: Path, tokenizer_dir: Path, max_seq_length: int = 128) -> None:
    """Write a Hugging Face model folder (config, safetensors, tokenizer) and sentence-transformers
    mean-pooling metadata into ``out``; check the result against onnxruntime when it is installed."""
    model = to_bert(onnx_path)
    model.save_pretrained(str(out))
    for name in TOKENIZER_FILES:
        if (tokenizer_dir / name).is_file():
            shutil.copy2(tokenizer_dir / name, out / name)
    hidden = model.config.hidden_size
    modules = [
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
    ]
    pooling = {
        "word_embedding_dimension": hidden,
        "pooling_mode_cls_token": False,
        "pooling_mode_mean_tokens": True,
    }
    (out / "1_Pooling").mkdir()
    (out / "modules.json").write_text(json.dumps(modules, indent=2) + "\n", encoding="utf-8")
    (out / "1_Pooling" / "config.json").write_text(json.dumps(pooling, indent=2) + "\n", encoding="utf-8")
    st = {"max_seq_length": max_seq_length, "do_lower_case": False}
    (out / "sentence_bert_config.json").write_text(json.dumps(st, indent=2) + "\n", encoding="utf-8")
    diff = parity(onnx_path, out, ["a short check sentence", "the converted encoder must match the graph"])
    if diff and max(diff.values()) > 1e-3:
        raise ConfigError(f"the converted encoder differs from the ONNX model ({diff}); not cached")


def parity(onnx_path: Path, folder: Path, texts: list[str]) -> dict[str, float]:
    """Max abs differences between ``folder``'s BertModel and the ONNX model on ``texts``: of the
    token embeddings, and of the mean-pooled sentence embeddings where the graph outputs them.
    Empty without onnxruntime."""
    try:
        import onnxruntime as ort
    except ImportError:
        return {}
    import torch
    from transformers import AutoModel, AutoTokenizer

    from .backbones import quiet_transformers
    from .heads import mean_pool

    quiet_transformers()
    tok = AutoTokenizer.from_pretrained(str(folder))
    batch = tok(texts, padding=True, return_tensors="np")
    session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    names = {i.name for i in session.get_inputs()}
    feeds = {k: v.astype(np.int64) for k, v in batch.items() if k in names}
    outputs = session.run(None, feeds)
    model = AutoModel.from_pretrained(str(folder), add_pooling_layer=False).eval()
    with torch.no_grad():
        hidden = model(**{k: torch.from_numpy(v) for k, v in feeds.items()}).last_hidden_state
        pooled = mean_pool(hidden, torch.from_numpy(feeds["attention_mask"])).numpy()
    mask = batch["attention_mask"][..., None].astype(bool)
    diff = {}
    for out in outputs:
        if out.ndim == 3 and out.shape == hidden.shape:
            diff["tokens"] = float(np.abs(np.where(mask, out - hidden.numpy(), 0.0)).max())
        elif out.ndim == 2 and out.shape == pooled.shape and out.dtype == np.float32:
            diff["sentence"] = float(np.abs(out - pooled).max())
    return diff

"""ONNX export of a task model and the ONNX Runtime model that stands in for it at inference.

The graph takes ``input_ids`` and ``attention_mask`` (batch and sequence dynamic) and returns the
head's ``logits``; decoding (softmax, thresholds, BIO spans) stays in Python, shared with PyTorch, so
an exported model predicts through exactly the same code.

BERT-family backbones are traced with the plain (eager) attention and then fused by ONNX Runtime's
transformer optimiser into its ``Attention``, ``EmbedLayerNormalization``, ``SkipLayerNormalization``
and ``BiasGelu`` kernels; int8 quantisation then also covers the fused attention projections
(``QAttention``). The parity check of every export compares the result with the trained model."""

from __future__ import annotations

import contextlib
import logging
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import torch
from torch import nn

OPSET = 17
FUSABLE = ("bert",)  # model_type values whose graphs the ONNX Runtime optimiser knows how to fuse
QUANTIZED_OPS = ("MatMul", "Gemm", "Attention")


def _transformer(model: nn.Module) -> Any | None:
    """The first Hugging Face model inside ``model`` (the backbone), or None."""
    return next((m for m in model.modules() if hasattr(m, "set_attn_implementation")), None)


@contextlib.contextmanager
def _eager_attention(model: nn.Module) -> Iterator[None]:
    """Trace with the eager attention (the graph pattern the fuser recognises); restored afterwards."""
    hf = _transformer(model)
    before = getattr(getattr(hf, "config", None), "_attn_implementation", None)
    switched = False
    if hf is not None and before not in (None, "eager"):
        try:
            hf.set_attn_implementation("eager")
            switched = True
        except (ValueError, AttributeError, NotImplementedError):
            pass  # traced as it is; the fuser then fuses less
    try:
        yield
    finally:
        if switched:
            hf.set_attn_implementation(before)


def fusion_plan(model: nn.Module) -> dict[str, Any] | None:
    """``optimize_model`` arguments for the backbone, or None when its architecture is not fusable."""
    hf = _transformer(model)
    config = getattr(hf, "config", None)
    if config is None or getattr(config, "model_type", None) not in FUSABLE:
        return None
    return {
        "model_type": config.model_type,
        "num_heads": int(config.num_attention_heads),
        "hidden_size": int(config.hidden_size),
    }


def fuse(path: Path, plan: dict[str, Any]) -> dict[str, int]:
    """Rewrite the ONNX file at ``path`` with ONNX Runtime's fused transformer kernels (CPU); returns
    how many of each fused operator it made."""
    from onnxruntime.transformers.optimizer import optimize_model

    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)
    try:
        optimized = optimize_model(str(path), opt_level=1, use_gpu=False, **plan)
        optimized.save_model_to_file(str(path), use_external_data_format=False)
        stats = optimized.get_fused_operator_statistics()
    finally:
        root.setLevel(level)
    return {k: int(v) for k, v in stats.items() if v}


def to_onnx(model: nn.Module, path: Path, vocab_size: int, *, fused: bool = True) -> dict[str, int]:
    """Export ``model`` to ``path``; with ``fused``, fuse what the optimiser recognises. Returns the
    fused operator counts (empty when nothing was fused)."""
    model = model.eval().cpu()
    ids = torch.randint(1000, max(vocab_size, 1001), (2, 12))
    ids[1, 8:] = 0
    mask = (ids != 0).long()
    dynamic = {"input_ids": {0: "batch", 1: "sequence"}, "attention_mask": {0: "batch", 1: "sequence"}}
    plan = fusion_plan(model) if fused else None
    tracing = _eager_attention(model) if plan else contextlib.nullcontext()
    with warnings.catch_warnings(), torch.no_grad(), tracing:
        warnings.simplefilter("ignore")
        torch.onnx.export(
            model,
            (ids, mask),
            str(path),
            input_names=["input_ids", "attention_mask"],
            output_names=["logits"],
            dynamic_axes={**dynamic, "logits": {0: "batch"}},
            opset_version=OPSET,
            dynamo=False,
        )
    return fuse(path, plan) if plan else {}


def quantizable_nodes(path: Path) -> list[str]:
    """Names of the MatMul/Gemm (and fused Attention) nodes whose weight operand is a constant (what
    ``quantize_int8`` rounds), in graph order."""
    import onnx

    graph = onnx.load(str(path), load_external_data=False).graph
    consts = {t.name for t in graph.initializer}
    return [
        n.name for n in graph.node if n.op_type in QUANTIZED_OPS and len(n.input) > 1 and n.input[1] in consts
    ]


def quantize_int8(
    src: Path, dst: Path, *, exclude: Sequence[str] = (), only: Sequence[str] | None = None
) -> None:
    """Dynamic int8 quantisation: the weights of MatMul/Gemm/Attention nodes with a constant weight
    operand, per output channel; activations are quantised on the fly. Embeddings and the attention
    score products stay in float, and so do the nodes named in ``exclude`` (or all but those in
    ``only``)."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    def names(nodes: Sequence[str]) -> list[str]:  # the quantiser renames a Gemm it turns into a MatMul
        return [*nodes, *(f"{n}_MatMul" for n in nodes)]

    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)  # the quantiser logs generic advice at WARNING on the root logger
    try:
        quantize_dynamic(
            str(src),
            str(dst),
            weight_type=QuantType.QInt8,
            per_channel=True,
            op_types_to_quantize=list(QUANTIZED_OPS),
            nodes_to_quantize=names(only) if only else None,
            nodes_to_exclude=names(exclude),
            # fused kernels are outside shape inference: their outputs are float
            extra_options={"MatMulConstBOnly": True, "DefaultTensorType": onnx.TensorProto.FLOAT},
        )
    finally:
        root.setLevel(level)


class OnnxTaskModel(nn.Module):
    """An ONNX Runtime session with the ``TaskModel`` call signature (CPU execution)."""

    def __init__(self, path: Path, threads: int | None = None) -> None:
        super().__init__()
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or torch.get_num_threads()
        options.inter_op_num_threads = 1
        # no busy-waiting between calls: on a few cores it would starve the server's event loop
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self.register_buffer("_device", torch.zeros(0), persistent=False)
        self.virtual_tokens = 0

    def forward(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor, **_: torch.Tensor
    ) -> torch.Tensor:
        (logits,) = self.session.run(
            ["logits"],
            {
                "input_ids": input_ids.cpu().numpy().astype("int64"),
                "attention_mask": attention_mask.cpu().numpy().astype("int64"),
            },
        )
        return torch.from_numpy(logits)

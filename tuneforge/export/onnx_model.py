"""ONNX export of a task model and the ONNX Runtime model that stands in for it at inference.

The graph takes ``input_ids`` and ``attention_mask`` (batch and sequence dynamic) and returns the
head's ``logits``; decoding (softmax, thresholds, BIO spans) stays in Python, shared with PyTorch, so
an exported model predicts through exactly the same code."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from pathlib import Path

import torch
from torch import nn

OPSET = 17


def to_onnx(model: nn.Module, path: Path, vocab_size: int) -> None:
    model = model.eval().cpu()
    ids = torch.randint(1000, max(vocab_size, 1001), (2, 12))
    ids[1, 8:] = 0
    mask = (ids != 0).long()
    dynamic = {"input_ids": {0: "batch", 1: "sequence"}, "attention_mask": {0: "batch", 1: "sequence"}}
    with warnings.catch_warnings(), torch.no_grad():
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


def quantizable_nodes(path: Path) -> list[str]:
    """Names of the MatMul/Gemm nodes whose weight operand is a constant (what ``quantize_int8`` rounds),
    in graph order."""
    import onnx

    graph = onnx.load(str(path), load_external_data=False).graph
    consts = {t.name for t in graph.initializer}
    return [
        n.name
        for n in graph.node
        if n.op_type in ("MatMul", "Gemm") and len(n.input) > 1 and n.input[1] in consts
    ]


def quantize_int8(
    src: Path, dst: Path, *, exclude: Sequence[str] = (), only: Sequence[str] | None = None
) -> None:
    """Dynamic int8 quantisation: the weights of MatMul/Gemm nodes with a constant weight operand,
    per output channel; activations are quantised on the fly. Embeddings and the attention score
    products stay in float, and so do the nodes named in ``exclude`` (or all but those in ``only``)."""
    import logging

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
            op_types_to_quantize=["MatMul", "Gemm"],
            nodes_to_quantize=names(only) if only else None,
            nodes_to_exclude=names(exclude),
            extra_options={"MatMulConstBOnly": True},
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

"""Save and load the ``model/`` folder of a run.

Full fine-tuning: Hugging Face format (``config.json`` + ``model.safetensors`` + ``modeling_tuneforge.py``,
loadable with ``AutoModelFor...Classification.from_pretrained(..., trust_remote_code=True)``).
Adapter methods: the peft adapter plus ``head.safetensors`` and a reference to the base model.
Always: the tokenizer and ``tuneforge.json`` (task, labels, backbone, method, pooling, max length)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from transformers import AutoConfig, AutoTokenizer

from ..errors import ConfigError, RunError
from ..io import atomic_write_json, replace_dir
from ..methods import get_method
from ..models.backbones import BackboneSpec, build_backbone, model_from_config, resolve_backbone
from ..models.heads import TaskModel
from ..models.tasks import Task, get_task

META = "tuneforge.json"
_TEMPLATE = Path(__file__).with_name("modeling_tuneforge.py")
_AUTO = {"sequence": "TuneforgeForSequenceClassification", "token": "TuneforgeForTokenClassification"}


def _hf_config(model: TaskModel, meta: dict[str, Any]) -> dict[str, Any]:
    cfg = model.backbone.config.to_dict()
    level = "token" if meta["task"] == "ner" else "sequence"
    auto_name = (
        "AutoModelForTokenClassification" if level == "token" else "AutoModelForSequenceClassification"
    )
    cfg.update(
        architectures=[_AUTO[level]],
        auto_map={auto_name: f"modeling_tuneforge.{_AUTO[level]}"},
        id2label={str(i): lab for i, lab in enumerate(meta["labels"])},
        label2id={lab: i for i, lab in enumerate(meta["labels"])},
        tuneforge={
            "task": meta["task"],
            "pooling": meta["pooling"],
            "dropout": meta["dropout"],
            "normalize": meta.get("normalize", False),
        },
    )
    if meta["task"] == "multilabel":
        cfg["problem_type"] = "multi_label_classification"
    return cfg


def save_bundle(out: Path, model: TaskModel, tokenizer: Any, meta: dict[str, Any]) -> None:
    """Write ``out`` completely or not at all (a temporary folder renamed at the end)."""
    method = method_of(meta)
    tmp = out.with_name(f".{out.name}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    method.save(model, tmp)
    tokenizer.save_pretrained(str(tmp))
    if method.saves_full_model:
        atomic_write_json(tmp / "config.json", _hf_config(model, meta))
        shutil.copyfile(_TEMPLATE, tmp / "modeling_tuneforge.py")
    atomic_write_json(tmp / META, meta)
    replace_dir(tmp, out)


def method_of(meta: dict[str, Any]):
    """The method object a model folder's ``tuneforge.json`` names, with its saved options."""
    return get_method(meta["method"]["name"], {k: v for k, v in meta["method"].items() if k != "name"})


def read_meta(model_dir: Path) -> dict[str, Any]:
    path = model_dir / META
    if not path.is_file():
        raise RunError(f"{model_dir} is not a tuneforge model folder ({META} missing)")
    return json.loads(path.read_text(encoding="utf-8"))


def build_model(
    task: Task,
    spec: BackboneSpec,
    n_labels: int,
    pooling: str,
    dropout: float,
    hidden_dropout: float | None = None,
    config: Any = None,
    normalize: bool = False,
) -> TaskModel:
    backbone = model_from_config(config) if config is not None else build_backbone(spec, hidden_dropout)
    head = task.build_head(backbone.config.hidden_size, n_labels, pooling, dropout, normalize=normalize)
    return TaskModel(backbone, head)


def require_network(model_dir: Path) -> dict[str, Any]:
    """The folder's meta; a clear error for an n-gram model folder (nothing to export or serve)."""
    meta = read_meta(model_dir)
    if meta.get("kind") == "ngram":
        raise ConfigError(
            f"{model_dir} holds an n-gram model (kind: ngram), not a network: there is nothing to export "
            "or serve; load it with tuneforge.load (predict, evaluate) or use it as an ensemble member"
        )
    return meta


def load_bundle(model_dir: Path) -> tuple[TaskModel, Task, Any, dict[str, Any]]:
    """``(model in eval mode, task, tokenizer, meta)`` of a saved model folder."""
    meta = require_network(model_dir)
    task = get_task(meta["task"], meta)
    tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
    if meta.get("format", "torch").startswith("onnx"):
        from .onnx_model import OnnxTaskModel

        return OnnxTaskModel(model_dir / "model.onnx"), task, tokenizer, meta
    method = method_of(meta)
    config = None
    if method.saves_full_model:  # the folder has every weight: build from its config, no base needed
        config = AutoConfig.from_pretrained(str(model_dir))
        spec = BackboneSpec(name=meta["backbone"], description="", pooling=meta["pooling"])
    else:
        spec = _base_spec(meta)
    model = build_model(
        task,
        spec,
        len(meta["labels"]),
        meta["pooling"],
        meta["dropout"],
        config=config,
        normalize=meta.get("normalize", False),
    )
    method.restore(model, spec, model_dir)
    model.eval()
    return model, task, tokenizer, meta


def _base_spec(meta: dict[str, Any]) -> BackboneSpec:
    try:
        return resolve_backbone(meta["backbone"])
    except Exception:
        path = meta.get("backbone_path")
        if path and Path(path).is_dir():
            return resolve_backbone(path)
        raise RunError(
            f"this model is an adapter on backbone {meta['backbone']!r}, which is not available here"
        ) from None

"""Several fine-tuned runs on one base backbone, in one process: ``AdapterSet``.

The backbone's weights are held once; each member adds only its own small weights (a peft adapter,
a bottleneck adapter, BitFit biases, ...) and its task head. ``predict(texts, adapter=name)`` switches
per request; ``predict_all`` / ``predict_proba_all`` run every member (for ensembling).

Members must share the backbone and the method; peft methods (LoRA, AdaLoRA, IA3, soft prompts) may
differ in their options (peft holds named adapters side by side); tuneforge's own methods (adapter,
bitfit, layernorm, partial) must have the same options, and switching copies their weights in.
Members may have different tasks and labels (an intent classifier and an NER tagger, for example)."""

from __future__ import annotations

import threading
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import load_file

from .errors import ConfigError
from .export.bundle import load_bundle, method_of, read_meta
from .methods.base import ADAPTER_FILE, HEAD_FILE
from .methods.peft_base import PeftMethod
from .models.tasks import get_task
from .predictor import Predictor, model_dir_of
from .types import Example, Prediction


class AdapterSet:
    def __init__(self, runs: Mapping[str, str | Path] | Sequence[str | Path], device: str = "auto") -> None:
        items = list(runs.items()) if isinstance(runs, Mapping) else [(Path(r).name, r) for r in runs]
        if not items:
            raise ConfigError("an adapter set needs at least one run")
        names = [n for n, _ in items]
        if len(set(names)) != len(names):
            raise ConfigError(f"adapter names must be unique, got {names}; pass a mapping name -> run")
        dirs = {name: model_dir_of(path) for name, path in items}
        metas = {name: read_meta(d) for name, d in dirs.items()}
        first = names[0]
        ref = metas[first]
        if ref["method"]["name"] == "full":
            raise ConfigError("fully fine-tuned runs share no weights; load each with tuneforge.load()")
        for name, meta in metas.items():
            if meta["backbone"] != ref["backbone"] or meta["method"]["name"] != ref["method"]["name"]:
                raise ConfigError(
                    f"run {name!r} is {meta['method']['name']} on {meta['backbone']}, but {first!r} is "
                    f"{ref['method']['name']} on {ref['backbone']}: an adapter set shares one backbone and method"
                )
        self._lock = threading.Lock()
        model, task, tokenizer, _ = load_bundle(dirs[first])
        self.model = model
        method = method_of(ref)
        self._peft = isinstance(method, PeftMethod)
        self._heads: dict[str, torch.nn.Module] = {first: model.head}
        self._virtual: dict[str, int] = {first: model.virtual_tokens}
        self._weights: dict[str, dict[str, torch.Tensor]] = {}
        own = {n for n, p in model.backbone.named_parameters() if p.requires_grad}
        if not self._peft:
            self._weights[first] = load_file(str(dirs[first] / ADAPTER_FILE))
        self.members: dict[str, Predictor] = {}
        for name in names:
            meta, folder = metas[name], dirs[name]
            if name != first:
                self._add(name, meta, folder, own, ref)
            member_task = task if name == first else get_task(meta["task"], meta)
            self.members[name] = Predictor.from_parts(model, member_task, tokenizer, meta, device)
        self.model.eval()
        self._active = ""
        self.activate(first)

    def _add(self, name: str, meta: dict[str, Any], folder: Path, own: set[str], ref: dict[str, Any]) -> None:
        m_method = method_of(meta)
        if self._peft:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                self.model.backbone.load_adapter(str(folder), adapter_name=name)
        else:
            if meta["method"] != ref["method"]:
                raise ConfigError(
                    f"run {name!r} has method options {meta['method']}, the first run {ref['method']}; "
                    f"method {meta['method']['name']!r} members must have the same options"
                )
            weights = load_file(str(folder / ADAPTER_FILE))
            if set(weights) != own:
                raise ConfigError(f"{folder / ADAPTER_FILE} does not fit the first run's structure")
            self._weights[name] = weights
        task = get_task(meta["task"], meta)
        hidden = self.model.backbone.config.hidden_size if hasattr(self.model.backbone, "config") else None
        head = task.build_head(
            hidden,
            len(meta["labels"]),
            meta["pooling"],
            meta["dropout"],
            normalize=meta.get("normalize", False),
        )
        head.load_state_dict(load_file(str(folder / HEAD_FILE)))
        head.eval()
        self._heads[name] = head.to(next(self.model.parameters()).device)
        self._virtual[name] = m_method.extra_positions()

    @property
    def names(self) -> list[str]:
        return list(self.members)

    def activate(self, name: str) -> None:
        if name not in self.members:
            raise ConfigError(f"no adapter named {name!r}; this set has {', '.join(self.members)}")
        if name == self._active:
            return
        if self._peft:
            peft_name = "default" if name == self.names[0] else name
            self.model.backbone.set_adapter(peft_name)
        else:
            params = dict(self.model.backbone.named_parameters())
            with torch.no_grad():
                for key, tensor in self._weights[name].items():
                    params[key].copy_(tensor)
        self.model.head = self._heads[name]
        self.model.virtual_tokens = self._virtual[name]
        self._active = name

    def predict(
        self, inputs: Sequence[str | Example], adapter: str, batch_size: int = 64
    ) -> list[Prediction]:
        with self._lock:
            self.activate(adapter)
            return self.members[adapter].predict(inputs, batch_size)

    def predict_proba(
        self, inputs: Sequence[str | Example], adapter: str, batch_size: int = 64
    ) -> np.ndarray:
        with self._lock:
            self.activate(adapter)
            return self.members[adapter].predict_proba(inputs, batch_size)

    def predict_all(
        self, inputs: Sequence[str | Example], batch_size: int = 64
    ) -> dict[str, list[Prediction]]:
        return {name: self.predict(inputs, name, batch_size) for name in self.names}

    def predict_proba_all(
        self, inputs: Sequence[str | Example], batch_size: int = 64
    ) -> dict[str, np.ndarray]:
        return {name: self.predict_proba(inputs, name, batch_size) for name in self.names}


def load_adapters(runs: Mapping[str, str | Path] | Sequence[str | Path], device: str = "auto") -> AdapterSet:
    return AdapterSet(runs, device)

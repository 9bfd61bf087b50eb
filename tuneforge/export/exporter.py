"""``tuneforge export RUN --format hf|merged|onnx|onnx-int8``: write an exported model folder, but
only after it has been run beside the original on held-out examples and found to agree.

Held-out examples: ``--data FILE`` if given, else the run's test file (or validation file) named in its
``recipe.yaml``, else texts made of random vocabulary words (a model folder without its run). The
folder is built under a temporary name and renamed at the end: a failed parity check leaves nothing.

``onnx`` and ``onnx-int8`` of BERT-family backbones use ONNX Runtime's fused transformer kernels
(``fuse=False`` / ``--no-fuse``: the plain traced graph, for runtimes without ONNX Runtime's contrib
operators). ``onnx-int8`` keeps the most sensitive weight matrices in fp32 until the estimated agreement on the
run's validation split reaches ``int8_target_agreement`` (``int8_search``); the parity check then
runs on the held-out examples above, so the search and the reported figures use different data."""

from __future__ import annotations

import dataclasses
import random
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..data.split import subsample
from ..errors import ConfigError, RunError
from ..io import atomic_write_json, replace_dir
from ..types import Example
from .bundle import META, load_bundle, method_of, read_meta, save_bundle
from .int8_search import Probe, search_int8
from .onnx_model import to_onnx
from .parity import Parity, compare

FORMATS = ("hf", "merged", "onnx", "onnx-int8")
# the least label agreement and (fp32 formats) the largest probability difference accepted
MIN_AGREEMENT = {"hf": 1.0, "merged": 0.999, "onnx": 0.999, "onnx-int8": 0.98}
MAX_PROB_DIFF: dict[str, float | None] = {"hf": 1e-6, "merged": 1e-3, "onnx": 1e-3, "onnx-int8": None}
INT8_TARGET_AGREEMENT = 0.995  # what the int8 precision search aims at on the validation split


def export_run(
    model_dir: Path,
    fmt: str,
    out: Path,
    *,
    data: str | Path | None = None,
    min_agreement: float | None = None,
    max_prob_diff: float | None = None,
    max_examples: int = 512,
    force: bool = False,
    int8_target_agreement: float | None = None,
    fuse: bool = True,
    message: Callable[[str], None] | None = None,
) -> Parity:
    if fmt not in FORMATS:
        raise ConfigError(f"unknown export format {fmt!r}; choose one of {', '.join(FORMATS)}")
    if int8_target_agreement is not None and fmt != "onnx-int8":
        raise ConfigError(f"int8_target_agreement applies to --format onnx-int8 only, not {fmt}")
    target = INT8_TARGET_AGREEMENT if int8_target_agreement is None else int8_target_agreement
    if not 0.0 <= target <= 1.0:
        raise ConfigError(f"int8_target_agreement must lie in [0, 1], not {target}")
    if out.exists() and any(out.iterdir()) and not force:
        raise ConfigError(f"{out} exists and is not empty; use --force to replace it")
    model, task, tokenizer, meta = load_bundle(model_dir)
    if meta.get("format", "torch") != "torch":
        raise ConfigError(f"{model_dir} is already an exported {meta['format']} model; export from the run")
    examples, source = parity_examples(model_dir, task.name, tokenizer, meta, data, max_examples)
    stage = out.with_name(f".{out.name}.export")
    shutil.rmtree(stage, ignore_errors=True)
    try:
        quantize = None
        if fmt == "onnx-int8":
            quantize = _int8_quantizer(model, task, tokenizer, meta, model_dir, target, max_examples, message)
        quantization = _build(fmt, model, tokenizer, meta, model_dir, stage, quantize, fuse)
        exported, *_ = load_bundle(stage)
        feats = task.encode(examples, tokenizer, {}, meta["max_length"])
        parity = compare(
            model,
            exported,
            task,
            feats,
            examples,
            meta["labels"],
            pad_id=tokenizer.pad_token_id or 0,
            threshold=meta.get("multilabel_threshold", 0.5),
            source=source,
        )
        parity.quantization = quantization
        need = MIN_AGREEMENT[fmt] if min_agreement is None else min_agreement
        limit = MAX_PROB_DIFF[fmt] if max_prob_diff is None else max_prob_diff
        if parity.agreement < need or (limit is not None and parity.max_prob_diff > limit):
            raise RunError(
                f"the {fmt} export does not match the trained model on {parity.examples} held-out examples "
                f"({source}): agreement {parity.agreement:.4f} (need >= {need}), largest probability "
                f"difference {parity.max_prob_diff:.2e}"
                + (f" (limit {limit:.0e})" if limit is not None else "")
                + "; nothing was written (--min-agreement / --max-prob-diff set other limits)"
            )
        new_meta = read_meta(stage)
        new_meta["parity"] = parity.to_dict()
        atomic_write_json(stage / META, new_meta)
        atomic_write_json(stage / "parity.json", parity.to_dict())
        replace_dir(stage, out)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    return parity


def _build(
    fmt: str,
    model: Any,
    tokenizer: Any,
    meta: dict[str, Any],
    model_dir: Path,
    stage: Path,
    quantize: Callable[[Path, Path], dict[str, Any]] | None = None,
    fuse: bool = True,
) -> dict[str, Any] | None:
    """Write the export to ``stage``; returns how it was quantised (``onnx-int8``), else None."""
    method = method_of(meta)
    if fmt == "hf":
        shutil.copytree(model_dir, stage)
        return None
    if fmt == "merged":
        save_bundle(
            stage,
            method.merge(model),
            tokenizer,
            {**meta, "method": {"name": "full"}, "merged_from": meta["method"]},
        )
        return None
    plain = method.merge(model) if method.can_merge else model
    stage.mkdir(parents=True)
    fused = to_onnx(plain, stage / "model.onnx", len(tokenizer), fused=fuse)
    quantization = None
    if fmt == "onnx-int8" and quantize is not None:
        quantization = quantize(stage / "model.onnx", stage / "model.int8.onnx")
        (stage / "model.int8.onnx").replace(stage / "model.onnx")
    for extra in stage.glob("*.onnx.data"):
        extra.unlink()
    tokenizer.save_pretrained(str(stage))
    atomic_write_json(
        stage / META, {**meta, "format": fmt, "exported_from": meta["method"], "fused_operators": fused}
    )
    return quantization


def _int8_quantizer(
    model: Any,
    task: Any,
    tokenizer: Any,
    meta: dict[str, Any],
    model_dir: Path,
    target: float,
    max_examples: int,
    message: Callable[[str], None] | None,
) -> Callable[[Path, Path], dict[str, Any]]:
    """The int8 step of an ``onnx-int8`` export: the precision search on the run's validation split."""

    def quantize(src: Path, dst: Path) -> dict[str, Any]:
        examples, source = search_examples(model_dir, task.name, tokenizer, meta, max_examples)
        feats = task.encode(examples, tokenizer, {}, meta["max_length"])
        probe = Probe(model, task, feats, tokenizer.pad_token_id or 0, meta.get("multilabel_threshold", 0.5))
        return search_int8(src, dst, probe, target, source=source, message=message).to_dict()

    return quantize


def search_examples(
    model_dir: Path, task: str, tokenizer: Any, meta: dict[str, Any], max_examples: int
) -> tuple[list[Example], str]:
    """Examples for tuning an export, kept apart from the parity check's: the run's validation file,
    else the validation rows ``splits.json`` took from its training file; without them (a model
    folder without its run, an older run), the parity check's own examples."""
    from ..config import load_recipe
    from ..data.split import load_split_indices
    from ..data.stage import read_split
    from ..errors import DataError

    examples: list[Example] = []
    source = ""
    recipe_path, splits = model_dir.parent / "recipe.yaml", model_dir.parent / "splits.json"
    if recipe_path.is_file():
        recipe = load_recipe(recipe_path)
        val, train = recipe.data.validation, recipe.data.train
        if val and Path(val).is_file():
            examples, source = read_split(recipe, val, require_labels=False), val
        elif splits.is_file() and train and Path(train).is_file():
            rows = read_split(recipe, train, require_labels=False)
            try:
                picked = load_split_indices(splits, rows).get("validation", [])
            except DataError:
                picked = []
            examples = [rows[i] for i in picked]
            source = f"validation split of {train} ({splits})"
    if not examples:
        return parity_examples(model_dir, task, tokenizer, meta, None, max_examples)
    keep = subsample(len(examples), max_examples, seed=0)
    return [dataclasses.replace(examples[i], label=None, tags=None) for i in keep], source


def parity_examples(
    model_dir: Path,
    task: str,
    tokenizer: Any,
    meta: dict[str, Any],
    data: str | Path | None,
    max_examples: int,
) -> tuple[list[Example], str]:
    from ..data.readers import read_examples

    examples: list[Example] = []
    source = ""
    if data is not None:
        examples, source = read_examples(data, task=task, require_labels=False), str(data)
    else:
        recipe_path = model_dir.parent / "recipe.yaml"
        if recipe_path.is_file():
            from ..config import load_recipe
            from ..data.stage import read_split

            recipe = load_recipe(recipe_path)
            for path in (recipe.data.test, recipe.data.validation):
                if path and Path(path).is_file():
                    examples, source = read_split(recipe, path, require_labels=False), path
                    break
    if not examples:
        examples, source = _random_texts(tokenizer, task, max_examples), "random vocabulary texts"
    keep = subsample(len(examples), max_examples, seed=0)
    return [dataclasses.replace(examples[i], label=None, tags=None) for i in keep], source


def _random_texts(tokenizer: Any, task: str, n: int) -> list[Example]:
    from ..models.tasks import words_with_offsets

    words = [w for w in tokenizer.get_vocab() if w.isalpha() and w.isascii() and len(w) > 2][:20000]
    rng = random.Random(0)
    texts = [" ".join(rng.choice(words) for _ in range(rng.randint(3, 20))) for _ in range(n)]
    return [words_with_offsets(t) if task == "ner" else Example(text=t) for t in texts]

"""``tuneforge export RUN --format hf|merged|onnx|onnx-int8``: write an exported model folder, but
only after it has been run beside the original on held-out examples and found to agree.

Held-out examples: ``--data FILE`` if given, else the run's test file (or validation file) named in its
``recipe.yaml``, else texts made of random vocabulary words (a model folder without its run). The
folder is built under a temporary name and renamed at the end: a failed parity check leaves nothing."""

from __future__ import annotations

import dataclasses
import random
import shutil
from pathlib import Path
from typing import Any

from ..data.split import subsample
from ..errors import ConfigError, RunError
from ..io import atomic_write_json
from ..types import Example
from .bundle import META, load_bundle, method_of, read_meta, save_bundle
from .onnx_model import quantize_int8, to_onnx
from .parity import Parity, compare

FORMATS = ("hf", "merged", "onnx", "onnx-int8")
# the least label agreement and (fp32 formats) the largest probability difference accepted
MIN_AGREEMENT = {"hf": 1.0, "merged": 0.999, "onnx": 0.999, "onnx-int8": 0.98}
MAX_PROB_DIFF: dict[str, float | None] = {"hf": 1e-6, "merged": 1e-3, "onnx": 1e-3, "onnx-int8": None}


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
) -> Parity:
    if fmt not in FORMATS:
        raise ConfigError(f"unknown export format {fmt!r}; choose one of {', '.join(FORMATS)}")
    if out.exists() and any(out.iterdir()) and not force:
        raise ConfigError(f"{out} exists and is not empty; use --force to replace it")
    model, task, tokenizer, meta = load_bundle(model_dir)
    if meta.get("format", "torch") != "torch":
        raise ConfigError(f"{model_dir} is already an exported {meta['format']} model; export from the run")
    examples, source = parity_examples(model_dir, task.name, tokenizer, meta, data, max_examples)
    stage = out.with_name(f".{out.name}.export")
    shutil.rmtree(stage, ignore_errors=True)
    try:
        _build(fmt, model, tokenizer, meta, model_dir, stage)
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
        if out.exists():
            shutil.rmtree(out)
        out.parent.mkdir(parents=True, exist_ok=True)
        stage.rename(out)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    return parity


def _build(fmt: str, model: Any, tokenizer: Any, meta: dict[str, Any], model_dir: Path, stage: Path) -> None:
    method = method_of(meta)
    if fmt == "hf":
        shutil.copytree(model_dir, stage)
        return
    if fmt == "merged":
        save_bundle(
            stage,
            method.merge(model),
            tokenizer,
            {**meta, "method": {"name": "full"}, "merged_from": meta["method"]},
        )
        return
    plain = method.merge(model) if method.can_merge else model
    stage.mkdir(parents=True)
    to_onnx(plain, stage / "model.onnx", len(tokenizer))
    if fmt == "onnx-int8":
        quantize_int8(stage / "model.onnx", stage / "model.int8.onnx")
        (stage / "model.int8.onnx").replace(stage / "model.onnx")
    for extra in stage.glob("*.onnx.data"):
        extra.unlink()
    tokenizer.save_pretrained(str(stage))
    atomic_write_json(stage / META, {**meta, "format": fmt, "exported_from": meta["method"]})


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

"""``inspect_data`` (report only) and ``clean_data`` (write cleaned files): the quality gate on files,
outside a training run. The same checks run as the first stage of ``tuneforge run``."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

from ..config import QualityConfig
from ..errors import ConfigError
from ..io import replace_dir
from ..types import Example
from .quality import BackboneInfo, GateResult, run_gate
from .readers import detect_format, read_examples
from .writers import output_format, write_examples

SPLITS = ("train", "validation", "test")


def _backbone(name: str | None, max_length: int) -> BackboneInfo | None:
    if not name or name == "none":
        return None
    from ..models.backbones import load_tokenizer, resolve_backbone

    spec = resolve_backbone(name)
    return BackboneInfo(spec, load_tokenizer(spec), min(max_length, spec.max_length))


def _quality(quality: QualityConfig | dict[str, Any] | None, checks: list[str] | None) -> QualityConfig:
    base = quality.model_dump() if isinstance(quality, QualityConfig) else dict(quality or {})
    for item in checks or []:
        if "=" not in item:
            raise ConfigError(f"--check {item!r} is not of the form name=mode, e.g. near_duplicates=fix")
        name, value = item.split("=", 1)
        base[name.strip()] = value.strip()
    from ..config import recipe_from_dict

    return recipe_from_dict({"data": {"train": "-", "quality": base}}, source="--check").data.quality


def inspect_data(
    files: dict[str, str | Path | None],
    *,
    task: str = "classification",
    quality: QualityConfig | dict[str, Any] | None = None,
    checks: list[str] | None = None,
    backbone: str | None = "minilm-l6",
    max_length: int = 128,
    seed: int = 0,
    **read_options: Any,
) -> GateResult:
    """Run the quality gate over ``files`` ({"train": path, "validation": path, "test": path})."""
    cfg = _quality(quality, checks)
    if not files.get("train"):
        raise ConfigError("give a training file to inspect")
    splits: dict[str, list[Example]] = {}
    for name in SPLITS:
        path = files.get(name)
        if path:
            splits[name] = read_examples(path, task=task, **read_options)
    return run_gate(splits, task, cfg, backbone=_backbone(backbone, max_length), seed=seed)


def clean_data(
    files: dict[str, str | Path | None],
    out: str | Path,
    *,
    task: str = "classification",
    force: bool = False,
    **options: Any,
) -> tuple[GateResult, dict[str, Path]]:
    """``inspect_data``, then write the cleaned files (same names and formats as the inputs) plus
    ``removed.jsonl``, ``changed.jsonl`` and the data report into ``out``. Written into a temporary
    folder first, so ``out`` never holds a half-written result."""
    out = Path(out)
    if out.exists() and any(out.iterdir()) and not force:
        raise ConfigError(f"output folder {out} is not empty; choose another --out or pass --force")
    result = inspect_data(files, task=task, **options)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    written: dict[str, Path] = {}
    try:
        for name, rows in result.splits.items():
            src = files.get(name)
            if not src:
                continue
            fmt = detect_format(src) if options.get("format", "auto") == "auto" else options["format"]
            target = tmp / Path(src).name
            if Path(src).name in {p.name for p in written.values()}:
                target = tmp / f"{name}{Path(src).suffix}"
            fmt = output_format(target, task, fmt if fmt in ("csv", "tsv", "jsonl", "conll") else "auto")
            write_examples(target, rows, task, fmt, label_separator=options.get("label_separator", "|"))
            written[name] = out / target.name
        result.write(tmp, title="Data report")
        replace_dir(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return result, written

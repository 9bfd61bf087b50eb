"""``RUN/manifest.json``: what a run was made from, to reproduce or audit it: SHA-256 of every data file
and of the split indices, the resolved recipe and seed, package versions, the hardware, and (once the
run has finished) the SHA-256 of every file of ``model/``."""

from __future__ import annotations

import os
import platform
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

import torch

from .io import atomic_write_json
from .train.checkpoint import sha256

PACKAGES = ("torch", "transformers", "peft", "tokenizers", "safetensors", "accelerate", "numpy", "tuneforge")


def _file(path: str | Path) -> dict[str, Any]:
    p = Path(path)
    return {"path": str(p), "sha256": sha256(p), "bytes": p.stat().st_size}


def _versions() -> dict[str, str]:
    out = {"python": sys.version.split()[0]}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def _hardware(device: torch.device) -> dict[str, Any]:
    import psutil

    info: dict[str, Any] = {
        "platform": platform.platform(),
        "machine": platform.machine(),
        "processor": platform.processor() or "unknown",
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "device": str(device),
    }
    if device.type == "cuda":
        info["gpu"] = torch.cuda.get_device_name(device)
    return info


def write_manifest(run_path: Path, recipe: Any, device: torch.device, model_dir: Path | None = None) -> None:
    data = {
        role: _file(path)
        for role, path in (
            ("train", recipe.data.train),
            ("validation", recipe.data.validation),
            ("test", recipe.data.test),
        )
        if path
    }
    manifest: dict[str, Any] = {
        "data": data,
        "splits": _file(run_path / "splits.json") if (run_path / "splits.json").is_file() else None,
        "recipe": recipe.resolved(),
        "seed": recipe.train.seed,
        "packages": _versions(),
        "hardware": _hardware(device),
    }
    if model_dir is not None and model_dir.is_dir():
        manifest["artifacts"] = {
            p.name: _file(p)["sha256"] for p in sorted(model_dir.iterdir()) if p.is_file()
        }
    atomic_write_json(run_path / "manifest.json", manifest)

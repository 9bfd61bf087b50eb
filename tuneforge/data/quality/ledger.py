"""What the quality gate found and did: findings, removed rows, changed rows.

Every row the gate drops is a ``Removal`` (file, line, split, check, reason); every edit is a
``Change`` (before/after). ``Ledger.apply`` is the only place rows leave a split, so
``kept + removed == input`` holds by construction (and is property-tested).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ...errors import DataError
from ...io import atomic_write_text
from ...types import Example


def example_record(ex: Example) -> dict[str, Any]:
    """A JSON-able view of an example: its text and label (or tokens and tags)."""
    out: dict[str, Any] = {"text": ex.text}
    if ex.tokens is not None:
        out["tokens"], out["tags"] = list(ex.tokens), list(ex.tags or ())
    elif ex.label is not None:
        out["label"] = list(ex.label) if isinstance(ex.label, tuple) else ex.label
    return out


@dataclass
class Finding:
    """One problem found: which check, how severe, where, and what (if anything) was done."""

    check: str
    message: str
    split: str = ""
    file: str = ""
    line: int = 0
    action: str = "reported"  # reported | removed | changed | flagged
    detail: dict[str, Any] = field(default_factory=dict)

    def where(self) -> str:
        return f"{self.file}:{self.line}" if self.file else self.split


@dataclass
class Removal:
    split: str
    file: str
    line: int
    check: str
    reason: str
    example: dict[str, Any]


@dataclass
class Change:
    split: str
    file: str
    line: int
    check: str
    field: str
    before: Any
    after: Any


@dataclass
class Ledger:
    """Findings, removals and changes of one gate run, in the order they happened."""

    findings: list[Finding] = field(default_factory=list)
    removed: list[Removal] = field(default_factory=list)
    changed: list[Change] = field(default_factory=list)

    def find(self, check: str, message: str, ex: Example | None = None, split: str = "", **kw: Any) -> None:
        file, line = (ex.source, ex.line) if ex is not None else ("", 0)
        self.findings.append(Finding(check, message, split, file, line, **kw))

    def change(self, split: str, ex: Example, check: str, name: str, before: Any, after: Any) -> None:
        self.changed.append(Change(split, ex.source, ex.line, check, name, before, after))

    def apply(
        self, split: str, examples: Sequence[Example], drop: dict[int, tuple[str, str]]
    ) -> list[Example]:
        """Rows of ``examples`` not in ``drop`` (index -> (check, reason)); the others are recorded."""
        kept = []
        for i, ex in enumerate(examples):
            if i in drop:
                check, reason = drop[i]
                self.removed.append(Removal(split, ex.source, ex.line, check, reason, example_record(ex)))
            else:
                kept.append(ex)
        return kept

    def counts(self) -> dict[str, dict[str, int]]:
        """Per check: how many findings, removals and changes."""
        out: dict[str, Counter[str]] = {}
        for f in self.findings:
            out.setdefault(f.check, Counter())["found"] += 1
        for r in self.removed:
            out.setdefault(r.check, Counter())["removed"] += 1
        for c in self.changed:
            out.setdefault(c.check, Counter())["changed"] += 1
        return {k: dict(v) for k, v in sorted(out.items())}

    def write(self, folder: str | Path) -> None:
        """``removed.jsonl`` and ``changed.jsonl`` (one JSON object per row), written atomically."""
        folder = Path(folder)
        for name, rows in (("removed.jsonl", self.removed), ("changed.jsonl", self.changed)):
            text = "".join(json.dumps(asdict(r), ensure_ascii=False) + "\n" for r in rows)
            atomic_write_text(folder / name, text)


def fail(check: str, findings: Sequence[Finding], hint: str) -> DataError:
    """The DataError of a check in ``fail`` mode: the first rows it found, and how to go on."""
    first = findings[0]
    more = f" ({len(findings) - 1} more rows like it)" if len(findings) > 1 else ""
    return DataError(
        f"data quality check '{check}' failed: {first.message}{more}",
        file=first.file or None,
        line=first.line or None,
        hint=f"{hint}; or set data.quality.{check} to warn or fix",
    )

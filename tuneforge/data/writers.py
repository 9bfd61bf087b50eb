"""Write examples back to the formats tuneforge reads: csv, tsv, jsonl, conll (and bmes as conll).

Every writer is atomic (temporary file, then rename) and round-trips through ``read_examples``:
``read_examples(write_examples(path, examples, task))`` gives the same texts, labels, tokens and tags.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from ..io import atomic_write_text
from ..types import Example

WRITABLE = ("csv", "tsv", "jsonl", "conll")
_EXTENSIONS = {".csv": "csv", ".tsv": "tsv", ".tab": "tsv", ".jsonl": "jsonl", ".json": "jsonl"}


def output_format(path: str | Path, task: str, format: str = "auto") -> str:
    """The format to write ``path`` in: explicit, else from the extension, else the task's default."""
    if format != "auto":
        fmt = "conll" if format == "bmes" else format
        if fmt not in WRITABLE:
            raise ConfigError(f"cannot write format {format!r}; choose one of {', '.join(WRITABLE)}")
        return fmt
    suffix = Path(path).suffix.lower()
    if task == "ner":
        return "jsonl" if suffix in (".jsonl", ".json") else "conll"
    return _EXTENSIONS.get(suffix, "csv")


def _label_cell(label: Any, separator: str) -> str:
    if label is None:
        return ""
    return separator.join(label) if isinstance(label, tuple | list) else str(label)


def _delimited(examples: Iterable[Example], delimiter: str, separator: str, extra: str | None) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=delimiter, lineterminator="\n")
    writer.writerow(["text", "label"] + ([extra] if extra else []))
    for ex in examples:
        row = [ex.text, _label_cell(ex.label, separator)]
        writer.writerow(row + ([ex.group or ""] if extra else []))
    return buf.getvalue()


def _jsonl(examples: Iterable[Example], task: str, extra: str | None) -> str:
    lines = []
    for ex in examples:
        if task == "ner":
            obj: dict[str, Any] = {"tokens": list(ex.tokens or ()), "tags": list(ex.tags or ())}
        elif task == "multilabel":
            obj = {"text": ex.text, "labels": list(ex.label or ())}
        else:
            obj = {"text": ex.text, "label": ex.label}
        if extra:
            obj[extra] = ex.group
        lines.append(json.dumps(obj, ensure_ascii=False) + "\n")
    return "".join(lines)


def _conll(examples: Iterable[Example]) -> str:
    """Sentences separated by blank lines; a ``-DOCSTART-`` line opens each document the reader found
    (groups ``doc-<n>``), so documents survive a round trip."""
    blocks, group = [], None
    for ex in examples:
        if ex.group and ex.group.startswith("doc-") and ex.group != group:
            blocks.append("-DOCSTART- O\n")
        group = ex.group
        tags = ex.tags or ("O",) * len(ex.tokens or ())
        blocks.append("".join(f"{tok} {tag}\n" for tok, tag in zip(ex.tokens or (), tags, strict=True)))
    return "\n".join(blocks)


def render_examples(
    examples: Sequence[Example],
    task: str,
    format: str,
    *,
    label_separator: str = "|",
    group_column: str | None = None,
) -> str:
    """The text of a file holding ``examples`` in ``format`` (csv, tsv, jsonl or conll)."""
    if format == "conll":
        if task != "ner":
            raise ConfigError("the conll format holds token tags; write classification data as csv or jsonl")
        return _conll(examples)
    if task == "ner" and format != "jsonl":
        raise ConfigError(f"NER examples are written as conll or jsonl, not {format}")
    if format == "jsonl":
        return _jsonl(examples, task, group_column)
    return _delimited(examples, "," if format == "csv" else "\t", label_separator, group_column)


def write_examples(
    path: str | Path,
    examples: Sequence[Example],
    task: str,
    format: str = "auto",
    *,
    label_separator: str = "|",
    group_column: str | None = None,
) -> Path:
    """Write ``examples`` atomically to ``path``; the format follows the extension unless given."""
    path = Path(path)
    fmt = output_format(path, task, format)
    text = render_examples(examples, task, fmt, label_separator=label_separator, group_column=group_column)
    atomic_write_text(path, text)
    return path

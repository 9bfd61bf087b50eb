"""Evaluation reports: render an :class:`EvalResult` as Markdown and save/load it with its JSON twin."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tuneforge.io import atomic_write_json, atomic_write_text
from tuneforge.types import EvalResult

MAX_MATRIX_LABELS = 20  # above this many classes, list the most confused pairs instead of the matrix
TOP_CONFUSIONS = 20
AVERAGE_ROWS = ("micro", "macro", "weighted", "samples")


# --------------------------------------------------------------------------- formatting helpers


def _cell(value: Any) -> str:
    """One Markdown table cell: pipes escaped, newlines flattened."""
    return str(value).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def _score(value: Any) -> str:
    return f"{value:.4f}" if isinstance(value, float | int) and not isinstance(value, bool) else _cell(value)


def _plain(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    return _cell(value)


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """Markdown table: first column left-aligned, the rest right-aligned. Cells must be escaped already."""
    lines = ["| " + " | ".join(_cell(h) for h in headers) + " |"]
    lines.append("|" + "|".join([":---"] + ["---:"] * (len(headers) - 1)) + "|")
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def _section(title: str, body: list[str]) -> list[str]:
    return [f"## {title}", "", *body, ""]


# --------------------------------------------------------------------------- sections


def _extra_lines(extra: dict[str, Any]) -> list[str]:
    return _table(["Key", "Value"], [[_cell(k), _plain(v)] for k, v in extra.items()])


def _metric_lines(result: EvalResult) -> list[str]:
    primary = result.report.get("primary_metric")
    rows = []
    for name, value in result.metrics.items():
        label = f"**{_cell(name)}** (primary)" if name == primary else _cell(name)
        rows.append([label, _score(value)])
    return _table(["Metric", "Value"], rows)


def _prf_lines(report: dict[str, Any], label_header: str = "Label") -> list[str]:
    """Per-class precision/recall/F1/support rows, then one row per average present in ``report``."""
    per_class = report.get("per_class", {})
    labels = report.get("labels") or list(per_class)
    rows = []
    for label in labels:
        if label in per_class:
            row = per_class[label]
            rows.append(
                [_cell(label), *(_score(row[k]) for k in ("precision", "recall", "f1")), str(row["support"])]
            )
    for avg in AVERAGE_ROWS:
        if avg in report:
            row = report[avg]
            rows.append(
                [
                    f"*{avg} avg*",
                    *(_score(row[k]) for k in ("precision", "recall", "f1")),
                    str(row["support"]),
                ]
            )
    return _table([label_header, "Precision", "Recall", "F1", "Support"], rows)


def _matrix_lines(labels: Sequence[str], matrix: Sequence[Sequence[int]]) -> list[str]:
    headers = ["true \\ predicted", *labels]
    rows = [[_cell(label), *(str(c) for c in counts)] for label, counts in zip(labels, matrix, strict=True)]
    return _table(headers, rows)


def _confused_pairs(
    labels: Sequence[str], matrix: Sequence[Sequence[int]], top: int
) -> list[tuple[str, str, int]]:
    """Off-diagonal (true, predicted, count) cells, most frequent first, ties in label order."""
    pairs = [
        (-count, i, j)
        for i, counts in enumerate(matrix)
        for j, count in enumerate(counts)
        if i != j and count > 0
    ]
    return [(labels[i], labels[j], -neg) for neg, i, j in sorted(pairs)[:top]]


def _confusion_lines(report: dict[str, Any]) -> list[str]:
    labels, matrix = report.get("labels", []), report.get("confusion_matrix")
    if not matrix or not labels:
        return []
    if len(labels) <= MAX_MATRIX_LABELS:
        return _section(
            "Confusion matrix",
            ["Rows: true class; columns: predicted class.", "", *_matrix_lines(labels, matrix)],
        )
    pairs = _confused_pairs(labels, matrix, TOP_CONFUSIONS)
    body = [
        f"{len(labels)} classes: the {TOP_CONFUSIONS} most frequent confusions instead of the full matrix.",
        "",
    ]
    if pairs:
        body += _table(["True", "Predicted", "Count"], [[_cell(t), _cell(p), str(c)] for t, p, c in pairs])
    else:
        body.append("No confusions.")
    return _section(f"Top {TOP_CONFUSIONS} confusions", body)


def _task_lines(result: EvalResult) -> list[str]:
    report = result.report
    if result.task == "ner":
        lines = _section("Entity-level scores (strict IOB2)", _prf_lines(report, "Entity type"))
        if "token" in report:
            lines += _section("Token-level scores", _prf_lines(report["token"], "Tag"))
        if "accuracy" in report:
            lines += [f"Token accuracy: {_score(report['accuracy'])}", ""]
        return lines
    if "per_class" not in report:
        return []
    lines = _section("Per-class scores", _prf_lines(report))
    for key, name in (
        ("accuracy", "Accuracy"),
        ("subset_accuracy", "Subset accuracy"),
        ("hamming_loss", "Hamming loss"),
    ):
        if key in report:
            lines.append(f"{name}: {_score(report[key])}")
    lines.append("")
    if result.task == "classification":
        lines += _confusion_lines(report)
    return lines


# --------------------------------------------------------------------------- public API


def render_markdown(result: EvalResult, title: str = "Evaluation report", extra: dict | None = None) -> str:
    """Markdown report: ``extra`` key/value table, headline metrics, per-class tables, confusions."""
    lines = [f"# {title}", ""]
    if extra:
        lines += _extra_lines(extra) + [""]
    lines += [f"Task: {_cell(result.task)}", ""]
    lines += _section("Metrics", _metric_lines(result))
    lines += _task_lines(result)
    while lines and lines[-1] == "":
        lines.pop()
    return "\n".join(lines) + "\n"


def _jsonable(obj: Any) -> Any:
    """``obj`` as plain JSON data (paths, numpy scalars and other oddities become numbers or strings)."""
    return json.loads(json.dumps(obj, default=_json_default))


def _json_default(value: Any) -> Any:
    if hasattr(value, "item") and callable(value.item):  # numpy scalars
        return value.item()
    if hasattr(value, "tolist") and callable(value.tolist):  # numpy arrays
        return value.tolist()
    if isinstance(value, set | frozenset):
        return sorted(value, key=str)
    return str(value)


def write_report(
    result: EvalResult,
    out_dir: str | Path,
    title: str = "Evaluation report",
    extra: dict | None = None,
    stem: str = "report",
) -> tuple[Path, Path]:
    """Write ``<stem>.md`` and ``<stem>.json`` into ``out_dir`` atomically; return ``(md_path, json_path)``.

    Both texts are built before anything is written, so a result that cannot be serialised writes nothing.
    """
    out_dir = Path(out_dir)
    payload = _jsonable(
        {"task": result.task, "metrics": result.metrics, "report": result.report, "extra": extra or {}}
    )
    md_text = render_markdown(result, title=title, extra=extra)
    md_path, json_path = out_dir / f"{stem}.md", out_dir / f"{stem}.json"
    atomic_write_json(json_path, payload)
    atomic_write_text(md_path, md_text)
    return md_path, json_path


def load_report(path: str | Path) -> EvalResult:
    """Read a report written by :func:`write_report`: its ``.json``, its ``.md`` twin, or the folder."""
    path = Path(path)
    if path.is_dir():
        path = path / "report.json"
    elif path.suffix == ".md":
        path = path.with_suffix(".json")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: not a JSON report ({exc})") from exc
    if not isinstance(data, dict) or not isinstance(data.get("metrics"), dict) or "task" not in data:
        raise ValueError(f"{path}: not an evaluation report (needs 'task' and 'metrics')")
    return EvalResult(task=data["task"], metrics=data["metrics"], report=data.get("report") or {})

"""``data_report.md`` / ``.json`` / ``.html`` and their plots (SVG, drawn here: no plotting library).

The report says, per check, what was found and done, with examples of each finding, then the label
distribution, class balance, text lengths, tokenizer coverage and (NER) entity statistics.
"""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ...io import atomic_write_text

if TYPE_CHECKING:
    from .gate import GateResult

EXAMPLES_PER_CHECK = 10
_BAR = "#4C78A8"


def bar_chart_svg(labels: Sequence[str], values: Sequence[float], title: str, width: int = 640) -> str:
    """Horizontal bars, one per label (at most 40, largest first)."""
    pairs = sorted(zip(labels, values, strict=True), key=lambda p: -p[1])[:40]
    row, left, top = 16, 180, 28
    height = top + row * len(pairs) + 12
    peak = max((v for _, v in pairs), default=1) or 1
    parts = [_svg_head(width, height, title)]
    for k, (lab, val) in enumerate(pairs):
        y = top + k * row
        w = (width - left - 60) * val / peak
        parts.append(
            f'<text x="{left - 6}" y="{y + 11}" text-anchor="end" font-size="11">{html.escape(str(lab)[:28])}</text>'
            f'<rect x="{left}" y="{y + 2}" width="{w:.1f}" height="{row - 4}" fill="{_BAR}"/>'
            f'<text x="{left + w + 4:.1f}" y="{y + 11}" font-size="11">{val:g}</text>'
        )
    return "".join(parts) + "</svg>\n"


def histogram_svg(
    counts: Sequence[int], edges: Sequence[int], title: str, unit: str, width: int = 640
) -> str:
    """Vertical bars of a histogram with its bin edges on the x axis."""
    height, left, bottom, top = 240, 40, 36, 28
    peak = max(counts, default=1) or 1
    n = max(len(counts), 1)
    bar = (width - left - 10) / n
    parts = [_svg_head(width, height, title)]
    for k, c in enumerate(counts):
        h = (height - top - bottom) * c / peak
        x, y = left + k * bar, height - bottom - h
        parts.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar - 1:.1f}" height="{h:.1f}" fill="{_BAR}">'
            f"<title>{edges[k]}-{edges[k + 1] - 1} {unit}: {c}</title></rect>"
        )
    step = max(1, n // 10)
    for k in range(0, len(edges), step):
        parts.append(
            f'<text x="{left + k * bar:.1f}" y="{height - bottom + 14}" font-size="10" '
            f'text-anchor="middle">{edges[k]}</text>'
        )
    parts.append(
        f'<text x="{width / 2:.0f}" y="{height - 6}" font-size="11" text-anchor="middle">{unit}</text>'
        f'<text x="4" y="{top + 10}" font-size="10">{peak}</text>'
    )
    return "".join(parts) + "</svg>\n"


def _svg_head(width: int, height: int, title: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'font-family="sans-serif"><rect width="100%" height="100%" fill="white"/>'
        f'<text x="8" y="18" font-size="13" font-weight="bold">{html.escape(title)}</text>'
    )


def _plots(result: GateResult) -> dict[str, str]:
    train = result.stats["splits"].get("train", {})
    labels = train.get("labels", {})
    what = "entities per type" if result.stats.get("task") == "ner" else "examples per label"
    hist = train.get("length", {}).get("histogram", {"counts": [], "edges": []})
    unit = train.get("length", {}).get("unit", "words")
    return {
        "label_distribution.svg": bar_chart_svg(list(labels), list(labels.values()), f"Training {what}"),
        "length_histogram.svg": histogram_svg(
            hist["counts"], hist["edges"], f"Training text length ({unit})", unit
        ),
    }


def _summary_rows(result: GateResult) -> list[str]:
    counts = result.ledger.counts()
    rows = ["| check | mode | found | removed | changed |", "| --- | --- | --- | --- | --- |"]
    for check, c in counts.items():
        mode = str(getattr(result_cfg(result), check, "")) if result_cfg(result) else ""
        rows.append(
            f"| {check} | {mode} | {c.get('found', 0)} | {c.get('removed', 0)} | {c.get('changed', 0)} |"
        )
    return rows if counts else ["No problems found."]


def result_cfg(result: GateResult) -> Any:
    return result.stats.get("_config")


def render_markdown(result: GateResult, title: str) -> str:
    lines = [f"# {title}", "", "## Checks", "", *_summary_rows(result), ""]
    lines += [
        "## Splits",
        "",
        "| split | rows in | rows out | labels | mean length |",
        "| --- | --- | --- | --- | --- |",
    ]
    for name, s in result.stats["splits"].items():
        lines.append(
            f"| {name} | {s['rows_in']} | {s['rows_out']} | {len(s['labels'])} | {s['length']['mean']} {s['length']['unit']} |"
        )
    train = result.stats["splits"].get("train", {})
    if train.get("balance"):
        b = train["balance"]
        lines += [
            "",
            f"Class balance (train): {b['classes']} classes; largest {b['largest']!r} ({b['largest_count']}), "
            f"smallest {b['smallest']!r} ({b['smallest_count']}); ratio {b['imbalance_ratio']}; "
            f"normalised entropy {b['normalized_entropy']}.",
        ]
    lines += [
        "",
        "![label distribution](label_distribution.svg)",
        "",
        "![length histogram](length_histogram.svg)",
        "",
    ]
    lines += _coverage_lines(result) + _entity_lines(result) + _finding_lines(result)
    return "\n".join(lines) + "\n"


def _coverage_lines(result: GateResult) -> list[str]:
    cover = result.stats.get("coverage")
    if not cover:
        return []
    lines = [
        "## Tokenizer coverage",
        "",
        "| split | unknown tokens | rows with unknown | most frequent unknown |",
    ]
    lines.append("| --- | --- | --- | --- |")
    for name, c in cover.items():
        top = ", ".join(f"`{s}` ({n})" for s, n in c["top_unknown"][:6]) or "-"
        lines.append(f"| {name} | {100 * c['unknown_share']:.2f}% | {c['examples_with_unknown']} | {top} |")
    return lines + [""]


def _entity_lines(result: GateResult) -> list[str]:
    train = result.stats["splits"].get("train", {})
    ent = train.get("entities")
    if not ent:
        return []
    lines = [
        "## Entities (train)",
        "",
        f"{ent['entities']} entities; {ent['sentences_without_entities']} sentences without one.",
        "",
    ]
    lines += ["| type | count | mean tokens |", "| --- | --- | --- |"]
    lines += [f"| {t} | {v['count']} | {v['mean_tokens']} |" for t, v in ent["per_type"].items()]
    return lines + [""]


def _finding_lines(result: GateResult) -> list[str]:
    by_check: dict[str, list[Any]] = {}
    for f in result.ledger.findings:
        by_check.setdefault(f.check, []).append(f)
    lines = ["## Findings", ""] if by_check else []
    for check, found in by_check.items():
        lines += [f"### {check} ({len(found)})", ""]
        for f in found[:EXAMPLES_PER_CHECK]:
            where = f.where() or "-"
            lines.append(f"- `{where}` [{f.action}] {f.message}")
        if len(found) > EXAMPLES_PER_CHECK:
            lines.append(f"- ... {len(found) - EXAMPLES_PER_CHECK} more in data_report.json")
        lines.append("")
    return lines


def render_html(markdown_text: str, plots: dict[str, str], title: str) -> str:
    """A self-contained page: the plots inline, the rest as preformatted Markdown."""
    body = markdown_text
    for name in plots:
        alt = name.removesuffix(".svg").replace("_", " ")
        body = body.replace(f"![{alt}]({name})", f"\x00{name}\x00")
    parts = []
    for k, chunk in enumerate(body.split("\x00")):
        parts.append(plots[chunk] if k % 2 else f"<pre>{html.escape(chunk)}</pre>")
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        "<style>body{font-family:sans-serif;max-width:60em;margin:2em auto}pre{white-space:pre-wrap}</style>"
        f"</head><body>{''.join(parts)}</body></html>\n"
    )


def report_json(result: GateResult) -> dict[str, Any]:
    stats = {k: v for k, v in result.stats.items() if not k.startswith("_")}
    cfg = result_cfg(result)
    return {
        "config": cfg.model_dump(mode="json") if cfg is not None else None,
        "checks": result.ledger.counts(),
        "stats": stats,
        "findings": [asdict(f) for f in result.ledger.findings],
        "removed": len(result.ledger.removed),
        "changed": len(result.ledger.changed),
    }


def write_data_report(result: GateResult, folder: str | Path, title: str = "Data report") -> None:
    folder = Path(folder)
    plots = _plots(result)
    for name, svg in plots.items():
        atomic_write_text(folder / name, svg)
    text = render_markdown(result, title)
    atomic_write_text(folder / "data_report.md", text)
    atomic_write_text(
        folder / "data_report.json",
        json.dumps(report_json(result), indent=1, ensure_ascii=False, default=str) + "\n",
    )
    atomic_write_text(folder / "data_report.html", render_html(text, plots, title))

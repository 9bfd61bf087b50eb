"""``selection.md``: the candidates ranked, the Pareto front of score against latency, and the pick."""

from __future__ import annotations

from typing import Any


def pareto_front(rows: list[dict[str, Any]]) -> list[str]:
    """Names of the candidates no other candidate beats on both validation score (higher) and
    inference latency (lower); only candidates with a stage-2 score take part."""
    scored = [r for r in rows if r.get("score") is not None]
    front = []
    for r in scored:
        dominated = any(
            o["score"] >= r["score"]
            and o["latency_ms"] <= r["latency_ms"]
            and (o["score"] > r["score"] or o["latency_ms"] < r["latency_ms"])
            for o in scored
        )
        if not dominated:
            front.append(r["name"])
    return front


def _fmt(value: Any, pattern: str = "{:.4f}") -> str:
    return "-" if value is None else pattern.format(value)


def _ranked(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(
        rows,
        key=lambda r: (not r.get("pick"), -r.get("rounds", 0), -(r.get("score") or -1e9), r["stage1_rank"]),
    )


def render_markdown(data: dict[str, Any]) -> str:
    rows = _ranked(data["candidates"])
    estimators = list(rows[0]["estimates"]) if rows else []
    n_moved = data.get("validation_moved_from_train", 0)
    moved = (
        f" ({n_moved} of the validation examples held out of the training split for the selection)"
        if n_moved
        else ""
    )
    lines = [
        "# Model selection",
        "",
        f"**Pick: {data['pick']}** ({data['why']}).",
        "",
        f"Task {data['task']}; {data['train_examples']} training and {data['validation_examples']} validation "
        f"examples{moved}; scores are validation {data['metric']}. Budget {data['budget_seconds']:.0f}s, used "
        f"{data['seconds']:.0f}s (stage 1: {data['stage1_seconds']:.0f}s). Stage 2 ordered candidates by the "
        f"stage-1 `{data['estimator']}` estimate and kept the best 1/{data['eta']} after each round.",
        "",
        "| candidate | "
        + " | ".join(f"stage 1 {e}" for e in estimators)
        + " | stage 2 score | rounds | train s | latency ms | parameters | trainable | Pareto |",
        "| --- | " + " | ".join("---" for _ in estimators) + " | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in rows:
        name = f"**{r['name']}**" if r.get("pick") else r["name"]
        est = " | ".join(_fmt(r["estimates"].get(e)) for e in estimators)
        trainable = r.get("trainable_parameters")
        share = f"{100 * trainable / r['parameters']:.2f}%" if trainable and r["parameters"] else "-"
        lines.append(
            f"| {name} | {est} | {_fmt(r.get('score'))} | {r.get('rounds', 0)} | {_fmt(r['train_seconds'], '{:.0f}')} "
            f"| {_fmt(r['latency_ms'], '{:.1f}')} | {r['parameters'] / 1e6:.1f}M | {share} "
            f"| {'yes' if r.get('pareto') else ''} |"
        )
    failed = [r for r in rows if r.get("error")]
    if failed:
        lines += ["", "Failed candidates:", ""] + [f"- {r['name']}: {r['error']}" for r in failed]
    lines += [
        "",
        "Stage 2 score: the best validation score of the last round the candidate reached (candidates "
        "dropped in earlier rounds trained for less time). Latency: one example at a time on the CPU, "
        "median of 16 (the trained model where stage 2 ran, else the frozen backbone). Train s: training "
        "time summed over the candidate's rounds.",
        "",
        f"Train the pick: `tuneforge run RECIPE --selection {data.get('folder', 'SELECTION_FOLDER')}` "
        f"or `tuneforge run {data['best_recipe']}`.",
        "",
    ]
    return "\n".join(lines)

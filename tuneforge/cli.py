"""The ``tuneforge`` command: thin typer commands over the public functions."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from .errors import TuneforgeError

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="Fine-tune a pretrained language model on your labelled data; evaluate and predict.",
)
data_app = typer.Typer(
    no_args_is_help=True, help="Data tools: inspect, clean, split, augment; write the demo datasets."
)
app.add_typer(data_app, name="data")
models_app = typer.Typer(no_args_is_help=True, help="The backbones tuneforge can use offline.")
app.add_typer(models_app, name="models")
bench_app = typer.Typer(no_args_is_help=True, help="Measure choices on your own data.")
app.add_typer(bench_app, name="bench")
label_app = typer.Typer(
    no_args_is_help=True, help="Labelling: suggest texts to annotate, import and export annotations."
)
app.add_typer(label_app, name="label")
err = Console(stderr=True)
out = Console()


@app.command("run")
def run_cmd(
    recipe: Annotated[Path, typer.Argument(help="recipe YAML file")],
    overrides: Annotated[
        list[str] | None, typer.Argument(help="key.path=value overrides, e.g. train.lr=3e-5")
    ] = None,
    resume: Annotated[
        bool, typer.Option(help="continue an interrupted run in the same output folder")
    ] = False,
    force: Annotated[bool, typer.Option(help="replace a non-empty output folder")] = False,
    quiet: Annotated[bool, typer.Option(help="no progress bar")] = False,
    selection: Annotated[
        Path | None,
        typer.Option(help="use the backbone and method that `tuneforge select` picked (its folder or json)"),
    ] = None,
) -> None:
    """Fine-tune as RECIPE says; writes a run directory with model, metrics and reports."""
    from .config import load_recipe
    from .pipeline import run

    spec = load_recipe(recipe, overrides or [])
    if selection is not None:
        from .select.selection import apply_selection

        spec = apply_selection(spec, selection)
        out.print(f"selection {selection}: backbone {spec.backbone}, method {spec.method.name}")
    run_dir = run(spec, resume=resume, force=force, quiet=quiet)
    _print_summary(run_dir.path)


@app.command("select")
def select_cmd(
    recipe: Annotated[Path, typer.Argument(help="recipe YAML file (its select: section, if any, is used)")],
    overrides: Annotated[list[str] | None, typer.Argument(help="key.path=value overrides")] = None,
    budget: Annotated[
        str | None, typer.Option(help="time budget of the whole selection: 90s, 20m, 1h")
    ] = None,
    backbones: Annotated[
        str | None, typer.Option(help="comma-separated backbones (default: recipe's + packaged encoders)")
    ] = None,
    methods: Annotated[str | None, typer.Option(help="comma-separated methods (default: full,lora)")] = None,
    out_dir: Annotated[
        Path | None, typer.Option("--out", help="selection folder (default: OUTPUT-select)")
    ] = None,
) -> None:
    """Rank (backbone x method) candidates on RECIPE's data within a budget: frozen-feature estimates,
    then successive halving with short fine-tuning runs. Writes selection.md/json and best_recipe.yaml."""
    from rich.table import Table

    from .select.selection import select

    split = lambda v: [x.strip() for x in v.split(",") if x.strip()] if v else None  # noqa: E731
    result = select(
        recipe, overrides or [], budget=budget, backbones=split(backbones), methods=split(methods),
        out=out_dir, say=lambda m: err.print(m, highlight=False),
    )  # fmt: skip
    table = Table("candidate", "probe", "knn", "logme", "score", "rounds", "train s", "latency ms", "Pareto")
    for row in sorted(result.rows, key=lambda r: (not r["pick"], -r["rounds"], -(r["score"] or -1e9))):
        est = row["estimates"]
        table.add_row(
            f"[bold]{row['name']}[/bold]" if row["pick"] else row["name"],
            *(f"{est[k]:.4f}" if k in est else "-" for k in ("probe", "knn", "logme")),
            "-" if row["score"] is None else f"{row['score']:.4f}", str(row["rounds"]),
            f"{row['train_seconds']:.0f}", f"{row['latency_ms']:.1f}", "yes" if row["pareto"] else "",
        )  # fmt: skip
    out.print(table)
    out.print(
        f"pick: [bold]{result.pick}[/bold] in {result.seconds:.0f}s of a {result.budget_seconds:.0f}s budget; "
        f"report {result.folder / 'selection.md'}; train it: tuneforge run {recipe} --selection {result.folder}"
    )


@app.command("tune")
def tune_cmd(
    recipe: Annotated[Path, typer.Argument(help="recipe YAML file (its tune: section, if any, is used)")],
    overrides: Annotated[list[str] | None, typer.Argument(help="key.path=value overrides")] = None,
    trials: Annotated[
        int | None, typer.Option(min=1, help="finished trials to reach (default: tune.trials, 20)")
    ] = None,
    out_dir: Annotated[
        Path | None, typer.Option("--out", help="study folder (default: tune.output or OUTPUT-tune)")
    ] = None,
    pruner: Annotated[
        str | None, typer.Option(help="median, halving or none (default: tune.pruner, median)")
    ] = None,
    timeout: Annotated[
        str | None, typer.Option(help="start no new trial after this long: 90s, 30m, 2h")
    ] = None,
    backend: Annotated[str, typer.Option(help="optuna (this process) or ray (Ray Tune)")] = "optuna",
    resume: Annotated[
        bool, typer.Option(help="continue the study already in the folder (--no-resume: refuse to)")
    ] = True,
    quiet: Annotated[bool, typer.Option(help="no line per trial")] = False,
) -> None:
    """Search hyper-parameters of RECIPE with Optuna (TPE, pruning on the per-epoch validation metric);
    the study is resumable (OUT/study.db). Writes tuning.md/json and best_recipe.yaml."""
    from rich.table import Table

    from .select.tune import tune

    result = tune(
        recipe, overrides or [], trials=trials, out=out_dir, pruner=pruner, timeout=timeout,
        backend=backend, resume=resume, quiet=quiet,
    )  # fmt: skip
    keys = list(result.best_params) or sorted({k for r in result.trials for k in r["params"]})
    short = [k.rsplit(".", 1)[-1] for k in keys]  # lr, r, dropout; the full key where two would clash
    heads = [s if short.count(s) == 1 else k for s, k in zip(short, keys, strict=True)]
    table = Table("trial", "state", result.metric, "s", *heads)
    for column in table.columns:
        column.min_width = len(str(column.header))
    for row in result.trials:
        best = row["number"] == result.best_trial
        value = "-" if row["value"] is None else f"{row['value']:.4f}"
        cells = [str(row["number"]), row["state"].lower(), value, _short(row["seconds"])]
        cells += [_short(row["params"].get(k)) for k in keys]
        table.add_row(*(f"[bold]{c}[/bold]" for c in cells) if best else cells)
    wide = out.measure(table, options=out.options.update(max_width=1000)).maximum
    out.print(table, width=max(out.width, wide), crop=False)  # every column whole, also when narrow
    if result.best_recipe is None:
        out.print(f"no trial finished; see {result.out / 'tuning.md'}")
        return
    out.print(
        f"best: trial {result.best_trial}, {result.metric}={result.best_value:.4f}; report "
        f"{result.out / 'tuning.md'}; train it: tuneforge run {result.best_recipe}",
        soft_wrap=True,
    )


def _short(value) -> str:
    return "-" if value is None else f"{value:.3g}" if isinstance(value, float) else str(value)


def _print_summary(path: Path) -> None:
    from .rundir import RunDir

    summary = RunDir(path).read_summary()
    for split, metrics in summary.get("metrics", {}).items():
        shown = ", ".join(f"{k}={v:.4f}" for k, v in metrics.items())
        out.print(f"[bold]{split}[/bold]: {shown}")
    if summary:
        out.print(
            f"trained {summary['steps']} steps in {summary['train_seconds']:.1f}s "
            f"({summary['train_samples_per_second']:.1f} samples/s); run directory: {path}"
        )


@app.command("predict")
def predict_cmd(
    run: Annotated[Path, typer.Argument(help="run directory, its model/ folder, or an ensemble directory")],
    input: Annotated[
        str, typer.Argument(help="input file (csv/tsv/jsonl/conll/text lines) or - for stdin")
    ] = "-",
    also: Annotated[
        list[Path] | None,
        typer.Option("--also", help="more runs on the same backbone and method: predict with each adapter"),
    ] = None,
    output: Annotated[
        Path | None, typer.Option("--out", "-o", help="write JSONL here instead of stdout")
    ] = None,
    text_column: Annotated[str, typer.Option(help="column with the text (csv/tsv/jsonl)")] = "auto",
    format: Annotated[str, typer.Option(help="auto, csv, tsv, jsonl, conll, bmes, lines")] = "auto",
    batch_size: Annotated[int, typer.Option(min=1)] = 64,
) -> None:
    """Predict labels/probabilities or entity spans; one JSON object per input line."""
    from .data.readers import read_texts
    from .io import atomic_write_text

    if input == "-":
        raw: list = [line.rstrip("\n") for line in sys.stdin if line.strip()]
    else:
        raw = read_texts(input, format=format, text_column=text_column)
    lines = []
    if also:
        from .adapter_set import AdapterSet

        adapters = AdapterSet([run, *also])
        results = {}
        for name, member in adapters.members.items():
            texts = _inputs_for(raw, member.task.name)
            results[name] = [p.to_dict() for p in adapters.predict(texts, name, batch_size)]
        for i, item in enumerate(raw):
            text = item if isinstance(item, str) else item.text
            row = {"text": text, **{name: preds[i] for name, preds in results.items()}}
            lines.append(json.dumps(row, ensure_ascii=False))
    else:
        from . import load

        predictor: Any = load(run)  # a run, a model folder or an ensemble directory
        task = predictor.task if isinstance(predictor.task, str) else predictor.task.name
        texts = _inputs_for(raw, task)
        preds = predictor.predict(texts, batch_size=batch_size)
        for item, pred in zip(texts, preds, strict=True):
            text = item if isinstance(item, str) else item.text
            lines.append(json.dumps({"text": text, **pred.to_dict()}, ensure_ascii=False))
    body = "".join(line + "\n" for line in lines)
    if output:
        atomic_write_text(output, body)
        err.print(f"wrote {len(lines)} predictions to {output}")
    else:
        sys.stdout.write(body)


@models_app.command("list")
def models_list_cmd() -> None:
    """The registered backbones with their size; any local Hugging Face model folder works too."""
    from rich.table import Table

    from .models.catalog import catalog
    from .models.packaged import cache_root

    models = catalog()
    table = Table(
        "name", "kind", "params", "layers", "hidden", "max len", "languages", "licence", "LoRA targets"
    )
    table.columns[0].no_wrap = True
    table.columns[0].min_width = max(len(m["name"]) for m in models)
    for m in models:
        if "missing" in m:
            table.add_row(m["name"], "-", "not installed", "-", "-", "-", "-", "-", "-")
            continue
        table.add_row(
            m["name"], m["kind"], f"{m['parameters'] / 1e6:.1f}M", str(m["layers"]), str(m["hidden_size"]),
            str(m["max_length"]), ", ".join(m["languages"]), m["license"], ", ".join(m["lora_targets"]),
        )  # fmt: skip
    out.print(table)
    pending = [m["name"] for m in models if m.get("converted") is False]
    if pending:
        out.print(f"converted once on first use, into {cache_root() / 'models'}: {', '.join(pending)}")
    out.print(
        "details: tuneforge models info NAME; a local Hugging Face model folder, or a hub id when online "
        "(or already in the Hugging Face cache), works as a backbone too"
    )


@models_app.command("info")
def models_info_cmd(
    name: Annotated[str, typer.Argument(help="registry name, local model folder or hub id")],
) -> None:
    """Everything tuneforge knows about one backbone, as JSON."""
    from .models.catalog import describe

    out.print_json(json.dumps(describe(name)))


@bench_app.command("methods")
def bench_methods_cmd(
    recipe: Annotated[Path, typer.Argument(help="recipe YAML file (its method is ignored)")],
    methods: Annotated[
        str | None,
        typer.Option(help="comma-free list: 'lora adapter prompt:virtual_tokens=8' (default: all)"),
    ] = None,
    seeds: Annotated[str, typer.Option(help="seeds, e.g. '1 2 3'")] = "1 2 3",
    output: Annotated[
        Path | None, typer.Option("--out", "-o", help="folder for the runs and the table")
    ] = None,
    keep_lr: Annotated[bool, typer.Option(help="use the recipe's train.lr for every method")] = False,
) -> None:
    """Run every chosen method on RECIPE's data with the same seeds; print and save one table."""
    from .compare import compare_methods

    chosen = methods.split() if methods else None
    try:
        seed_list = [int(s) for s in seeds.split()]
    except ValueError:
        raise typer.BadParameter(f"--seeds must be integers separated by spaces, not {seeds!r}") from None
    result = compare_methods(recipe, chosen, seed_list, output, keep_lr=keep_lr, quiet=True)
    out.print(result["table"])
    err.print(f"runs and methods.md/json in {result['output']}")


@app.command("merge")
def merge_cmd(
    run: Annotated[Path, typer.Argument(help="run directory (or its model/ folder)")],
    output: Annotated[Path, typer.Option("--out", "-o", help="folder for the merged model")],
) -> None:
    """Fold LoRA / AdaLoRA / IA3 (or BitFit, LayerNorm, partial) weights into a plain full model
    (the same as `tuneforge export RUN --format merged`)."""
    _export(run, "merged", output)


def _export(run: Path, fmt: str, output: Path, **options) -> None:
    from .export.exporter import export_run
    from .predictor import model_dir_of

    parity = export_run(model_dir_of(run), fmt, output, message=err.print, **options)
    extra = f", entity spans {parity.span_agreement:.4f}" if parity.span_agreement is not None else ""
    out.print(
        f"{fmt} model written to {output}; parity on {parity.examples} held-out examples ({parity.source}): "
        f"agreement {parity.agreement:.4f}{extra}, largest probability difference {parity.max_prob_diff:.1e}"
    )
    q = parity.quantization
    if q:
        kept = q["fp32_nodes"]
        out.print(
            f"int8 search on {q['examples']} examples ({q['source']}): target {q['target']}, estimated "
            f"agreement {q['estimated_agreement']:.4f} ({q['confidence']:.0%} lower bound "
            f"{q['lower_bound']:.4f}; all int8: {q['full_int8_estimate']:.4f}); "
            f"{len(kept)} of {q['quantizable_nodes']} weight nodes kept in fp32"
            + (f" ({q['fp32_weight_share']:.1%} of the weights; ranked by {q['ranking']})" if kept else "")
            + "".join(f"\n  fp32: {n}" for n in kept)
        )


@app.command("export")
def export_cmd(
    run: Annotated[Path, typer.Argument(help="run directory (or its model/ folder)")],
    format: Annotated[str, typer.Option("--format", "-f", help="hf, merged, onnx or onnx-int8")],
    output: Annotated[Path, typer.Option("--out", "-o", help="folder for the exported model")],
    data: Annotated[Path | None, typer.Option(help="held-out file for the parity check")] = None,
    min_agreement: Annotated[float | None, typer.Option(help="least share of equal predictions")] = None,
    max_prob_diff: Annotated[float | None, typer.Option(help="largest probability difference")] = None,
    max_examples: Annotated[int, typer.Option(min=1, help="held-out examples checked")] = 512,
    force: Annotated[bool, typer.Option(help="replace a non-empty output folder")] = False,
    int8_target_agreement: Annotated[
        float | None,
        typer.Option(
            min=0.0,
            max=1.0,
            help="onnx-int8: keep the most sensitive layers in fp32 until the estimated agreement on the "
            "validation split reaches this (default 0.995; 0: quantise every layer)",
        ),
    ] = None,
    fuse: Annotated[
        bool,
        typer.Option(
            help="onnx formats: fuse attention, layer norms and GELU into ONNX Runtime's kernels (BERT family)"
        ),
    ] = True,
) -> None:
    """Export a run, checked against the trained model on held-out examples before it is written."""
    _export(
        run,
        format,
        output,
        data=data,
        min_agreement=min_agreement,
        max_prob_diff=max_prob_diff,
        max_examples=max_examples,
        force=force,
        int8_target_agreement=int8_target_agreement,
        fuse=fuse,
    )


def _inputs_for(raw: list, task: str) -> list:
    return raw if task == "ner" else [x if isinstance(x, str) else x.text for x in raw]


@app.command("serve")
def serve_cmd(
    run: Annotated[Path, typer.Argument(help="run directory, its model/ folder, or an exported folder")],
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535)] = 8000,
    onnx: Annotated[
        str | None, typer.Option(help="serve the ONNX export: 'fp32' or 'int8' (made and checked if missing)")
    ] = None,
    max_batch_size: Annotated[
        int, typer.Option(min=1, help="texts per model call (1: no micro-batching)")
    ] = 32,
    max_wait_ms: Annotated[
        float, typer.Option(min=0, help="extra wait for more requests once the model is free")
    ] = 0.0,
    model_batch_size: Annotated[
        int, typer.Option(min=1, help="texts per forward pass (a batch is sorted by length and cut)")
    ] = 16,
    max_body_bytes: Annotated[int, typer.Option(min=1)] = 1_000_000,
    max_texts: Annotated[int, typer.Option(min=1, help="texts per request")] = 256,
    max_text_chars: Annotated[int, typer.Option(min=1, help="characters per text")] = 10_000,
    token_env: Annotated[
        str | None, typer.Option(help="name of an environment variable holding the bearer token")
    ] = None,
    timeout: Annotated[float, typer.Option(min=0.001, help="seconds per request, queueing included")] = 30.0,
    log_level: Annotated[str, typer.Option()] = "info",
) -> None:
    """Serve a model over HTTP: POST /v1/predict, GET /v1/model, /healthz, /readyz, /metrics, /docs."""
    import os

    from .errors import ConfigError
    from .serve.app import ServeSettings
    from .serve.server import serve

    if onnx not in (None, "fp32", "int8"):
        raise ConfigError(f"--onnx must be fp32 or int8, not {onnx!r}")
    token = None
    if token_env:
        token = os.environ.get(token_env)
        if not token:
            raise ConfigError(f"--token-env {token_env}: that environment variable is not set or empty")
    settings = ServeSettings(
        max_batch_size=max_batch_size,
        max_wait_ms=max_wait_ms,
        model_batch_size=model_batch_size,
        max_body_bytes=max_body_bytes,
        max_texts=max_texts,
        max_text_chars=max_text_chars,
        token=token,
        timeout_s=timeout,
    )
    serve(run, host, port, settings, onnx, log_level)


@app.command("evaluate")
def evaluate_cmd(
    run: Annotated[Path, typer.Argument(help="run directory")],
    data: Annotated[Path, typer.Option("--data", "-d", help="labelled file to score")],
    output: Annotated[Path | None, typer.Option("--out", "-o", help="folder for report.md/json")] = None,
    text_column: Annotated[str, typer.Option()] = "auto",
    label_column: Annotated[str, typer.Option()] = "auto",
    format: Annotated[str, typer.Option(help="auto, csv, tsv, jsonl, conll, bmes, txt")] = "auto",
    encoding: Annotated[str, typer.Option(help="auto or a codec name such as gb18030")] = "auto",
    label_separator: Annotated[str, typer.Option(help="multi-label separator inside one cell")] = "|",
    ner_decoding: Annotated[
        str | None, typer.Option(help="NER only: viterbi, lenient or strict (default: the run's own)")
    ] = None,
) -> None:
    """Re-score a finished run on any labelled file; prints and writes the report."""
    from .evaluate.report import render_markdown, write_report
    from .predictor import Predictor

    predictor = Predictor(run)
    if ner_decoding:
        from .errors import ConfigError

        if predictor.task.name != "ner":
            raise ConfigError(f"--ner-decoding applies to NER runs; {run} is a {predictor.task.name} run")
        predictor.task.configure({"ner_decoding": ner_decoding})
    result = predictor.evaluate(
        data,
        text_column=text_column,
        label_column=label_column,
        format=format,
        encoding=encoding,
        label_separator=label_separator,
    )
    extra = {"run": str(run), "data": str(data)}
    if output:
        md, js = write_report(result, output, title=f"Evaluation of {data.name}", extra=extra)
        err.print(f"wrote {md} and {js}")
    out.print(render_markdown(result, title=f"Evaluation of {data.name}", extra=extra))


@app.command("demo")
def demo_cmd(
    out_dir: Annotated[Path, typer.Option("--out", help="folder for demo data, recipe and run")] = Path(
        "runs/demo"
    ),
    task: Annotated[str, typer.Option(help="intent, ner or multilabel")] = "intent",
    backbone: Annotated[str, typer.Option(help="registry name or local model folder")] = "minilm-l6",
    overrides: Annotated[list[str] | None, typer.Argument(help="recipe overrides")] = None,
    quiet: Annotated[bool, typer.Option()] = False,
) -> None:
    """Write the demo data and a recipe, fine-tune the default model on it, and show the report."""
    from .demo import run_demo

    run_dir = run_demo(out_dir, task=task, backbone=backbone, overrides=overrides or [], quiet=quiet)
    _print_summary(run_dir.path)
    out.print(f"report: {run_dir.path / 'report.md'}")


def _gate_inputs(
    train: Path | None, validation: Path | None, test: Path | None, recipe: Path | None, task: str | None
) -> tuple[dict, str, dict, dict]:
    """Files, task, read options and quality settings from a recipe and/or the command line."""
    files: dict = {"train": train, "validation": validation, "test": test}
    read: dict = {}
    quality: dict = {}
    if recipe is not None:
        from .config import load_recipe

        r = load_recipe(recipe)
        d = r.data
        files = {k: files[k] or getattr(d, k) for k in files}
        read = {
            "format": d.format,
            "text_column": d.text_column,
            "label_column": d.label_column,
            "token_column": d.token_column,
            "tag_column": d.tag_column,
            "label_separator": d.label_separator,
            "encoding": d.encoding,
        }
        quality = d.quality.model_dump()
        task = task or r.task
    return files, task or "classification", read, quality


def _gate_options(train, validation, test, recipe, task, check, label_noise) -> tuple[dict, dict]:
    """The files and the keyword options of ``inspect_data`` / ``clean_data`` from the command line."""
    files, task_name, read, quality = _gate_inputs(train, validation, test, recipe, task)
    checks = [f"label_noise={'warn' if label_noise else 'off'}", *(check or [])]
    return files, {"task": task_name, "quality": quality, "checks": checks, **read}


def _print_gate(result, folder: Path) -> None:
    from rich.table import Table

    table = Table("check", "mode", "found", "removed", "changed", title="data quality")
    cfg = result.stats.get("_config")
    for check, c in result.ledger.counts().items():
        mode = str(getattr(cfg, check, ""))
        table.add_row(check, mode, *(str(c.get(k, 0)) for k in ("found", "removed", "changed")))
    out.print(table if result.ledger.counts() else "data quality: no problems found")
    for name, s in result.stats["splits"].items():
        out.print(f"{name}: {s['rows_in']} rows in, {s['rows_out']} kept, {len(s['labels'])} labels")
    out.print(f"report: {folder / 'data_report.md'} (also .json, .html)", highlight=False, soft_wrap=True)


_TRAIN_ARG = Annotated[Path | None, typer.Argument(help="training file (or give --recipe)")]
_VALID_OPT = Annotated[Path | None, typer.Option("--validation", help="validation file")]
_TEST_OPT = Annotated[Path | None, typer.Option("--test", help="test file")]
_RECIPE_OPT = Annotated[
    Path | None, typer.Option("--recipe", help="take files, columns and data.quality from a recipe")
]
_TASK_OPT = Annotated[str | None, typer.Option(help="classification, multilabel or ner")]
_CHECK_OPT = Annotated[
    list[str] | None, typer.Option("--check", help="name=mode (off/warn/fix/fail), e.g. near_duplicates=fix")
]
_NOISE_OPT = Annotated[
    bool,
    typer.Option("--label-noise/--no-label-noise", help="flag likely mislabelled rows (needs the backbone)"),
]
_BACKBONE_OPT = Annotated[
    str, typer.Option(help="backbone for coverage, lengths and label noise; none: skip those checks")
]


@data_app.command("inspect")
def data_inspect_cmd(
    train: _TRAIN_ARG = None,
    validation: _VALID_OPT = None,
    test: _TEST_OPT = None,
    recipe: _RECIPE_OPT = None,
    task: _TASK_OPT = None,
    check: _CHECK_OPT = None,
    label_noise: _NOISE_OPT = True,
    backbone: _BACKBONE_OPT = "minilm-l6",
    max_length: Annotated[int, typer.Option(help="length limit in backbone tokens")] = 128,
    output: Annotated[Path, typer.Option("--out", "-o", help="folder for the data report")] = Path(
        "data_report"
    ),
) -> None:
    """Check labelled files for problems (report only; nothing is changed). See docs/data-quality.md."""
    from .data.inspect import inspect_data

    files, options = _gate_options(train, validation, test, recipe, task, check, label_noise)
    result = inspect_data(files, backbone=backbone, max_length=max_length, **options)
    result.write(output, title="Data report")
    _print_gate(result, output)


@data_app.command("clean")
def data_clean_cmd(
    train: _TRAIN_ARG = None,
    output: Annotated[Path, typer.Option("--out", "-o", help="folder for the cleaned files")] = Path(
        "cleaned"
    ),
    validation: _VALID_OPT = None,
    test: _TEST_OPT = None,
    recipe: _RECIPE_OPT = None,
    task: _TASK_OPT = None,
    check: _CHECK_OPT = None,
    label_noise: _NOISE_OPT = True,
    backbone: _BACKBONE_OPT = "minilm-l6",
    max_length: Annotated[int, typer.Option(help="length limit in backbone tokens")] = 128,
    force: Annotated[bool, typer.Option(help="replace a non-empty --out folder")] = False,
) -> None:
    """Write cleaned copies of the files plus removed.jsonl, changed.jsonl and the data report."""
    from .data.inspect import clean_data

    files, options = _gate_options(train, validation, test, recipe, task, check, label_noise)
    result, written = clean_data(
        files, output, force=force, backbone=backbone, max_length=max_length, **options
    )
    _print_gate(result, output)
    for name, path in written.items():
        out.print(f"{name}: {path}", highlight=False, soft_wrap=True)
    out.print(
        f"removed rows: {output / 'removed.jsonl'}; changed rows: {output / 'changed.jsonl'}", highlight=False
    )


@data_app.command("demo")
def data_demo_cmd(
    out_dir: Annotated[Path, typer.Argument(help="folder for train/validation/test files")],
    task: Annotated[str, typer.Option(help="intent (csv), ner (conll) or multilabel (jsonl)")] = "intent",
    seed: Annotated[int, typer.Option()] = 0,
) -> None:
    """Write the project's deterministic demo dataset of one task (no training)."""
    from .data.demo import write_demo

    paths = write_demo(out_dir, task=task, seed=seed)
    for split, path in paths.items():
        out.print(f"{split}: {path}")


@data_app.command("augment")
def data_augment_cmd(
    file: Annotated[Path, typer.Argument(help="labelled file (csv, tsv, jsonl, txt, conll, bmes)")],
    output: Annotated[Path, typer.Option("--out", "-o", help="file to write; format from its extension")],
    task: Annotated[str, typer.Option(help="classification, multilabel or ner")] = "classification",
    ops: Annotated[
        str, typer.Option(help="comma-separated: swap, delete, insert, synonym, typo, mention (ner)")
    ] = "swap,delete,synonym,typo",
    copies: Annotated[int, typer.Option(help="augmented copies per example (1-20)")] = 1,
    rate: Annotated[float, typer.Option(help="share of tokens one operation touches (0-0.5]")] = 0.1,
    seed: Annotated[int, typer.Option()] = 0,
    backbone: Annotated[str, typer.Option(help="synonyms from this backbone's embeddings")] = "minilm-l6",
    format: Annotated[
        str, typer.Option(help="input format: auto, csv, tsv, jsonl, txt, conll, bmes")
    ] = "auto",
    only_new: Annotated[bool, typer.Option("--only-new", help="write only the augmented rows")] = False,
) -> None:
    """Write FILE's rows followed by label-preserving augmented copies (seeded); see docs/augmentation.md."""
    from pydantic import ValidationError

    from .config import AugmentConfig
    from .data.augment import SynonymSource, augment_with_operations, check_operations
    from .data.readers import read_examples
    from .data.writers import write_examples
    from .errors import ConfigError

    names = [op.strip() for op in ops.split(",") if op.strip()]
    check_operations(names, task)
    try:
        config = AugmentConfig(enabled=True, operations=names, copies=copies, rate=rate, seed=seed)
    except ValidationError as e:
        problems = "; ".join(f"--{'-'.join(map(str, x['loc']))}: {x['msg']}" for x in e.errors())
        raise ConfigError(problems) from None
    examples = read_examples(file, task=task, format=format)
    synonyms = SynonymSource.from_backbone(backbone) if {"synonym", "insert"} & set(names) else None
    made = augment_with_operations(examples, config, task=task, seed=seed, synonyms=synonyms)
    rows = [ex for ex, _ in made] if only_new else [*examples, *(ex for ex, _ in made)]
    write_examples(output, rows, task)
    counts = {name: sum(op == name for _, op in made) for name in dict.fromkeys(names)}
    shown = ", ".join(f"{name} {n}" for name, n in counts.items())
    out.print(
        f"{len(examples)} rows in, {len(made)} added ({shown}); wrote {len(rows)} rows to {output}",
        highlight=False,
        soft_wrap=True,
    )


@data_app.command("split")
def data_split_cmd(
    file: Annotated[Path, typer.Argument(help="labelled file to split")],
    task: Annotated[str, typer.Option(help="classification, multilabel or ner")],
    out_dir: Annotated[Path, typer.Option("--out", help="folder for the split files and splits.json")],
    validation: Annotated[float, typer.Option(help="share of rows held out for validation")] = 0.1,
    test: Annotated[float, typer.Option(help="share of rows held out for test (0: no test file)")] = 0.0,
    k_fold: Annotated[int | None, typer.Option(help="write K folds instead (fold-1/ ... fold-K/)")] = None,
    group_column: Annotated[
        str | None, typer.Option(help="rows sharing this column's value stay in one split")
    ] = None,
    seed: Annotated[int, typer.Option()] = 0,
    format: Annotated[str, typer.Option(help="auto, csv, tsv, jsonl, conll, bmes, txt")] = "auto",
) -> None:
    """Split FILE into stratified (and group-aware) train/validation/test files or k folds."""
    from rich.table import Table

    from .data.split import distribution, split_file

    splits = split_file(
        file, out_dir, task=task, validation_fraction=validation, test_fraction=test, k=k_fold,
        group_column=group_column, seed=seed, format=format,
    )  # fmt: skip
    counts = {name: distribution(rows) for name, rows in splits.items()}
    table = Table("label", *splits)
    table.add_row("[bold]rows[/bold]", *(str(len(rows)) for rows in splits.values()))
    for label in sorted(set().union(*counts.values())):
        cells = [
            f"{counts[n][label]} ({100 * counts[n][label] / max(len(splits[n]), 1):.0f}%)" for n in splits
        ]
        table.add_row(label, *cells)
    out.print(table)
    out.print(f"wrote {len(splits)} files and splits.json to {out_dir}")


@label_app.command("suggest")
def label_suggest_cmd(
    run: Annotated[Path, typer.Argument(help="run directory (or its model/ folder)")],
    pool: Annotated[Path, typer.Option(help="unlabelled texts (csv/tsv/jsonl/conll/text lines)")],
    output: Annotated[Path, typer.Option("--out", "-o", help="file for the ranked examples")],
    strategy: Annotated[str, typer.Option(help="entropy, margin or least_confident")] = "entropy",
    top: Annotated[int, typer.Option(min=1, help="how many examples to suggest")] = 100,
    format: Annotated[str, typer.Option(help="csv, labelstudio or doccano")] = "csv",
    text_column: Annotated[str, typer.Option(help="column with the text (csv/tsv/jsonl)")] = "auto",
) -> None:
    """Rank unlabelled texts by the model's uncertainty and write the top ones for annotation, with the
    model's prediction as a pre-annotation."""
    from .data.labeling import suggest, write_suggestions
    from .data.readers import read_texts
    from .predictor import Predictor

    predictor = Predictor(run)
    task = predictor.task.name
    rows = suggest(predictor, read_texts(pool, text_column=text_column), strategy=strategy, top=top)
    labels = sorted({t[2:] for t in predictor.labels if t != "O"}) if task == "ner" else predictor.labels
    files = write_suggestions(output, rows, format, labels, task, model_version=Path(run).name)
    scores = f"{rows[-1]['score']:.3f} to {rows[0]['score']:.3f}" if rows else "-"
    out.print(f"wrote {len(rows)} examples ranked by {strategy} (scores {scores}) to {files[0]}")
    if len(files) > 1:
        out.print(f"Label Studio labeling config: {files[1]}")


@label_app.command("import")
def label_import_cmd(
    file: Annotated[Path, typer.Argument(help="annotation export (Label Studio JSON or Doccano JSONL)")],
    format: Annotated[str, typer.Option(help="labelstudio or doccano")],
    task: Annotated[str, typer.Option(help="classification, multilabel or ner")],
    into: Annotated[Path, typer.Option(help="training file the annotations are added to")],
    output: Annotated[
        Path | None, typer.Option("--out", "-o", help="merged file (default: rewrite --into)")
    ] = None,
    allow_new_labels: Annotated[bool, typer.Option(help="accept labels the training file lacks")] = False,
    keep_empty: Annotated[
        bool, typer.Option(help="Doccano NER: keep texts without spans as sentences without entities")
    ] = False,
    label_separator: Annotated[str, typer.Option(help="multi-label separator inside one cell")] = "|",
) -> None:
    """Check annotations against the training file's labels and merge the new texts into it."""
    from .data.labeling import import_annotations

    c = import_annotations(
        file, format, task, into, output, allow_new_labels=allow_new_labels, keep_empty=keep_empty,
        label_separator=label_separator,
    )  # fmt: skip
    out.print(
        f"added {c['added']} examples; skipped {c['already_present']} already in {into.name}, "
        f"{c['duplicates']} repeated, {c['skipped']} skipped in the tool, {c['unannotated']} unannotated"
        + (f", {c['ignored_results']} other result items ignored" if c["ignored_results"] else "")
    )
    if c["dropped_columns"]:
        out.print(f"note: {', '.join(c['dropped_columns'])} of {into.name} are not in the merged file")
    out.print(f"wrote {c['total']} examples to {c['out']}")


@label_app.command("export")
def label_export_cmd(
    file: Annotated[Path, typer.Argument(help="labelled file (csv/tsv/jsonl/conll/bmes/txt)")],
    format: Annotated[str, typer.Option(help="labelstudio or doccano")],
    task: Annotated[str, typer.Option(help="classification, multilabel or ner")],
    output: Annotated[Path, typer.Option("--out", "-o", help="file to write")],
    label_separator: Annotated[str, typer.Option(help="multi-label separator inside one cell")] = "|",
) -> None:
    """Convert a labelled file to Label Studio tasks or Doccano JSONL, annotations included."""
    from .data.labeling import export_annotations

    n = export_annotations(file, format, task, output, label_separator=label_separator)
    out.print(f"wrote {n} annotated examples to {output}")


@app.command("ensemble")
def ensemble_cmd(
    args: Annotated[
        list[str],
        typer.Argument(
            help="RUN... (finished runs to combine), RECIPE.yaml (train per its ensemble: section), "
            "or: evaluate DIR TEST_FILE"
        ),
    ],
    strategy: Annotated[
        str, typer.Option(help="runs: soft, hard or stacking (meta-learner on --data)")
    ] = "soft",
    data: Annotated[
        Path | None,
        typer.Option("--data", "-d", help="labelled held-out file: weights / meta-learner, report"),
    ] = None,
    learn_weights: Annotated[bool, typer.Option(help="runs: learn voting weights on --data")] = False,
    meta: Annotated[
        str, typer.Option(help="runs, stacking: meta-learner, logistic or loglinear (one weight per member)")
    ] = "logistic",
    output: Annotated[
        Path | None, typer.Option("--out", "-o", help="ensemble directory (runs); report folder (evaluate)")
    ] = None,
    overrides: Annotated[
        list[str] | None, typer.Option("--set", help="recipe override key.path=value (repeatable)")
    ] = None,
    quiet: Annotated[bool, typer.Option(help="no progress output")] = False,
) -> None:
    """Ensembles: combine finished runs, train one from a recipe, or evaluate a saved one."""
    from .ensemble.build import ensemble_runs, evaluate_ensemble, train_ensemble
    from .ensemble.report import render_markdown
    from .errors import ConfigError

    if args[0] == "evaluate" and len(args) == 3 and not Path(args[0]).exists():
        from .ensemble import load_ensemble

        examples = _read_labelled(args[2], load_ensemble(args[1]).task)
        report = evaluate_ensemble(args[1], examples, output)
        out.print(render_markdown(report, title=f"Ensemble evaluation on {Path(args[2]).name}"))
        return
    if len(args) == 1 and args[0].endswith((".yaml", ".yml")):
        folder = train_ensemble(Path(args[0]), overrides or [], quiet=quiet)
        out.print((folder / "ensemble_report.md").read_text(encoding="utf-8"))
        out.print(f"ensemble directory: {folder}")
        return
    if output is None:
        raise ConfigError("give --out DIR: the folder the ensemble of these runs is saved to")
    from .export.bundle import read_meta
    from .predictor import model_dir_of

    examples = _read_labelled(str(data), read_meta(model_dir_of(args[0]))["task"]) if data else None
    ensemble_runs(
        args, output, strategy=strategy, weights="learn" if learn_weights else None, data=examples, meta=meta
    )
    if examples:
        out.print((output / "ensemble_report.md").read_text(encoding="utf-8"))
    out.print(f"ensemble directory: {output}")


def _read_labelled(path: str, task: str) -> list:
    from .data.readers import read_examples

    return read_examples(path, task=task)


@app.command("version")
def version_cmd() -> None:
    """Print the versions of tuneforge and the libraries it is tested with."""
    import torch
    import transformers

    from . import __version__

    out.print(f"tuneforge {__version__} (torch {torch.__version__}, transformers {transformers.__version__})")


def main() -> None:
    try:
        app()
    except TuneforgeError as e:
        err.print(f"[bold red]error:[/bold red] {e}", highlight=False, markup=True, soft_wrap=True)
        sys.exit(e.exit_code)
    except KeyboardInterrupt:
        err.print("interrupted; a run continues where it stopped with `tuneforge run RECIPE --resume`")
        sys.exit(130)


if __name__ == "__main__":
    main()

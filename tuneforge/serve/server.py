"""Start the server: ``serve(run_or_model_dir, ...)`` loads the model (or its ONNX export, made and
parity-checked on first use with ``onnx=True``) and runs uvicorn until SIGINT/SIGTERM. On a signal
the server stops accepting connections, answers every request it has accepted, then exits."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .. import __version__
from ..export.bundle import require_network
from ..predictor import Predictor, model_dir_of
from .app import ServeSettings, create_app


def model_info(model_dir: Path, predictor: Predictor) -> dict[str, Any]:
    meta = predictor.meta
    info: dict[str, Any] = {
        "task": meta["task"],
        "labels": meta["labels"],
        "backbone": meta["backbone"],
        "method": meta.get("exported_from") or meta.get("merged_from") or meta["method"],
        "format": meta.get("format", "torch"),
        "max_length": meta["max_length"],
        "tuneforge_version": __version__,
    }
    for candidate in (model_dir.parent / "run.json", model_dir.parent.parent / "run.json"):
        if candidate.is_file():
            info["metrics"] = json.loads(candidate.read_text(encoding="utf-8")).get("metrics", {})
            break
    if "parity" in meta:
        info["parity"] = meta["parity"]
    return info


def onnx_dir_for(model_dir: Path, int8: bool = False) -> Path:
    """The run's ONNX export, made (with its parity check) when it does not exist yet."""
    from ..export.bundle import read_meta
    from ..export.exporter import export_run

    fmt = "onnx-int8" if int8 else "onnx"
    if read_meta(model_dir).get("format", "torch") == fmt:
        return model_dir
    out = model_dir.parent / "exports" / fmt
    if not (out / "tuneforge.json").is_file():
        export_run(model_dir, fmt, out, force=True)
    return out


def build_app(path: str | Path, settings: ServeSettings, onnx: str | None = None):
    model_dir = model_dir_of(path)
    if onnx:
        model_dir = onnx_dir_for(model_dir, int8=onnx == "int8")
    require_network(model_dir)
    predictor = Predictor(model_dir)
    return create_app(predictor, settings, model_info(model_dir, predictor))


def serve(
    path: str | Path,
    host: str = "127.0.0.1",
    port: int = 8000,
    settings: ServeSettings | None = None,
    onnx: str | None = None,
    log_level: str = "info",
) -> None:
    import uvicorn

    settings = settings or ServeSettings()
    app = build_app(path, settings, onnx)
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level=log_level,
        timeout_graceful_shutdown=int(settings.timeout_s) + 5,
        access_log=False,
    )
    server = uvicorn.Server(config)
    original = server.handle_exit

    def handle_exit(sig: int, frame: Any) -> None:
        app.state.serve["shutting_down"] = True  # /readyz turns 503 at once
        original(sig, frame)

    server.handle_exit = handle_exit  # type: ignore[method-assign]
    server.run()

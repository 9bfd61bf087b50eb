"""Load test of ``tuneforge serve`` on loopback: PyTorch vs ONNX vs ONNX int8, with and without
micro-batching, at concurrency 1, 8 and 32; then 10,000 mixed valid and invalid requests.

    python bench/serve.py --run RUN_DIR                 # a finished Banking77 run
    python bench/serve.py --train                       # first train one (MiniLM-L6, 3000 examples)

Each configuration is a real server process (``tuneforge serve``) and a closed-loop client
(``bench/loadgen.py``: raw HTTP/1.1 on keep-alive connections, so that the client, which shares the
cores with the server, costs as little as possible): C workers each send one-text requests (Banking77
test texts) back to back until N are done.
Reported: throughput (requests/s), p50 and p99 latency, peak RSS of the server process, and for the
exports the label agreement with PyTorch on the whole Banking77 test set.
Targets: ONNX int8 >= 2.5x PyTorch fp32 throughput with >= 99.5% label agreement; micro-batching
>= 3x one-request-at-a-time throughput at concurrency 32; zero 5xx over the mixed requests.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import loadgen  # noqa: E402
from bench.common import markdown_table, require_data, write_json  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, model_dir: Path, *options: str) -> None:
        import httpx
        import psutil

        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tuneforge.cli", "serve", str(model_dir), "--port", str(self.port),
             "--log-level", "warning", *options],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        deadline = time.time() + 300
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(self.proc.stderr.read() if self.proc.stderr else "server exited")
            try:
                if httpx.get(self.url + "/readyz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        self.peak_mb = 0.0
        self._stop = threading.Event()
        self._ps = psutil.Process(self.proc.pid)
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        while not self._stop.is_set():
            try:
                self.peak_mb = max(self.peak_mb, self._ps.memory_info().rss / 2**20)
            except Exception:  # noqa: BLE001  the process is gone
                return
            time.sleep(0.05)

    def stop(self) -> None:
        self._stop.set()
        self.proc.terminate()
        self.proc.wait(timeout=60)


def mixed_requests(url: str, texts: list[str], total: int, concurrency: int = 16) -> dict[str, int]:
    """Valid requests mixed with malformed, oversized and wrongly typed ones: count status codes."""
    import httpx

    rng = random.Random(0)
    bad = [
        b"{not json",
        json.dumps({"texts": "a string"}).encode(),
        json.dumps({"texts": []}).encode(),
        json.dumps({"texts": [1, None]}).encode(),
        json.dumps({"texts": ["x" * 20000]}).encode(),
        json.dumps({"texts": ["ok"] * 1000}).encode(),
        json.dumps({"texts": ["   "]}).encode(),
        json.dumps({"other": 1}).encode(),
        b"\xff\xfe\x00\x01",
        b"",
    ]
    bodies = [
        json.dumps({"texts": rng.sample(texts, rng.randint(1, 4))}).encode()
        if rng.random() < 0.5
        else rng.choice(bad)
        for _ in range(total)
    ]
    statuses: dict[int, int] = {}

    async def run() -> None:
        it = iter(bodies)

        async def worker(client: httpx.AsyncClient) -> None:
            for body in it:
                r = await client.post(
                    url + "/v1/predict", content=body, headers={"Content-Type": "application/json"}
                )
                statuses[r.status_code] = statuses.get(r.status_code, 0) + 1

        async with httpx.AsyncClient(timeout=120) as client:
            await asyncio.gather(*[worker(client) for _ in range(concurrency)])

    asyncio.run(run())
    return dict(sorted(statuses.items()))


def train_run(out: Path) -> Path:
    import tuneforge

    root = require_data("banking77")
    recipe = {
        "task": "classification",
        "data": {
            "train": str(root / "train.csv"),
            "test": str(root / "test.csv"),
            "max_train_examples": 3000,
        },
        "backbone": "minilm-l6",
        "output": str(out),
        "track": ["jsonl"],
        "train": {"epochs": 3, "early_stopping": {"patience": 0}},
    }
    return tuneforge.run(recipe, force=True, quiet=True).path


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--run", type=Path, help="a finished Banking77 run directory")
    p.add_argument("--train", action="store_true", help="train a Banking77 run first")
    p.add_argument("--requests", type=int, default=400, help="requests per configuration")
    p.add_argument("--mixed", type=int, default=10000)
    p.add_argument("--concurrency", nargs="*", type=int, default=[1, 8, 32])
    p.add_argument("--out", type=Path, default=RESULTS / "serve.json")
    args = p.parse_args()
    import tuneforge
    from tuneforge.data.readers import read_examples

    work = Path(tempfile.mkdtemp(prefix="tf-serve-bench-"))
    run = args.run or (train_run(work / "run") if args.train else None)
    if run is None:
        raise SystemExit("give --run RUN_DIR or --train")
    test = read_examples(require_data("banking77") / "test.csv", task="classification")
    texts = [e.text for e in test]
    bodies = [json.dumps({"texts": [t]}).encode() for t in texts]
    exports = {"torch": run / "model"}
    parity: dict[str, Any] = {}
    for fmt in ("onnx", "onnx-int8"):
        out = work / fmt
        result = tuneforge.export_model(
            run,
            fmt,
            out,
            data=require_data("banking77") / "test.csv",
            max_examples=len(texts),
            min_agreement=0.0,
        )
        exports[fmt] = out
        parity[fmt] = result.to_dict()
    rows, cells = [], []
    for backend, model_dir in exports.items():
        for batching in (True, False):
            options = (
                ["--max-batch-size", "64"]
                if batching
                else ["--max-batch-size", "1", "--model-batch-size", "1"]
            )
            server = Server(model_dir, *options)
            try:
                for c in args.concurrency:
                    stats = loadgen.run(
                        loadgen.closed_loop(server.url, "/v1/predict", bodies, c, args.requests)
                    )
                    stats.pop("statuses")
                    cell = {
                        "backend": backend,
                        "batching": batching,
                        "concurrency": c,
                        **stats,
                        "server_peak_mb": server.peak_mb,
                    }
                    cells.append(cell)
                    print(json.dumps(cell), flush=True)
            finally:
                server.stop()
    server = Server(exports["onnx-int8"])
    try:
        statuses = mixed_requests(server.url, texts, args.mixed)
    finally:
        server.stop()

    def tput(backend: str, batching: bool, c: int) -> float:
        return next(
            x["requests_per_s"]
            for x in cells
            if x["backend"] == backend and x["batching"] == batching and x["concurrency"] == c
        )

    top = max(args.concurrency)
    summary = {
        "int8_vs_torch_throughput": {
            c: tput("onnx-int8", True, c) / tput("torch", True, c) for c in args.concurrency
        },
        "int8_vs_torch_throughput_unbatched": {
            c: tput("onnx-int8", False, c) / tput("torch", False, c) for c in args.concurrency
        },
        "batching_gain_at_top_concurrency": {b: tput(b, True, top) / tput(b, False, top) for b in exports},
        "int8_label_agreement": parity["onnx-int8"]["agreement"],
        "mixed_statuses": statuses,
        "mixed_5xx": sum(v for k, v in statuses.items() if k >= 500),
    }
    write_json(
        args.out,
        {
            "cells": cells,
            "parity": parity,
            "summary": summary,
            "requests": args.requests,
            "cpu_count": os.cpu_count(),
        },
    )
    for cell in cells:
        rows.append({
            "backend": cell["backend"], "micro-batching": "on" if cell["batching"] else "off",
            "concurrency": cell["concurrency"], "req/s": f"{cell['requests_per_s']:.1f}",
            "p50 ms": f"{cell['p50_ms']:.1f}", "p99 ms": f"{cell['p99_ms']:.1f}",
            "server peak MB": f"{cell['server_peak_mb']:.0f}",
        })  # fmt: skip
    print(
        markdown_table(
            rows, ["backend", "micro-batching", "concurrency", "req/s", "p50 ms", "p99 ms", "server peak MB"]
        )
    )
    print(json.dumps(summary, indent=2))
    print(f"median p50 over all: {statistics.median(c['p50_ms'] for c in cells):.1f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

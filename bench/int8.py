"""ONNX int8 exports against PyTorch fp32 on Banking77 test: label agreement of every text and
in-process throughput, one invocation, ratios side by side.

    python bench/int8.py --run RUN_DIR        # a finished Banking77 run (bench/serve.py --train makes one)
    python bench/int8.py --train              # first train one (MiniLM-L6, 3000 examples, 3 epochs)

Backends: the run's PyTorch model (fp32), the ONNX fp32 export (fused kernels, and the plain traced
graph: ``--no-fuse``), ONNX int8 with every weight node quantised (``--int8-target-agreement 0``) and
ONNX int8 from the precision search (default target 0.995, searched on the run's validation split;
fused and plain). Agreement: the export's own
parity check on all 3,080 test texts. Throughput through ``tuneforge.load(...).predict``
(tokenisation included): one text per call, and 32 texts per call; the backends take turns for
``--rounds`` rounds so that load from other processes falls on all of them alike.
Target: int8 >= 99.5% agreement with >= 2.5x PyTorch fp32 throughput.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import markdown_table, require_data, write_json  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
EXPORTS = {  # name: (format, int8 target, fused)
    "onnx-unfused": ("onnx", None, False),
    "onnx": ("onnx", None, True),
    "onnx-int8-all": ("onnx-int8", 0.0, True),
    "onnx-int8-search-unfused": ("onnx-int8", None, False),
    "onnx-int8-search": ("onnx-int8", None, True),
}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--run", type=Path, help="a finished Banking77 run directory")
    p.add_argument("--train", action="store_true", help="train a Banking77 run first")
    p.add_argument("--single", type=int, default=300, help="texts sent one per call, per round")
    p.add_argument("--batched", type=int, default=640, help="texts sent 32 per call, per round")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--out", type=Path, default=RESULTS / "int8.json")
    args = p.parse_args()
    import torch

    import tuneforge
    from tuneforge.data.readers import read_examples

    work = Path(tempfile.mkdtemp(prefix="tf-int8-bench-"))
    if args.run is None and args.train:
        from bench.serve import train_run

        args.run = train_run(work / "run")
    if args.run is None:
        raise SystemExit("give --run RUN_DIR or --train")
    test_file = require_data("banking77") / "test.csv"
    texts = [e.text for e in read_examples(test_file, task="classification")]
    dirs, parity, export_s = {"torch": args.run / "model"}, {}, {}
    for name, (fmt, target, fused) in EXPORTS.items():
        started = time.perf_counter()
        result = tuneforge.export_model(
            args.run, fmt, work / name, data=test_file, max_examples=len(texts), min_agreement=0.0,
            force=True, fuse=fused, **({} if fmt == "onnx" else {"int8_target_agreement": target}),
        )  # fmt: skip
        export_s[name] = time.perf_counter() - started
        dirs[name] = work / name
        parity[name] = result.to_dict()
        print(name, json.dumps({k: v for k, v in parity[name].items() if k != "quantization"}), flush=True)
    threads = torch.get_num_threads()
    models = {name: tuneforge.load(path) for name, path in dirs.items()}
    single, batched = texts[: args.single], texts[: args.batched]
    spent = {name: {"single": 0.0, "batched": 0.0} for name in models}
    for model in models.values():  # warm-up
        model.predict(texts[:32], batch_size=32)
    for _ in range(args.rounds):
        for name, model in models.items():
            t0 = time.perf_counter()
            for t in single:
                model.predict([t])
            t1 = time.perf_counter()
            model.predict(batched, batch_size=32)
            spent[name]["single"] += t1 - t0
            spent[name]["batched"] += time.perf_counter() - t1
    rows, backends = [], {}
    for name in models:
        per_s = {
            "single_per_s": args.rounds * len(single) / spent[name]["single"],
            "batched_per_s": args.rounds * len(batched) / spent[name]["batched"],
        }
        backends[name] = per_s
    for name, per_s in backends.items():
        q = (parity.get(name) or {}).get("quantization") or {}
        backends[name].update(
            single_vs_torch=per_s["single_per_s"] / backends["torch"]["single_per_s"],
            batched_vs_torch=per_s["batched_per_s"] / backends["torch"]["batched_per_s"],
            agreement=parity[name]["agreement"] if name in parity else 1.0,
            fp32_nodes=q.get("fp32_nodes"),
            model_mb=sum(f.stat().st_size for f in dirs[name].glob("model.*")) / 2**20,
        )
        rows.append({
            "backend": name, "test agreement": f"{backends[name]['agreement']:.2%}",
            "fp32 nodes": "-" if q.get("fp32_nodes") is None else len(q["fp32_nodes"]),
            "1/call texts/s": f"{per_s['single_per_s']:.1f}", "x torch": f"{backends[name]['single_vs_torch']:.2f}",
            "32/call texts/s": f"{per_s['batched_per_s']:.1f}", "x torch ": f"{backends[name]['batched_vs_torch']:.2f}",
            "model MB": f"{backends[name]['model_mb']:.0f}",
        })  # fmt: skip
    write_json(
        args.out,
        {
            "run": str(args.run),
            "backends": backends,
            "parity": parity,
            "export_s": export_s,
            "rounds": args.rounds,
            "threads": threads,
            "cpu_count": os.cpu_count(),
        },
    )
    print(markdown_table(rows, list(rows[0])))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""What frozen-prefix caching can save at most: MiniLM-L6's lower layers run forward only (no
autograd), the upper layers forward and backward, on one random batch, median of repeated runs.

    python bench/layer_costs.py --freeze-layers 3 --batch 32 --tokens 24

With the cache, a training step skips the lower layers' forward; the upper layers' forward and
backward remain. The layers alone bound the speed-up at (lower + upper) / upper; the head, the
optimizer step and the loop only lower it. Writes ``bench/results/layer_costs.json``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import write_json  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"


def _through(layers, h):
    for layer in layers:
        out = layer(h)
        h = out[0] if isinstance(out, tuple) else out
    return h


def main() -> int:
    import torch
    from transformers import AutoModel

    from tuneforge.models.backbones import resolve_backbone

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--freeze-layers", type=int, default=3)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--tokens", type=int, default=24)
    p.add_argument("--repeats", type=int, default=30)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--out", type=Path, default=RESULTS / "layer_costs.json")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = AutoModel.from_pretrained(resolve_backbone("minilm-l6").path)
    model.train()  # dropout as in training (the frozen layers of `partial` run in eval mode)
    lower, upper = model.encoder.layer[: args.freeze_layers], model.encoder.layer[args.freeze_layers :]
    lower.eval()
    x = torch.randn(args.batch, args.tokens, model.config.hidden_size)

    def frozen() -> None:
        with torch.no_grad():
            _through(lower, x)

    def trained() -> None:
        _through(upper, x).sum().backward()

    times: dict[str, list[float]] = {"frozen": [], "trained": []}
    for name, step in (("frozen", frozen), ("trained", trained)):
        for i in range(args.repeats + 3):
            t0 = time.perf_counter()
            step()
            if i >= 3:  # warm-up
                times[name].append(time.perf_counter() - t0)
    f, t = statistics.median(times["frozen"]), statistics.median(times["trained"])
    result = {
        "freeze_layers": args.freeze_layers,
        "trained_layers": len(upper),
        "batch": args.batch,
        "tokens": args.tokens,
        "threads": args.threads,
        "frozen_forward_ms": round(1000 * f, 2),
        "trained_forward_backward_ms": round(1000 * t, 2),
        "forward_backward_over_forward": round(t / f * len(lower) / len(upper), 3),
        "caching_bound": round((f + t) / t, 3),
    }
    write_json(args.out, result)
    print(
        f"lower {len(lower)} layers forward {1000 * f:.1f} ms; upper {len(upper)} layers forward+backward "
        f"{1000 * t:.1f} ms; bound on the cached speed-up {(f + t) / t:.2f}x"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

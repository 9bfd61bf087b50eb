"""Mixed-precision int8: quantise every weight matrix, then keep in fp32 the fewest, most sensitive
MatMul/Gemm nodes that bring the export's agreement with the trained model up to a target.

The search runs on held-out examples (the run's validation split) with the trained model's outputs as
the reference. Counting changed labels on a few hundred examples cannot resolve a 0.5% difference
(one changed label is 0.3% of 300), so the search scores a candidate by its *estimated* agreement:
for every decision (an example's label, each label of a multi-label example, each token) it takes the
reference's margin (top logit minus the runner-up, or the distance from the threshold) and the
change the quantised model makes to that margin. A decision flips when its change is below minus its
margin; pairing every margin with every observed change (the errors the quantisation makes, taken as
independent of the margin) gives each decision's chance of flipping from all examples at once, which
is far smoother than the flips themselves. An example agrees when none of its decisions flips. A
few hundred examples still leave that estimate uncertain, so a candidate passes when the one-sided
lower confidence bound of its estimate (bootstrap over the examples) reaches the target.

Steps: (1) quantise everything; stop if the estimate meets the target. (2) Sensitivity: quantise one
node at a time and measure the mean squared margin change it causes. (3) Keep the first k nodes of a
ranking in fp32, with k found by bisection (agreement grows with k); an error if even all in fp32
falls short. Two rankings are tried: by sensitivity, and by sensitivity per weight (a large FFN
matrix kept in fp32 costs four times an attention output's time); the result keeps the fewest fp32
weights among the two (then the fewest nodes)."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..errors import RunError
from ..models.inference import device_of, to_device
from ..models.tasks import Task
from ..train.batching import eval_batches
from .onnx_model import OnnxTaskModel, quantizable_nodes, quantize_int8

CONFIDENCE = 0.8  # of the lower bound on the agreement that the search compares with its target


@dataclass
class PrecisionSearch:
    """How an int8 export was quantised: the target, what the search measured and the fp32 nodes."""

    target: float
    estimated_agreement: float  # of the chosen model on the search examples
    lower_bound: float  # its one-sided lower confidence bound, which must reach the target
    confidence: float
    observed_agreement: float  # share of search examples with the same decisions
    full_int8_estimate: float  # with every node quantised
    fp32_nodes: list[str] = field(default_factory=list)
    fp32_weight_share: float = 0.0  # of the quantisable weights, the share kept in fp32
    ranking: str = ""  # "sensitivity" or "sensitivity per weight": the one whose result was kept
    quantizable_nodes: int = 0
    evaluations: int = 0
    examples: int = 0
    source: str = ""
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Score:
    estimate: float
    lower: float  # one-sided lower confidence bound of the estimate
    observed: float
    sensitivity: float  # mean squared change of the decision margins


@torch.no_grad()
def outputs(model: torch.nn.Module, task: Task, feats: Sequence[dict[str, Any]], pad_id: int) -> list:
    """Logits per example in input order (token tasks: the real tokens only)."""
    model.eval()
    out: list[Any] = [None] * len(feats)
    for idx in eval_batches([len(f["input_ids"]) for f in feats], 64):
        batch = task.collate([feats[i] for i in idx], pad_id)
        batch.pop("labels", None)
        logits = model(**to_device(batch, device_of(model))).float().cpu().numpy()
        mask = batch["attention_mask"].numpy().astype(bool)
        for j, i in enumerate(idx):
            out[i] = logits[j][mask[j]] if logits.ndim == 3 else logits[j][None, :]
    return out


def decision_margins(
    ref: Sequence[np.ndarray], exp: Sequence[np.ndarray], multilabel: bool, threshold: float = 0.5
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(margin, change, same, owner)`` per decision: the reference's margin (> 0), how much the
    export lowers or raises it, whether the export decides the same, and the example it belongs to."""
    margins, changes, same, owner = [], [], [], []
    cut = float(np.log(threshold / (1 - threshold))) if multilabel else 0.0
    for i, (r, q) in enumerate(zip(ref, exp, strict=True)):
        if multilabel:
            side = np.where(r >= cut, 1.0, -1.0)
            m, moved = side * (r - cut), side * (q - cut)
            agree = moved >= 0
        elif r.shape[-1] < 2:
            m = moved = np.full(len(r), np.inf)
            agree = np.ones(len(r), dtype=bool)
        else:
            order = np.argsort(r, -1)
            rows = np.arange(len(r))
            top, second = order[:, -1], order[:, -2]
            m = r[rows, top] - r[rows, second]
            moved = q[rows, top] - q[rows, second]
            agree = q.argmax(-1) == top
        margins.append(m.ravel())
        changes.append((moved - m).ravel())
        same.append(np.asarray(agree).ravel())
        owner.append(np.full(m.size, i))
    return tuple(np.concatenate(x) for x in (margins, changes, same, owner))  # type: ignore[return-value]


def estimated_agreement(margins: np.ndarray, changes: np.ndarray, owner: np.ndarray, n: int) -> float:
    """Mean over examples of the chance that none of their decisions flips, each decision's chance
    being the share of observed margin changes that would take its margin below zero."""
    finite = np.isfinite(changes)
    pool = np.sort(changes[finite])
    if pool.size == 0:
        return 1.0
    flip = np.searchsorted(pool, -margins, side="left") / pool.size
    keep = np.zeros(n)
    np.add.at(keep, owner, np.log(np.clip(1.0 - flip, 1e-12, 1.0)))
    return float(np.exp(keep).mean())


def agreement_lower_bound(
    margins: np.ndarray,
    changes: np.ndarray,
    owner: np.ndarray,
    n: int,
    confidence: float = CONFIDENCE,
    rounds: int = 200,
) -> float:
    """One-sided lower confidence bound of :func:`estimated_agreement` over draws of the examples
    (bootstrap: the search examples are a sample, and a few hundred of them leave the estimate
    uncertain by about as much as the differences the search has to tell apart)."""
    rng = np.random.default_rng(0)
    units = np.split(np.arange(owner.size), np.flatnonzero(np.diff(owner)) + 1)  # owner is sorted
    values = []
    for _ in range(rounds):
        pick = rng.integers(0, n, n)
        idx = np.concatenate([units[i] for i in pick])
        values.append(
            estimated_agreement(
                margins[idx], changes[idx], np.repeat(np.arange(n), [len(units[i]) for i in pick]), n
            )
        )
    return float(np.quantile(values, 1.0 - confidence))


class Probe:
    """The search examples with the reference's outputs; scores an ONNX file against them."""

    def __init__(
        self, reference: torch.nn.Module, task: Task, feats: Sequence[dict[str, Any]], pad_id: int, threshold
    ) -> None:
        self.task, self.feats, self.pad_id, self.threshold = task, feats, pad_id, threshold
        self.reference = outputs(reference, task, feats, pad_id)
        self.evaluations = 0

    def score(self, onnx_path: Path) -> Score:
        self.evaluations += 1
        exp = outputs(OnnxTaskModel(onnx_path), self.task, self.feats, self.pad_id)
        m, d, same, owner = decision_margins(
            self.reference, exp, self.task.name == "multilabel", self.threshold
        )
        n = len(self.feats)
        agree = np.ones(n, dtype=bool)
        np.logical_and.at(agree, owner, same)
        finite = np.isfinite(d)
        sens = float(np.mean(d[finite] ** 2)) if finite.any() else 0.0
        lower = agreement_lower_bound(m, d, owner, n)
        return Score(estimated_agreement(m, d, owner, n), lower, float(agree.mean()), sens)


def search_int8(
    fp32: Path,
    dst: Path,
    probe: Probe,
    target: float,
    *,
    source: str = "",
    message: Callable[[str], None] | None = None,
) -> PrecisionSearch:
    """Write to ``dst`` the int8 model of ``fp32`` with the fewest fp32 nodes whose estimated agreement
    on ``probe``'s examples is at least ``target``."""
    say = message or (lambda _m: None)
    started = time.perf_counter()
    work = dst.with_name(dst.name + ".search")
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir()
    try:
        nodes = quantizable_nodes(fp32)
        sizes = weight_sizes(fp32)
        ranking = ""
        full = probe.score(_quantize(fp32, work / "full.onnx", exclude=[]))
        chosen, best = work / "full.onnx", full
        if full.lower < target:
            say(
                f"int8: agreement lower bound {full.lower:.4f} < {target}; measuring the sensitivity "
                f"of {len(nodes)} quantised nodes on {len(probe.feats)} examples"
            )
            sens = {n: probe.score(_quantize(fp32, work / "one.onnx", only=n)).sensitivity for n in nodes}
            rankings = {
                "sensitivity": sorted(nodes, key=lambda n: -sens[n]),
                "sensitivity per weight": sorted(nodes, key=lambda n: -sens[n] / max(sizes[n], 1)),
            }
            results = []
            everything: Score | None = None  # all nodes in fp32: the same model for every ranking
            for r, (name, ranked) in enumerate(rankings.items()):
                if r and ranked == rankings["sensitivity"]:
                    continue
                folder = work / f"ranking{r}"
                folder.mkdir()
                path, score, k, everything = _bisect(fp32, folder, probe, ranked, target, everything)
                results.append((sum(sizes[n] for n in ranked[:k]), k, name, path, score, ranked[:k]))
            _, _, ranking, chosen, best, nodes_kept = min(results, key=lambda x: (x[0], x[1]))
        else:
            nodes_kept = []
        shutil.move(str(chosen), str(dst))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if nodes_kept:
        say(
            f"int8: {len(nodes_kept)} of {len(nodes)} nodes kept in fp32, agreement lower bound {best.lower:.4f}"
        )
    return PrecisionSearch(
        target=target,
        estimated_agreement=best.estimate,
        lower_bound=best.lower,
        confidence=CONFIDENCE,
        observed_agreement=best.observed,
        full_int8_estimate=full.estimate,
        fp32_nodes=nodes_kept,
        fp32_weight_share=round(sum(sizes[n] for n in nodes_kept) / max(sum(sizes.values()), 1), 4),
        ranking=ranking,
        quantizable_nodes=len(nodes),
        evaluations=probe.evaluations,
        examples=len(probe.feats),
        source=source,
        seconds=round(time.perf_counter() - started, 1),
    )


def weight_sizes(path: Path) -> dict[str, int]:
    """Elements of each quantisable node's weight matrix."""
    import onnx

    graph = onnx.load(str(path), load_external_data=False).graph
    dims = {t.name: int(np.prod(t.dims)) for t in graph.initializer}
    names = set(quantizable_nodes(path))
    return {n.name: dims[n.input[1]] for n in graph.node if n.name in names}


def _bisect(
    fp32: Path, work: Path, probe: Probe, ranked: list[str], target: float, everything: Score | None = None
) -> tuple[Path, Score, int, Score]:
    """The least k (and its model and score) such that keeping ``ranked[:k]`` in fp32 meets ``target``;
    also the score of all nodes in fp32 (``everything``, measured here unless given)."""
    hi = len(ranked)
    path = _quantize(fp32, work / f"k{hi}.onnx", exclude=ranked)
    everything = best = everything or probe.score(path)
    if best.lower < target:
        raise RunError(
            f"even with all {hi} quantisable nodes in fp32 the agreement's lower bound is {best.lower:.4f}, "
            f"below the int8 target {target}; lower --int8-target-agreement or export --format onnx"
        )
    lo = 0  # full quantisation is known to miss the target
    while hi - lo > 1:
        mid = (lo + hi) // 2
        score = probe.score(_quantize(fp32, work / f"k{mid}.onnx", exclude=ranked[:mid]))
        if score.lower >= target:
            hi, best = mid, score
        else:
            lo = mid
    return work / f"k{hi}.onnx", best, hi, everything


def _quantize(src: Path, dst: Path, exclude: Sequence[str] = (), only: str | None = None) -> Path:
    quantize_int8(src, dst, exclude=exclude, only=[only] if only else None)
    return dst

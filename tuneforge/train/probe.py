"""Linear probe on frozen features, used to start the head before fine-tuning (LP-FT: Kumar et al.
2022), so that fine-tuning improves on the probe instead of first undoing the features."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def fit_linear_probe(
    x: torch.Tensor,
    y: torch.Tensor,
    n_out: int,
    *,
    multilabel: bool = False,
    l2: float | None = None,
    max_iter: int = 300,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Multinomial (or one-vs-rest for multi-label) logistic regression by full-batch L-BFGS.

    ``l2`` is the penalty on the weights relative to the mean loss; the default ``0.1/n`` matches
    scikit-learn's ``C=10``, which suits normalised sentence embeddings. Returns
    ``(weight [n_out, dim], bias [n_out])``."""
    x = x.double()
    n, dim = x.shape
    l2 = 0.1 / n if l2 is None else l2
    mu = x.mean(0)  # centring is exact here (the bias is not penalised) and helps L-BFGS
    z = x - mu
    w = torch.zeros(n_out, dim, dtype=torch.double, requires_grad=True)
    b = torch.zeros(n_out, dtype=torch.double, requires_grad=True)
    opt = torch.optim.LBFGS([w, b], lr=1.0, max_iter=max_iter, history_size=20, line_search_fn="strong_wolfe")
    target = y.double() if multilabel else y.long()

    def closure() -> torch.Tensor:
        opt.zero_grad()
        logits = z @ w.T + b
        if multilabel:
            loss = F.binary_cross_entropy_with_logits(logits, target)
        else:
            loss = F.cross_entropy(logits, target)
        loss = loss + 0.5 * l2 * w.pow(2).sum()
        loss.backward()
        return loss

    opt.step(closure)
    with torch.no_grad():
        weight = w.detach().clone()
        bias = b.detach() - (weight * mu).sum(1)
    return weight.float(), bias.float()


def init_head_from_probe(head: nn.Module, weight: torch.Tensor, bias: torch.Tensor) -> None:
    out: nn.Linear = head.out  # type: ignore[assignment]
    with torch.no_grad():
        out.weight.copy_(weight.to(out.weight.device, out.weight.dtype))
        out.bias.copy_(bias.to(out.bias.device, out.bias.dtype))

"""LogME (You et al., 2021): the log marginal evidence of a Bayesian linear model from frozen features
to the labels, per example. Higher is better; it needs no training of the backbone and no
hyper-parameters (the prior and noise precisions are fitted by evidence maximisation).

One SVD of the features serves every label column, so the fixed-point iterations cost O(k) each."""

from __future__ import annotations

import math

import numpy as np


def _column_evidence(
    sigma: np.ndarray, z: np.ndarray, outside: float, n: int, d: int, tol: float, max_iter: int
) -> float:
    """Evidence / n of one target column, given the squared singular values ``sigma`` of the features,
    the target's coordinates ``z`` in their left singular basis and its squared norm ``outside`` the span."""
    z2 = z * z
    alpha, beta = 1.0, 1.0
    for _ in range(max_iter):
        t = alpha / beta
        gamma = float(np.sum(sigma / (sigma + t)))
        m2 = float(np.sum(sigma * z2 / (sigma + t) ** 2))  # |m|^2 of the posterior mean
        res2 = float(np.sum(z2 * (t / (sigma + t)) ** 2)) + outside  # |F m - y|^2
        alpha = gamma / max(m2, 1e-12)
        beta = max(n - gamma, 1e-12) / max(res2, 1e-12)
        if abs(alpha / beta - t) <= tol * t:
            break
    t = alpha / beta
    m2 = float(np.sum(sigma * z2 / (sigma + t) ** 2))
    res2 = float(np.sum(z2 * (t / (sigma + t)) ** 2)) + outside
    k = len(sigma)
    logdet = float(np.sum(np.log(alpha + beta * sigma))) + (d - k) * math.log(alpha)
    evidence = (
        0.5 * n * math.log(beta)
        + 0.5 * d * math.log(alpha)
        - 0.5 * n * math.log(2 * math.pi)
        - 0.5 * beta * res2
        - 0.5 * alpha * m2
        - 0.5 * logdet
    )
    return evidence / n


def logme(features: np.ndarray, targets: np.ndarray, *, tol: float = 1e-4, max_iter: int = 100) -> float:
    """Mean LogME over target columns. ``targets``: class ids (1-D, one-hot encoded here) or a matrix
    of real or 0/1 targets (multi-label), one row per feature row."""
    f = np.asarray(features, dtype=np.float64)
    if f.ndim != 2 or len(f) < 2:
        raise ValueError("LogME needs a 2-D feature matrix with at least two rows")
    y = np.asarray(targets)
    if y.ndim == 1:
        classes = np.unique(y)
        y = (y[:, None] == classes[None, :]).astype(np.float64)
    y = y.astype(np.float64)
    if len(y) != len(f):
        raise ValueError(f"{len(f)} feature rows but {len(y)} target rows")
    n, d = f.shape
    u, s, _ = np.linalg.svd(f, full_matrices=False)
    keep = s > s.max() * 1e-10
    u, sigma = u[:, keep], s[keep] ** 2
    scores = []
    for col in y.T:
        z = u.T @ col
        outside = max(float(col @ col - z @ z), 0.0)
        scores.append(_column_evidence(sigma, z, outside, n, d, tol, max_iter))
    return float(np.mean(scores))

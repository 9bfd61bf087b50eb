"""LogME against a direct implementation of the evidence maximisation of You et al. (2021)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tuneforge.select.logme import logme


def reference_logme(f: np.ndarray, y: np.ndarray, iterations: int = 2000) -> float:
    """The textbook fixed point, with explicit d x d matrices: A = alpha I + beta F^T F,
    m = beta A^-1 F^T y, gamma = sum(lambda / (alpha + lambda)) over the eigenvalues of beta F^T F."""
    n, d = f.shape
    targets = (y[:, None] == np.unique(y)[None, :]).astype(float) if y.ndim == 1 else y.astype(float)
    scores = []
    for col in targets.T:
        alpha, beta = 1.0, 1.0
        for _ in range(iterations):
            a = alpha * np.eye(d) + beta * f.T @ f
            m = beta * np.linalg.solve(a, f.T @ col)
            lam = np.linalg.eigvalsh(beta * f.T @ f)
            gamma = float(np.sum(lam / (alpha + lam)))
            new_alpha = gamma / float(m @ m)
            new_beta = (n - gamma) / float(np.sum((f @ m - col) ** 2))
            done = abs(new_alpha / new_beta - alpha / beta) < 1e-13 * alpha / beta
            alpha, beta = new_alpha, new_beta
            if done:
                break
        a = alpha * np.eye(d) + beta * f.T @ f
        m = beta * np.linalg.solve(a, f.T @ col)
        evidence = (
            n / 2 * math.log(beta)
            + d / 2 * math.log(alpha)
            - n / 2 * math.log(2 * math.pi)
            - beta / 2 * float(np.sum((f @ m - col) ** 2))
            - alpha / 2 * float(m @ m)
            - 0.5 * np.linalg.slogdet(a)[1]
        )
        scores.append(evidence / n)
    return float(np.mean(scores))


def _clusters(seed: int, n: int = 240, d: int = 24, classes: int = 5, noise: float = 1.0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, classes, n)
    centres = rng.normal(size=(classes, d))
    return centres[y] + rng.normal(scale=noise, size=(n, d)), y


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_matches_the_reference_on_synthetic_clusters(seed):
    f, y = _clusters(seed)
    assert logme(f, y, tol=1e-12, max_iter=2000) == pytest.approx(reference_logme(f, y), abs=1e-7)


def test_matches_the_reference_with_more_dimensions_than_examples():
    f, y = _clusters(3, n=40, d=64, classes=3)
    assert logme(f, y, tol=1e-12, max_iter=2000) == pytest.approx(reference_logme(f, y), abs=1e-6)


def test_multilabel_targets_are_scored_column_by_column():
    f, y = _clusters(4)
    multi = np.stack([(y == 0), (y == 1) | (y == 2)], axis=1).astype(float)
    assert logme(f, multi, tol=1e-12, max_iter=2000) == pytest.approx(reference_logme(f, multi), abs=1e-7)


def test_more_informative_features_score_higher():
    clear, y = _clusters(5, noise=0.3)
    blurred = clear + np.random.default_rng(6).normal(scale=3.0, size=clear.shape)
    random = np.random.default_rng(7).normal(size=clear.shape)
    assert logme(clear, y) > logme(blurred, y) > logme(random, y)


def test_bad_shapes_are_errors():
    with pytest.raises(ValueError, match="2-D"):
        logme(np.zeros(5), np.zeros(5))
    with pytest.raises(ValueError, match="target rows"):
        logme(np.zeros((5, 2)), np.zeros(4))

import numpy as np
import torch
from sklearn.linear_model import LogisticRegression

from tuneforge.train.probe import fit_linear_probe


def test_probe_matches_sklearn_logistic_regression():
    rng = np.random.default_rng(0)
    centers = rng.normal(size=(5, 16)) * 2
    y = rng.integers(0, 5, size=600)
    x = centers[y] + rng.normal(size=(600, 16)) * 1.5 + 10  # offset: the probe must standardise
    w, b = fit_linear_probe(torch.tensor(x), torch.tensor(y), 5)
    ours = (torch.tensor(x, dtype=torch.float) @ w.T + b).argmax(1).numpy()
    ref = LogisticRegression(C=1.0, max_iter=2000).fit(x, y).predict(x)
    assert (ours == ref).mean() > 0.97
    assert (ours == y).mean() > 0.8


def test_multilabel_probe_learns_independent_labels():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(400, 8))
    y = np.stack([x[:, 0] > 0, x[:, 1] > 0.5, x[:, 2] < 0], axis=1).astype(float)
    w, b = fit_linear_probe(torch.tensor(x), torch.tensor(y), 3, multilabel=True)
    pred = (torch.tensor(x, dtype=torch.float) @ w.T + b > 0).numpy()
    assert (pred == y.astype(bool)).mean() > 0.95

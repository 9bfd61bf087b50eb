import pytest
import torch
from torch import nn

from tuneforge.config import TrainConfig
from tuneforge.train.optim import build_optimizer, build_scheduler


class M(nn.Module):
    def __init__(self):
        super().__init__()
        self.backbone = nn.Sequential(nn.Linear(4, 4), nn.LayerNorm(4))
        self.head = nn.Linear(4, 2)


def test_no_decay_on_bias_and_layernorm_and_head_lr():
    cfg = TrainConfig(lr=1e-4, head_lr=1e-3, weight_decay=0.1)
    opt = build_optimizer(M(), cfg)
    seen = {}
    for g in opt.param_groups:
        for p in g["params"]:
            seen[p.shape, p.ndim, g["lr"]] = g["weight_decay"]
    assert seen[(torch.Size([4, 4]), 2, 1e-4)] == 0.1  # backbone weight decays
    assert seen[(torch.Size([4]), 1, 1e-4)] == 0.0  # bias / LayerNorm do not
    assert seen[(torch.Size([2, 4]), 2, 1e-3)] == 0.1  # head at its own rate


def test_default_head_lr_is_ten_times():
    opt = build_optimizer(M(), TrainConfig(lr=2e-5))
    assert {g["lr"] for g in opt.param_groups} == {2e-5, 2e-4}


@pytest.mark.parametrize("schedule", ["linear", "cosine", "constant"])
def test_warmup_then_decay(schedule):
    p = nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([p], lr=1.0)
    sched = build_scheduler(opt, TrainConfig(warmup=0.1, schedule=schedule), total_steps=100)
    lrs = []
    for _ in range(100):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    assert lrs[0] < lrs[5] < lrs[9] <= 1.0
    assert max(lrs) == pytest.approx(1.0)
    if schedule == "constant":
        assert lrs[-1] == pytest.approx(1.0)
    else:
        assert lrs[-1] < 0.05


def test_optimizer_uses_the_fused_adamw_kernel():
    opt = build_optimizer(M(), TrainConfig())
    assert opt.defaults.get("fused") is True

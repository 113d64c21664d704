"""Learning-rate schedules against torch.optim.lr_scheduler."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import symgrad as sg

SCHEDULES = [
    ("StepLR", dict(step_size=3, gamma=0.5)),
    ("ExponentialLR", dict(gamma=0.9)),
    ("CosineAnnealingLR", dict(T_max=4, eta_min=0.01)),
]


@pytest.mark.parametrize(("name", "kwargs"), SCHEDULES, ids=[n for n, _ in SCHEDULES])
def test_schedule_matches_torch(name, kwargs):
    opt = sg.optim.SGD([sg.tensor([1.0], requires_grad=True)], lr=0.3)
    topt = torch.optim.SGD([torch.tensor([1.0], requires_grad=True)], lr=0.3)
    sched = getattr(sg.optim.lr_scheduler, name)(opt, **kwargs)
    tsched = getattr(torch.optim.lr_scheduler, name)(topt, **kwargs)
    for _ in range(12):
        opt.step()
        topt.step()
        sched.step()
        tsched.step()
        np.testing.assert_allclose(sched.get_last_lr(), tsched.get_last_lr(), rtol=1e-15)

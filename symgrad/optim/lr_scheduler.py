"""Learning-rate schedules: ``StepLR``, ``ExponentialLR``, ``CosineAnnealingLR``.

Each ``scheduler.step()`` sets ``group['lr']`` with PyTorch's (recursive) formulas;
compiled training steps read the new rate at their next call, without a retrace.

Example:
    >>> import symgrad as sg
    >>> opt = sg.optim.SGD([sg.tensor([1.0], requires_grad=True)], lr=1.0)
    >>> sched = StepLR(opt, step_size=2, gamma=0.5)
    >>> lrs = []
    >>> for _ in range(4):
    ...     opt.step(); sched.step(); lrs.append(opt.param_groups[0]["lr"])
    >>> lrs
    [1.0, 0.5, 0.5, 0.25]
"""

from __future__ import annotations

import math

from symgrad.optim.optimizer import Optimizer


class LRScheduler:
    """Base class of the schedules, as ``torch.optim.lr_scheduler.LRScheduler``: it
    records each group's ``initial_lr`` (``base_lrs``) and takes its first step at
    construction (``last_epoch`` becomes 0).  Subclasses define :meth:`get_lr`.
    ``step(epoch)`` with an explicit epoch is not supported.

    >>> import symgrad as sg
    >>> opt = sg.optim.SGD([sg.tensor([1.0], requires_grad=True)], lr=0.1)
    >>> sched = ExponentialLR(opt, gamma=0.5)
    >>> sched.base_lrs, sched.last_epoch, sched.get_last_lr()
    ([0.1], 0, [0.1])
    """

    def __init__(self, optimizer: Optimizer, last_epoch: int = -1):
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(optimizer).__name__} is not a symgrad optimizer")
        self.optimizer = optimizer
        for group in optimizer.param_groups:
            group.setdefault("initial_lr", group["lr"])
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        self._step_count = 0
        self.step()

    def get_lr(self) -> list[float]:
        """Each group's rate for epoch ``last_epoch``, from the current rates (PyTorch's
        recursive form); :meth:`step` calls it."""
        raise NotImplementedError

    def step(self) -> None:
        """Advance one epoch and set every group's ``lr``; call it after
        ``optimizer.step()``, as in PyTorch.  A compiled training step reads the new rate at
        its next call, without tracing again."""
        self._step_count += 1
        self.last_epoch += 1
        for group, lr in zip(self.optimizer.param_groups, self.get_lr(), strict=True):
            group["lr"] = lr
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def get_last_lr(self) -> list[float]:
        """The rates the last :meth:`step` set, one per group."""
        return self._last_lr

    def state_dict(self) -> dict:
        """The scheduler's attributes except the optimizer (for :meth:`load_state_dict`)."""
        return {k: v for k, v in self.__dict__.items() if k != "optimizer"}

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore what :meth:`state_dict` returned (the group rates are not set)."""
        self.__dict__.update(state_dict)


class StepLR(LRScheduler):
    """Multiply the rate by ``gamma`` every ``step_size`` epochs, as PyTorch's ``StepLR``.

    >>> import symgrad as sg
    >>> opt = sg.optim.SGD([sg.tensor([1.0], requires_grad=True)], lr=1.0)
    >>> sched = StepLR(opt, step_size=2, gamma=0.1)
    >>> [(sched.step(), round(sched.get_last_lr()[0], 6))[1] for _ in range(4)]
    [1.0, 0.1, 0.1, 0.01]
    """

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1, last_epoch=-1):
        self.step_size, self.gamma = step_size, gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        groups = self.optimizer.param_groups
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return [g["lr"] for g in groups]
        return [g["lr"] * self.gamma for g in groups]


class ExponentialLR(LRScheduler):
    """Multiply the rate by ``gamma`` every epoch, as PyTorch's ``ExponentialLR``.

    >>> import symgrad as sg
    >>> opt = sg.optim.SGD([sg.tensor([1.0], requires_grad=True)], lr=1.0)
    >>> sched = ExponentialLR(opt, gamma=0.5)
    >>> [(sched.step(), sched.get_last_lr()[0])[1] for _ in range(3)]
    [0.5, 0.25, 0.125]
    """

    def __init__(self, optimizer: Optimizer, gamma: float, last_epoch=-1):
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        groups = self.optimizer.param_groups
        if self.last_epoch == 0:
            return [g["lr"] for g in groups]
        return [g["lr"] * self.gamma for g in groups]


class CosineAnnealingLR(LRScheduler):
    """Cosine annealing from the base rate to ``eta_min`` over ``T_max`` epochs (then back
    up, periodically), with PyTorch's recursive formula (``CosineAnnealingLR``, no
    restarts).

    >>> import symgrad as sg
    >>> opt = sg.optim.SGD([sg.tensor([1.0], requires_grad=True)], lr=1.0)
    >>> sched = CosineAnnealingLR(opt, T_max=2)
    >>> [(sched.step(), round(sched.get_last_lr()[0], 6))[1] for _ in range(3)]
    [0.5, 0.0, 0.5]
    """

    def __init__(self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0, last_epoch=-1):
        self.T_max, self.eta_min = T_max, eta_min
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        groups = self.optimizer.param_groups
        t, n, lo = self.last_epoch, self.T_max, self.eta_min
        if t == 0:
            return [g["lr"] for g in groups]
        if self._step_count == 1 and t > 0:
            return [
                lo + (base - lo) * (1 + math.cos(t * math.pi / n)) / 2 for base in self.base_lrs
            ]
        if (t - 1 - n) % (2 * n) == 0:
            return [
                g["lr"] + (base - lo) * (1 - math.cos(math.pi / n)) / 2
                for base, g in zip(self.base_lrs, groups, strict=True)
            ]
        return [
            (1 + math.cos(math.pi * t / n)) / (1 + math.cos(math.pi * (t - 1) / n)) * (g["lr"] - lo)
            + lo
            for g in groups
        ]

"""Adam, AdamW (decoupled weight decay) and their AMSGrad variants, as PyTorch documents them.

Example:
    >>> import symgrad as sg
    >>> w = sg.tensor([1.0], requires_grad=True)
    >>> opt = Adam([w], lr=0.1)
    >>> (w * w).sum().backward()
    >>> opt.step()
    >>> w
    tensor([0.9], requires_grad=True)
"""

from __future__ import annotations

from symgrad.frontend.math import maximum
from symgrad.frontend.tensor import Tensor
from symgrad.optim.optimizer import Optimizer


class Adam(Optimizer):
    """Adam with PyTorch's algorithm and arguments:
    ``Adam(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False)``.

    Its moment buffers are created at the first ``step()``.  Inside ``@sg.compile`` the
    step is part of the kernel; the learning rate and the step count are read at each
    call, so a scheduler or a new step never retraces.

    >>> import symgrad as sg
    >>> w = sg.nn.Parameter(sg.tensor([1.0, -1.0]))
    >>> optimizer = sg.optim.Adam([w], lr=0.1)
    >>> (w ** 2).sum().backward()
    >>> optimizer.step()
    >>> w  # the first step moves each weight by lr, against its gradient's sign
    Parameter containing:
    tensor([ 0.9, -0.9], requires_grad=True)
    """

    decoupled = False

    def __init__(
        self,
        params,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        amsgrad: bool = False,
        maximize: bool = False,
    ):
        if lr < 0 or eps < 0 or not (0 <= betas[0] < 1 and 0 <= betas[1] < 1):
            raise ValueError(f"{type(self).__name__}: invalid lr={lr}, betas={betas} or eps={eps}")
        defaults = dict(
            lr=lr,
            betas=tuple(betas),
            eps=eps,
            weight_decay=weight_decay,
            amsgrad=amsgrad,
            maximize=maximize,
        )
        super().__init__(params, defaults)

    def state_buffers(self, group) -> list[tuple[str, bool]]:
        """``step``, ``exp_avg``, ``exp_avg_sq`` and, with ``amsgrad``, ``max_exp_avg_sq``."""
        names = [("step", False), ("exp_avg", True), ("exp_avg_sq", True)]
        return names + ([("max_exp_avg_sq", True)] if group["amsgrad"] else [])

    def update_group(self, group, lr: Tensor) -> None:
        """One Adam (or AdamW) step for the group's parameters that have a gradient."""
        beta1, beta2 = group["betas"]
        decay = group["weight_decay"]
        for p in self.with_grads(group):
            grad = self.gradient(p, group, weight_decay=not self.decoupled)
            if decay and self.decoupled:
                p.mul_(1 - lr * decay)
            step = self.buffer(p, "step")
            exp_avg = self.buffer(p, "exp_avg", like=p)
            exp_avg_sq = self.buffer(p, "exp_avg_sq", like=p)
            step.add_(1)
            exp_avg.lerp_(grad, 1 - beta1)
            exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
            bias_correction1 = 1 - beta1**step
            bias_correction2 = 1 - beta2**step
            step_size = lr / bias_correction1
            if group["amsgrad"]:
                peak = self.buffer(p, "max_exp_avg_sq", like=p)
                peak.copy_(maximum(peak, exp_avg_sq))
                second = peak
            else:
                second = exp_avg_sq
            denom = second.sqrt() / bias_correction2.sqrt() + group["eps"]
            p.addcdiv_(exp_avg, denom, value=-step_size)


class AdamW(Adam):
    """Adam with decoupled weight decay, as PyTorch's ``AdamW``: each step first shrinks
    the weights by ``lr * weight_decay`` (default ``weight_decay=1e-2``), then takes
    Adam's step, so the decay does not pass through the moment estimates.

    >>> import symgrad as sg
    >>> w = sg.nn.Parameter(sg.tensor([1.0]))
    >>> optimizer = sg.optim.AdamW([w], lr=0.1, weight_decay=0.5)
    >>> (w * 0).sum().backward()  # a zero gradient: only the decay acts
    >>> optimizer.step()
    >>> w
    Parameter containing:
    tensor([0.95], requires_grad=True)
    """

    decoupled = True

    def __init__(
        self,
        params,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        amsgrad: bool = False,
        maximize: bool = False,
    ):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize)

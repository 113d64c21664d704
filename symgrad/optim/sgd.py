"""Stochastic gradient descent with momentum, dampening, Nesterov and weight decay.

The update is PyTorch's documented algorithm, step for step.

Example:
    >>> import symgrad as sg
    >>> w = sg.tensor([1.0], requires_grad=True)
    >>> opt = SGD([w], lr=0.5, momentum=0.9)
    >>> for _ in range(2):
    ...     opt.zero_grad()
    ...     (w * w).sum().backward()
    ...     opt.step()
    >>> w
    tensor([-0.9], requires_grad=True)
"""

from __future__ import annotations

from symgrad.frontend.tensor import Tensor
from symgrad.optim.optimizer import Optimizer


class SGD(Optimizer):
    """Stochastic gradient descent with PyTorch's ``SGD`` algorithm and arguments:
    ``SGD(params, lr, momentum=0, dampening=0, nesterov=False, weight_decay=0)``.

    ``params`` is an iterable of Parameters or of param-group dicts.  ``step()`` is
    traceable: inside ``@sg.compile`` it becomes part of the kernel, and ``lr`` (read at
    each call) can change without a retrace.

    >>> import symgrad as sg
    >>> w = sg.nn.Parameter(sg.tensor([1.0, 2.0]))
    >>> optimizer = sg.optim.SGD([w], lr=0.1)
    >>> (w ** 2).sum().backward()
    >>> optimizer.step()
    >>> w
    Parameter containing:
    tensor([0.8, 1.6], requires_grad=True)
    """

    def __init__(
        self,
        params,
        lr: float = 1e-3,
        momentum: float = 0.0,
        dampening: float = 0.0,
        nesterov: bool = False,
        weight_decay: float = 0.0,
        maximize: bool = False,
    ):
        if lr < 0 or momentum < 0 or weight_decay < 0:
            raise ValueError(
                f"SGD: invalid lr={lr}, momentum={momentum} or weight_decay={weight_decay}"
            )
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("SGD: Nesterov momentum needs momentum > 0 and dampening = 0")
        defaults = dict(
            lr=lr,
            momentum=momentum,
            dampening=dampening,
            nesterov=nesterov,
            weight_decay=weight_decay,
            maximize=maximize,
        )
        super().__init__(params, defaults)

    def update_group(self, group, lr: Tensor) -> None:
        """One SGD step for the group's parameters that have a gradient."""
        momentum, dampening = group["momentum"], group["dampening"]
        for p in self.with_grads(group):
            d_p = self.gradient(p, group)
            if momentum:
                fresh = "momentum_buffer" not in self.state.get(p, {})
                buf = self.buffer(p, "momentum_buffer", like=p)
                if fresh:
                    buf.copy_(d_p)
                else:
                    buf.mul_(momentum).add_(d_p, alpha=1 - dampening)
                d_p = d_p + buf * momentum if group["nesterov"] else buf
            p.sub_(d_p * lr)

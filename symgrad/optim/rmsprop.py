"""RMSprop, with momentum and the centered variant, as PyTorch documents it.

Example:
    >>> import symgrad as sg
    >>> w = sg.tensor([1.0], requires_grad=True)
    >>> opt = RMSprop([w], lr=0.01)
    >>> (w * w).sum().backward()
    >>> opt.step()
    >>> round(w.item(), 4)
    0.9
"""

from __future__ import annotations

from symgrad.frontend.tensor import Tensor
from symgrad.optim.optimizer import Optimizer


class RMSprop(Optimizer):
    """``RMSprop(params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0,
    centered=False, maximize=False)``, with PyTorch's ``RMSprop`` algorithm: a running
    mean of squared gradients ``v = alpha*v + (1-alpha)*g**2`` (``centered``: minus the
    squared running mean of ``g``), then ``p -= lr * g / (sqrt(v) + eps)``, through a
    momentum buffer when ``momentum > 0``.  No ``capturable``/``foreach`` options.

    >>> import symgrad as sg
    >>> w = sg.tensor([1.0, -1.0], requires_grad=True)
    >>> opt = RMSprop([w], lr=0.05)
    >>> (w * w).sum().backward(); opt.step()  # the first step moves by lr / sqrt(1 - alpha)
    >>> [round(v, 6) for v in w.tolist()]
    [0.5, -0.5]
    """

    def __init__(
        self,
        params,
        lr: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        momentum: float = 0.0,
        centered: bool = False,
        maximize: bool = False,
    ):
        if lr < 0 or eps < 0 or alpha < 0 or momentum < 0:
            raise ValueError(
                f"RMSprop: invalid lr={lr}, alpha={alpha}, eps={eps} or momentum={momentum}"
            )
        defaults = dict(
            lr=lr,
            alpha=alpha,
            eps=eps,
            weight_decay=weight_decay,
            momentum=momentum,
            centered=centered,
            maximize=maximize,
        )
        super().__init__(params, defaults)

    def state_buffers(self, group) -> list[tuple[str, bool]]:
        """``step``, ``square_avg`` and, as the group asks, ``grad_avg`` and
        ``momentum_buffer`` (see :meth:`Optimizer.state_buffers`)."""
        names = [("step", False), ("square_avg", True)]
        names += [("grad_avg", True)] if group["centered"] else []
        return names + ([("momentum_buffer", True)] if group["momentum"] > 0 else [])

    def update_group(self, group, lr: Tensor) -> None:
        """One RMSprop step for the group's parameters that have a gradient."""
        alpha = group["alpha"]
        for p in self.with_grads(group):
            grad = self.gradient(p, group)
            step = self.buffer(p, "step")
            square_avg = self.buffer(p, "square_avg", like=p)
            step.add_(1)
            square_avg.mul_(alpha).addcmul_(grad, grad, value=1 - alpha)
            if group["centered"]:
                grad_avg = self.buffer(p, "grad_avg", like=p)
                grad_avg.lerp_(grad, 1 - alpha)
                avg = (square_avg - grad_avg * grad_avg).sqrt() + group["eps"]
            else:
                avg = square_avg.sqrt() + group["eps"]
            if group["momentum"] > 0:
                buf = self.buffer(p, "momentum_buffer", like=p)
                buf.mul_(group["momentum"]).addcdiv_(grad, avg)
                p.sub_(buf * lr)
            else:
                p.addcdiv_(grad, avg, value=-lr)

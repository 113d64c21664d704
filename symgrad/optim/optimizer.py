"""The optimizer base class: parameter groups, state, and updates that run as one kernel.

An optimizer's update is written once, with in-place tensor ops (``p.add_(...)``,
``buf.mul_(m).add_(g)``).  Called eagerly, ``step()`` traces that update into
one generated kernel per parameter-group structure and runs it; called inside a
compiled training step, the same update is recorded into the step's kernel.
Learning rates are runtime inputs (a scheduler changes them without a retrace),
while the other hyperparameters and the shape of the state are guards: change
them and the update is traced again.

Example:
    >>> import symgrad as sg
    >>> w = sg.tensor([1.0, 2.0], requires_grad=True)
    >>> opt = sg.optim.SGD([w], lr=0.1)
    >>> (w * w).sum().backward()
    >>> opt.step()
    >>> w
    tensor([0.8, 1.6], requires_grad=True)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

import numpy as np

from symgrad.frontend.tensor import Tensor
from symgrad.ir.scopes import STATE as SCOPES
from symgrad.recording import RECORDING, enable_grad, no_grad
from symgrad.runtime.compiled import CompiledFunction


class Optimizer:
    """Base class of the optimizers, as ``torch.optim.Optimizer``: ``param_groups`` (dicts
    with ``params`` and hyperparameters, ``defaults`` filling the rest) and ``state``
    (per parameter, its buffers as Tensors).

    ``step()`` runs every group's update as one compiled kernel (traced again when the
    hyperparameters other than ``lr``, which parameters have a ``.grad``, or the state
    buffers change); inside ``@sg.compile`` it is recorded into the caller's kernel.  A
    subclass defines :meth:`update_group` with in-place tensor ops, and
    :meth:`state_buffers`.  No hooks, ``foreach``, ``fused`` or sparse gradients.

    >>> import symgrad as sg
    >>> w = sg.tensor([1.0, 2.0], requires_grad=True)
    >>> opt = sg.optim.SGD([{"params": [w], "lr": 0.5}], lr=0.1)
    >>> (w * w).sum().backward(); opt.step(); w
    tensor([0., 0.], requires_grad=True)
    """

    def __init__(self, params: Iterable, defaults: dict[str, Any]):
        self.defaults = dict(defaults)
        self.state: dict[Tensor, dict[str, Tensor]] = {}
        self.param_groups: list[dict[str, Any]] = []
        groups = list(params)
        if not groups:
            raise ValueError(f"{type(self).__name__} got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)
        self._lr_tensors: dict[int, Tensor] = {}
        self._update: Callable[[], None] | None = None
        self._buffers_made = 0

    def add_param_group(self, group: dict[str, Any]) -> None:
        """Add a group of parameters with its own hyperparameters (defaults fill the rest),
        as in PyTorch; the parameters must be leaf tensors in no other group.

        >>> import symgrad as sg
        >>> opt = sg.optim.SGD([sg.zeros(1, requires_grad=True)], lr=0.1)
        >>> opt.add_param_group({"params": [sg.zeros(2, requires_grad=True)], "lr": 0.01})
        >>> [g["lr"] for g in opt.param_groups]
        [0.1, 0.01]
        """
        params = group["params"]
        params = [params] if isinstance(params, Tensor) else list(params)
        for p in params:
            if not isinstance(p, Tensor):
                raise TypeError(
                    f"{type(self).__name__} can only optimize tensors, got {type(p).__name__}"
                )
            if not p.is_leaf:  # a frozen leaf (requires_grad=False) is fine: it is skipped
                raise ValueError(
                    f"{type(self).__name__}: can't optimize a non-leaf tensor of shape {p.shape} "
                    "(use sg.nn.Parameter, or .detach().requires_grad_())"
                )
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        if any(id(p) in seen for p in params):
            raise ValueError("some parameters appear in more than one parameter group")
        full = {**self.defaults, **group, "params": params}
        self.param_groups.append(full)

    # --- the public API ---------------------------------------------------------------
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset the gradients of all parameters: to ``None`` (the default, as PyTorch), or
        with ``set_to_none=False`` to zeros in place.

        >>> import symgrad as sg
        >>> w = sg.tensor([1.0], requires_grad=True)
        >>> opt = sg.optim.SGD([w], lr=0.1); (2 * w).sum().backward(); opt.zero_grad()
        >>> w.grad is None
        True
        """
        for group in self.param_groups:
            for p in group["params"]:
                if set_to_none:
                    p.grad = None
                elif p.grad is not None:
                    with no_grad():
                        p.grad.zero_()

    def step(self, closure: Callable[[], Tensor] | None = None) -> Tensor | None:
        """Update every parameter that has a gradient (one generated kernel), as
        ``torch.optim.Optimizer.step``; parameters without ``.grad`` are skipped.  A
        ``closure`` is called first (with gradients enabled) and its loss returned.

        >>> import symgrad as sg
        >>> w = sg.tensor([3.0], requires_grad=True)
        >>> opt = sg.optim.SGD([w], lr=0.25)
        >>> def closure():
        ...     opt.zero_grad(); loss = (w * w).sum(); loss.backward(); return loss
        >>> opt.step(closure), w
        (tensor(9., grad_fn=<recorded>), tensor([1.5], requires_grad=True))
        """
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        if RECORDING.trace is not None:
            self._record_update()
        else:
            if self._update is None:
                self._update = CompiledFunction(self._record_update)
            self._update()
        return loss

    # --- what subclasses write ----------------------------------------------------------
    def update_group(self, group: dict[str, Any], lr: Tensor) -> None:
        """Update the parameters of one group in place (subclasses implement this with
        tensor ops, under ``no_grad``); ``lr`` is a 0-d tensor holding the group's rate,
        refreshed before each call, so a new rate never retraces."""
        raise NotImplementedError

    def state_buffers(self, group: dict[str, Any]) -> list[tuple[str, bool]]:
        """``(name, per_element)`` of the buffers whose first value is zero: made before
        the first step, so the first step and the later ones share one kernel."""
        return []

    def init_state(self, group: dict[str, Any]) -> None:
        """Make the :meth:`state_buffers` of the group's parameters that have a gradient."""
        for p in group["params"]:
            if p.grad is not None:
                for name, per_element in self.state_buffers(group):
                    self.buffer(p, name, like=p if per_element else None)

    def with_grads(self, group: dict[str, Any]) -> Iterator[Tensor]:
        """The group's parameters that have a gradient; each one's update is recorded in
        a scope of its own, so a large compiled step splits into per-parameter pieces
        (the same piece for parameters of the same shape)."""
        for p in group["params"]:
            if p.grad is None:
                continue
            SCOPES.enter()
            try:
                yield p
            finally:
                SCOPES.leave()

    def gradient(self, p: Tensor, group: dict[str, Any], weight_decay: bool = True) -> Tensor:
        """``p.grad`` (negated with ``maximize``), plus the L2 term ``weight_decay * p``
        unless ``weight_decay=False`` (AdamW decays the weights itself)."""
        grad = -p.grad if group["maximize"] else p.grad
        if weight_decay and group["weight_decay"]:
            grad = grad + p * group["weight_decay"]
        return grad

    # --- machinery ----------------------------------------------------------------------
    def _record_update(self) -> None:
        trace = RECORDING.trace
        for group in self.param_groups:
            self.init_state(group)
        written = trace.written_so_far()  # those .grad are the function's own doing
        trace.guard(lambda: self._structure(written))
        with no_grad():
            for index, group in enumerate(self.param_groups):
                self.update_group(group, self._lr(index, trace))

    def _lr(self, index: int, trace) -> Tensor:
        lr = self._lr_tensors.get(index)
        if lr is None:
            lr = self._lr_tensors[index] = Tensor(np.array(0.0))
        group = self.param_groups[index]

        def sync(lr=lr, group=group) -> None:
            lr._value[()] = group["lr"]

        sync()
        trace.before_call.append(sync)
        return lr

    def _structure(self, written: frozenset[int] = frozenset()) -> tuple:
        """What the recorded update assumed: hyperparameters other than ``lr``, which
        parameters have gradients, which state buffers exist (a counter of creations).

        The ``.grad`` of parameters in ``written`` (ids) was set by the traced function
        itself before the step, so the step does not depend on it when a call begins.
        """
        hyper = tuple(
            tuple(v for k, v in group.items() if k not in ("params", "lr", "initial_lr"))
            for group in self.param_groups
        )
        grads = tuple(
            None if id(p) in written else p._grad is None
            for group in self.param_groups
            for p in group["params"]
        )
        return hyper, grads, self._buffers_made

    def buffer(self, p: Tensor, name: str, like: Tensor | None = None, fill: float = 0.0) -> Tensor:
        """The state tensor ``name`` of parameter ``p``, created filled with ``fill``: of
        ``like``'s shape and dtype, or a float64 scalar (a step counter) without it."""
        slot = self.state.setdefault(p, {})
        if name not in slot:
            self._buffers_made += 1
            shape, dtype = ((), np.float64) if like is None else (like.shape, like.dtype)
            slot[name] = Tensor(np.full(shape, fill, dtype))
        return slot[name]

    # --- saving -----------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """``{'state': {index: {name: array}}, 'param_groups': [...]}``, as in PyTorch
        (parameters numbered in group order; the arrays are copies).

        >>> import symgrad as sg
        >>> w = sg.tensor([1.0], requires_grad=True)
        >>> opt = sg.optim.Adam([w]); w.sum().backward(); opt.step()
        >>> sorted(opt.state_dict()["state"][0]), opt.state_dict()["param_groups"][0]["params"]
        (['exp_avg', 'exp_avg_sq', 'step'], [0])
        """
        index = {}
        groups = []
        for group in self.param_groups:
            ids = []
            for p in group["params"]:
                index.setdefault(id(p), len(index))
                ids.append(index[id(p)])
            groups.append({**{k: v for k, v in group.items() if k != "params"}, "params": ids})
        state = {
            index[id(p)]: {k: v.numpy().copy() for k, v in slot.items()}
            for p, slot in self.state.items()
        }
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore hyperparameters and state saved by :meth:`state_dict` (copies); the
        groups must have as many parameters as when saved, else ``ValueError``."""
        groups = state_dict["param_groups"]
        if len(groups) != len(self.param_groups) or any(
            len(g["params"]) != len(mine["params"])
            for g, mine in zip(groups, self.param_groups, strict=False)
        ):
            raise ValueError("loaded state dict has a different number of parameters or groups")
        by_index = {}
        for saved, mine in zip(groups, self.param_groups, strict=True):
            for i, p in zip(saved["params"], mine["params"], strict=True):
                by_index[i] = p
            mine.update({k: v for k, v in saved.items() if k != "params"})
        self.state = {
            by_index[int(i)]: {k: Tensor(np.array(v, copy=True)) for k, v in slot.items()}
            for i, slot in state_dict["state"].items()
        }
        self._buffers_made += 1
        self._update = None

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines += [f"    {k}: {v}" for k, v in sorted(group.items()) if k != "params"]
        return "\n".join([*lines, ")"])

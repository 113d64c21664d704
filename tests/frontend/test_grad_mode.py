"""Grad modes (``no_grad``, ``enable_grad``, ``set_grad_enabled``, ``inference_mode``),
``grad_fn`` and ``backward(retain_graph=)``: each scenario runs on torch and symgrad
and must observe the same things."""

from __future__ import annotations

import threading

import numpy as np
import pytest
import torch

import symgrad as sg


def _leaf(m):
    return m.tensor([1.0, 2.0], requires_grad=True)


def _as_context(m):
    x, seen = _leaf(m), []
    with m.no_grad():
        seen += [m.is_grad_enabled(), (x * 2).requires_grad]
        with m.enable_grad():
            seen += [m.is_grad_enabled(), (x * 2).requires_grad]
        seen.append(m.is_grad_enabled())
    seen += [m.is_grad_enabled(), (x * 2).requires_grad]
    try:
        with m.no_grad():
            raise KeyError
    except KeyError:
        seen.append(m.is_grad_enabled())
    return seen


def _as_decorators(m):
    x = _leaf(m)

    @m.no_grad
    def bare(t):
        """doc"""
        return t * 2

    @m.no_grad()
    def called(t):
        return t * 2

    @m.enable_grad
    def enabled_bare(t):
        return t * 2

    @m.enable_grad()
    def enabled_called(t):
        return t * 2

    seen = [bare(x).requires_grad, called(x).requires_grad, bare.__name__, bare.__doc__]
    with m.no_grad():
        seen += [enabled_bare(x).requires_grad, enabled_called(x).requires_grad]
    return [*seen, m.is_grad_enabled()]


def _decorated_generator(m):
    x = _leaf(m)

    @m.no_grad()
    def gen():
        yield (x * 2).requires_grad
        yield m.is_grad_enabled()

    it = gen()
    first = next(it)
    between = m.is_grad_enabled()
    return [first, between, next(it), m.is_grad_enabled()]


def _set_grad_enabled(m):
    x, seen = _leaf(m), []
    m.set_grad_enabled(False)
    seen += [m.is_grad_enabled(), (x * 2).requires_grad]
    m.set_grad_enabled(True)
    seen.append(m.is_grad_enabled())
    with m.set_grad_enabled(False):
        seen.append(m.is_grad_enabled())
        with m.set_grad_enabled(True):
            seen += [m.is_grad_enabled(), (x * 2).requires_grad]
        seen.append(m.is_grad_enabled())
    seen.append(m.is_grad_enabled())

    @m.set_grad_enabled(False)
    def off(t):
        return t * 2, m.is_grad_enabled()

    seen.append(m.is_grad_enabled())  # decorating changes nothing
    y, inside = off(x)
    return [*seen, y.requires_grad, inside, m.is_grad_enabled()]


def _inference_mode(m):
    x, seen = _leaf(m), []
    with m.inference_mode():
        seen += [m.is_grad_enabled(), m.is_inference_mode_enabled(), (x * 2).requires_grad]
        with m.inference_mode(False):
            seen += [m.is_grad_enabled(), m.is_inference_mode_enabled()]
    with m.no_grad(), m.inference_mode(mode=False):
        seen.append(m.is_grad_enabled())
    seen += [m.is_grad_enabled(), m.is_inference_mode_enabled()]

    @m.inference_mode
    def bare(t):
        return (t * 2).requires_grad, m.is_inference_mode_enabled()

    @m.inference_mode()
    def called(t):
        return (t * 2).requires_grad

    return [*seen, bare(x), called(x), m.is_inference_mode_enabled()]


SCENARIOS = [_as_context, _as_decorators, _decorated_generator, _set_grad_enabled, _inference_mode]


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda f: f.__name__.strip("_"))
def test_grad_modes_behave_as_torch(scenario):
    assert scenario(sg) == scenario(torch)
    assert sg.is_grad_enabled() and not sg.is_inference_mode_enabled()


def test_grad_mode_is_per_thread():
    seen = []
    with sg.no_grad():
        worker = threading.Thread(target=lambda: seen.append(sg.is_grad_enabled()))
        worker.start()
        worker.join()
    assert seen == [True]


def test_bad_grad_mode_arguments():
    with pytest.raises(TypeError, match="bool"):
        sg.set_grad_enabled("no")
    with pytest.raises(TypeError, match="bool"):
        sg.inference_mode(1)
    with pytest.raises(TypeError):
        sg.no_grad(3)


# --- grad_fn ----------------------------------------------------------------------------

NAMED_OPS = {
    "mul": lambda m, x, y: x * y,
    "mul_number": lambda m, x, y: x * 3,
    "add": lambda m, x, y: x + y,
    "sub": lambda m, x, y: x - y,
    "sub_number": lambda m, x, y: x - 1,
    "div": lambda m, x, y: x / y,
    "neg": lambda m, x, y: -x,
    "pow": lambda m, x, y: x**3,
    "exp": lambda m, x, y: x.exp(),
    "log": lambda m, x, y: x.log(),
    "tanh": lambda m, x, y: x.tanh(),
    "relu": lambda m, x, y: x.relu(),
    "sum": lambda m, x, y: x.sum(),
    "cat": lambda m, x, y: m.cat([x, y]),
    "permute": lambda m, x, y: x.reshape(2, 1).permute(1, 0),
    "view": lambda m, x, y: x.view(2, 1),
    "to_float32": lambda m, x, y: x.float(),
    "in_place": lambda m, x, y: (x * 1).mul_(y),
}


@pytest.mark.parametrize("op", NAMED_OPS.values(), ids=NAMED_OPS.keys())
def test_grad_fn_names_the_op_as_torch(op):
    data = ([1.0, 2.0], [3.0, 4.0])
    s = op(sg, *(sg.tensor(d, requires_grad=True) for d in data))
    t = op(torch, *(torch.tensor(d, dtype=torch.float64, requires_grad=True) for d in data))
    assert s.grad_fn.name() == t.grad_fn.name()
    assert repr(s.grad_fn).startswith(f"<{t.grad_fn.name()}")


def test_grad_fn_is_none_for_leaves_and_untracked_results_and_read_only():
    x = sg.tensor([1.0], requires_grad=True)
    assert x.grad_fn is None and sg.tensor([1.0]).grad_fn is None
    assert (sg.tensor([1.0]) * 2).grad_fn is None
    with sg.no_grad():
        assert (x * 2).grad_fn is None
    assert (x * 2).detach().grad_fn is None
    with pytest.raises(AttributeError):
        (x * 2).grad_fn = None


def test_backward_accepts_retain_graph_as_torch():
    data = np.array([1.0, -2.0, 0.5])
    x = sg.tensor(data, requires_grad=True)
    t = torch.tensor(data, requires_grad=True)
    ys, yt = (x * x).tanh().sum(), (t * t).tanh().sum()
    ys.backward(retain_graph=True)
    yt.backward(retain_graph=True)
    ys.backward(retain_graph=False)
    yt.backward(retain_graph=False)
    np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-12)
    g = sg.tensor([1.0, 2.0, 3.0])
    (x * 2).backward(g, True)
    (t * 2).backward(torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64), True)
    np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-12)


def test_backward_refuses_what_it_does_not_support():
    x = sg.tensor([1.0], requires_grad=True)
    with pytest.raises(sg.errors.UnsupportedOpError, match=r"autograd\.grad"):
        (x * x).sum().backward(create_graph=True)
    with pytest.raises(sg.errors.UnsupportedOpError, match=r"autograd\.grad"):
        (x * x).sum().backward(inputs=[x])

"""What a user changes between two calls never makes a kernel read or write past an end.

The cases that used to crash the interpreter run in a subprocess, so a segfault fails
the test instead of ending the run.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest

import symgrad as sg
from symgrad.errors import GradError, ShapeError


def test_grad_setter_accepts_only_a_tensor_of_the_same_shape_and_dtype():
    p = sg.tensor(np.ones(4), requires_grad=True)
    p.grad = sg.zeros(4)
    p.grad = None
    with pytest.raises(ShapeError, match=r"assigned grad has shape \(3,\)"):
        p.grad = sg.zeros(3)
    with pytest.raises(GradError, match="dtype float32"):
        p.grad = sg.zeros(4, dtype=sg.float32)
    with pytest.raises(TypeError, match="got str"):
        p.grad = "abc"
    assert p.grad is None


def test_compiled_function_retraces_when_a_captured_parameter_is_resized():
    w = sg.nn.Parameter(sg.tensor(np.ones(5)))
    f = sg.compile(lambda x: (w * x).sum())
    assert f(np.ones(5)).item() == 5.0
    w.data = np.array([10.0, 20.0])
    with pytest.raises(ShapeError, match=r"cannot broadcast \(2,\) with \(5,\)"):
        f(np.ones(5))
    assert f(np.ones(2)).item() == 30.0


def test_optimizer_step_after_a_resize_raises_instead_of_writing_past_the_end():
    p = sg.nn.Parameter(sg.tensor(np.ones(5)))
    opt = sg.optim.SGD([p], lr=0.1, momentum=0.9)
    (p * p).sum().backward()
    opt.step()
    p.data = np.ones(2)
    with pytest.raises(ShapeError):
        opt.step()


CRASHES = {
    "grad of another size, then backward": """
        p = sg.tensor(np.ones(10**6), requires_grad=True)
        try:
            p.grad = sg.zeros(3)
        except sg.errors.ShapeError:
            print("refused")
        (p * 2.0).sum().backward()
        assert p.grad.shape == (10**6,)
        """,
    "parameter resized between forward and backward": """
        w = sg.nn.Parameter(sg.tensor(np.ones(10**5)))
        y = (w * w).sum()
        w.data = np.ones(2)
        try:
            y.backward()
        except sg.errors.GradError:
            print("refused")
        """,
    "parameter resized while its grad keeps the old size": """
        w = sg.nn.Parameter(sg.tensor(np.ones(10**5)))
        (w * w).sum().backward()
        w.data = np.ones(2)
        try:
            (w * w).sum().backward()
        except sg.errors.ShapeError:
            print("refused")
        """,
    "compiled step reads a resized parameter": """
        w = sg.nn.Parameter(sg.tensor(np.ones(10**5)))
        f = sg.compile(lambda x: (w * x).sum(), tier="sync")
        f(np.ones(10**5))
        w.data = np.ones(2)
        try:
            f(np.ones(10**5))
        except sg.errors.ShapeError:
            print("refused")
        """,
}


@pytest.mark.parametrize("body", CRASHES.values(), ids=CRASHES.keys())
def test_former_crashes_are_clear_errors(body):
    script = "import numpy as np\nimport symgrad as sg\n" + textwrap.dedent(body)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "refused"


W_GLOBAL = sg.tensor([1.0, 2.0])


def test_a_rebound_name_makes_the_function_trace_again():
    global W_GLOBAL
    box = {"w": sg.tensor([1.0, 2.0])}
    items = [sg.tensor([1.0, 2.0])]
    closure_w = sg.tensor([1.0, 2.0])
    functions = {
        "dict key": (lambda x: (x * box["w"]).sum(), lambda v: box.__setitem__("w", v)),
        "list index": (lambda x: (x * items[0]).sum(), lambda v: items.__setitem__(0, v)),
        "global": (lambda x: (x * W_GLOBAL).sum(), lambda v: globals().__setitem__("W_GLOBAL", v)),
    }

    def rebind_closure(v):
        nonlocal closure_w
        closure_w = v

    functions["closure"] = (lambda x: (x * closure_w).sum(), rebind_closure)
    for name, (fn, rebind) in functions.items():
        f = sg.compile(fn)
        assert f(np.ones(2)).item() == 3.0, name
        rebind(sg.tensor([10.0, 20.0]))
        assert f(np.ones(2)).item() == 30.0, name
        assert f(np.ones(2)).item() == 30.0, name
    W_GLOBAL = sg.tensor([1.0, 2.0])

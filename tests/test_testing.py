"""sg.testing.gradcheck: passes on right gradients, fails on a wrong one."""

from __future__ import annotations

import numpy as np
import pytest

import symgrad as sg
from symgrad.errors import GradError


@pytest.mark.parametrize(
    "fn",
    [
        lambda x, y: sg.sin(x) * y,
        lambda x, y: (x @ y.T).sum(dim=1),
        lambda x, y: sg.functional.log_softmax(x * y, dim=-1),
    ],
)
def test_gradcheck_passes_on_symgrad_gradients(fn):
    rng = np.random.default_rng(0)
    assert sg.testing.gradcheck(fn, rng.standard_normal((2, 3)), rng.standard_normal((2, 3)))


def test_gradcheck_catches_a_wrong_gradient():
    def detached_square(x):
        return x.detach() * x  # the gradient ignores the detached factor: x, not 2x

    x = np.array([0.5, -1.5])
    with pytest.raises(GradError, match="argument 0 differs from finite differences"):
        sg.testing.gradcheck(detached_square, x)
    assert sg.testing.gradcheck(detached_square, x, raise_exception=False) is False


def test_gradcheck_skips_integer_arguments_and_needs_a_float_one():
    labels = np.array([1, 0])
    logits = np.array([[0.2, -0.3], [1.0, 0.5]])
    assert sg.testing.gradcheck(lambda z, t: sg.functional.cross_entropy(z, t), logits, labels)
    with pytest.raises(GradError, match="at least one float argument"):
        sg.testing.gradcheck(lambda t: t * 2, labels)

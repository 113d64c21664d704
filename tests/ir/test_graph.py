"""IR: canonical keys ignore values and names; the printer reads like a jaxpr."""

from __future__ import annotations

import numpy as np

import symgrad as sg
from symgrad import ir
from symgrad.frontend.trace import trace

F64 = np.dtype("float64")


def _graph(fn, *shapes):
    return trace(fn, [(s, F64) for s in shapes], [f"v{i}" for i in range(len(shapes))]).graph


def test_key_depends_on_structure_not_names_or_values():
    g1 = _graph(lambda a, b: sg.tanh(a * b + 1), (3,), (3,))
    g2 = _graph(lambda x, y: sg.tanh(x * y + 1), (3,), (3,))
    assert g1.key() == g2.key()
    assert g1.key() != _graph(lambda a, b: sg.tanh(a * b + 1), (4,), (4,)).key()
    assert g1.key() != _graph(lambda a, b: sg.tanh(a * b + 2), (3,), (3,)).key()
    assert g1.key() != _graph(lambda a, b: sg.tanh(b * a + 1), (3,), (3,)).key()


def test_pretty_printer():
    a, b = ir.Var((2,), F64), ir.Var((2,), F64)
    q = ir.elementwise(3 * ir.arg(0) ** 3 - ir.arg(1) ** 2, [a, b])
    s = ir.reduce_sum(q, (0,), keepdim=False)
    text = ir.Graph([a, b], [s]).pretty(["a", "b"])
    assert text.splitlines() == [
        "{ lambda a:f64[2] b:f64[2] .",
        "  let t0:f64[2] = 3*a**3 - b**2",
        "      t1:f64[] = sum[(0,), False] t0",
        "  in (t1) }",
    ]


def test_clone_is_independent():
    g = _graph(lambda a: a * 2 + 1, (2,))
    copy = g.clone()
    assert copy.key() == g.key()
    assert not {id(n) for n in copy.nodes} & {id(n) for n in g.nodes}

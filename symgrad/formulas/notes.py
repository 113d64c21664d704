"""Where a function is not differentiable, and which derivative the kernels take there.

The conventions are PyTorch's, read off the op definitions the gradient comes
from: ``relu'(0) = 0`` (``x > 0`` is false at 0), ``|x|'(0) = 0`` (``sign(0) = 0``),
``maximum``/``minimum`` and ``max``/``min`` over an axis split the gradient evenly
between tied entries, ``clamp`` passes the gradient at its bounds, ``binary_cross_entropy``
clamps its logs at -100 and floors ``p*(1 - p)`` in its gradient at 1e-12.

Example:
    >>> import sympy
    >>> u = sympy.Symbol("u", real=True)
    >>> expression_notes(sympy.Piecewise((u, u > 0), (0, True)), {"u"})
    ["relu(u) at u = 0: derivative 0 (relu'(0) = 0)"]
"""

from __future__ import annotations

from collections.abc import Sequence

import sympy
from sympy.core.relational import Relational

from symgrad import ir
from symgrad.formulas.algebra import substitute
from symgrad.formulas.display import node_term
from symgrad.formulas.printing import to_text
from symgrad.formulas.terms import MatOp, Op, Slot, TensorSymbol, children, leaf
from symgrad.ir.sympy_functions import BCE_EPSILON, binary_cross_entropy, log1p, power, std_sqrt


def names_in(term: sympy.Basic) -> set[str]:
    """The names of the symbols a term is written in."""
    found, stack = set(), [term]
    while stack:
        t = stack.pop()
        if isinstance(t, Slot | Op | MatOp):
            stack.extend(children(t))
        elif isinstance(t, sympy.Symbol | sympy.MatrixSymbol | TensorSymbol):
            found.add(str(t.name))
        else:
            stack.extend(children(t))
    return found


def _same(a: sympy.Expr, b: sympy.Expr) -> bool:
    try:
        return sympy.expand(a - b) == 0
    except TypeError:
        return False


def _piecewise_note(pw: sympy.Piecewise, varying: set[str]) -> str | None:
    pieces = pw.args
    conds = [c for _, c in pieces if c is not sympy.true]
    if not any(names_in(c) & varying for c in conds):
        return None
    first, cond = pieces[0]
    if any(isinstance(s, log1p) for s in sympy.preorder_traversal(first)):
        return None  # log(1 + exp(z)) written two ways: the same smooth function
    if len(pieces) == 2 and isinstance(cond, sympy.StrictGreaterThan) and cond.rhs == 0:
        u, rest = cond.lhs, pieces[1].expr
        if _same(first, u) and rest == 0:
            return f"relu({to_text(u)}) at {to_text(u)} = 0: derivative 0 (relu'(0) = 0)"
        if _same(first, u) and _same(rest / u, sympy.simplify(rest / u)) and rest.has(u):
            slope = sympy.simplify(rest / u)
            if slope.is_Number:
                return f"leaky_relu({to_text(u)}) at {to_text(u)} = 0: derivative {slope}"
    if len(pieces) == 3 and isinstance(cond, sympy.StrictGreaterThan | sympy.StrictLessThan):
        a, b = pieces[0].expr, pieces[1].expr
        if _same(pieces[2].expr, (a + b) / 2):
            kind = "maximum" if _same(cond.lhs - cond.rhs, a - b) == (cond.rel_op == ">") else ""
            kind = kind or "minimum"
            return (
                f"{kind}({to_text(a)}, {to_text(b)}) where {to_text(a)} = {to_text(b)}: "
                "the gradient is split evenly (1/2 to each)"
            )
    relational = isinstance(cond, Relational)
    if (
        relational
        and len(pieces) == 2
        and pieces[0].expr.is_Number
        and _same(pieces[1].expr, cond.lhs)
    ):
        bound = pieces[0].expr
        return (
            f"clamp of {to_text(cond.lhs)} at {bound}: derivative 1 (the bound passes the gradient)"
        )
    shown = ", ".join(to_text(c) for c in conds)
    return f"piecewise at the boundary of {shown}: the derivative of the branch chosen there"


def expression_notes(expr: sympy.Basic, varying: set[str]) -> list[str]:
    """Notes for the kinks in one expression; ``varying`` names the values that change
    with the arguments (a kink in a constant is no kink)."""
    notes = []
    for sub in sympy.preorder_traversal(expr):
        if not isinstance(sub, sympy.Basic) or not (names_in(sub) & varying):
            continue
        u = sub.args[0] if sub.args else None
        if isinstance(sub, sympy.Piecewise):
            try:
                note = _piecewise_note(sub, varying)
            except (TypeError, AttributeError, ValueError):  # an unusual Piecewise: say little
                note = f"piecewise {to_text(sub)}: the derivative of the branch chosen"
        elif isinstance(sub, sympy.Abs):
            note = f"|{to_text(u)}| at {to_text(u)} = 0: derivative 0 (|x|'(0) = 0)"
        elif isinstance(sub, sympy.sign):
            note = f"sign({to_text(u)}): derivative 0 everywhere (a step)"
        elif isinstance(sub, std_sqrt):
            note = f"sqrt({to_text(u)}) of a deviation at {to_text(u)} = 0: derivative 0"
        elif isinstance(sub, power):
            x, y = sub.args
            note = (
                f"{to_text(x)}**{to_text(y)} at {to_text(x)} = 0: derivative by the base 0 "
                "where the exponent is 0, by the exponent 0 where the exponent is >= 0"
            )
        elif isinstance(sub, binary_cross_entropy):
            note = (
                f"binary_cross_entropy({to_text(u)}, ...): logs clamped at -100, and "
                f"p*(1 - p) in the gradient floored at {BCE_EPSILON:.3g}"
            )
        else:
            note = None
        if note:
            notes.append(note)
    return notes


def _gradient_flows(var: ir.Var, users: dict[ir.Var, list[ir.Node]]) -> bool:
    return any(
        not (n.primitive is ir.ELEMENTWISE and n.params.stop_gradient) for n in users.get(var, [])
    )


def collect(
    forward: ir.Graph,
    wrt: Sequence[ir.Var],
    terms: dict[ir.Var, sympy.Basic],
    labels: dict[ir.Var, str],
) -> list[str]:
    """Notes for every kink the gradient passes through, each once, in graph order.

    ``terms`` holds the formula terms known so far (the others are made here), ``labels``
    the names of the graph's inputs.
    """
    terms = dict(terms)
    for v in forward.inputs:
        terms.setdefault(v, leaf(labels[v], v.shape))
    varying_vars = set(wrt)
    users: dict[ir.Var, list[ir.Node]] = {}
    for node in forward.nodes:
        for v in node.inputs:
            users.setdefault(v, []).append(node)
    varying = {n for v in wrt if v in terms for n in names_in(terms[v])}
    notes: list[str] = []
    for node in forward.nodes:
        out = node.output
        if out not in terms:
            terms[out] = node_term(node, [terms[v] for v in node.inputs])
        stops = node.primitive is ir.ELEMENTWISE and node.params.stop_gradient
        if stops or not any(v in varying_vars for v in node.inputs):
            continue
        varying_vars.add(out)
        if out.dtype.kind != "f":
            continue
        if isinstance(terms[out], sympy.Symbol | sympy.MatrixSymbol | TensorSymbol):
            varying.add(str(terms[out].name))
        if node.primitive is ir.ELEMENTWISE and not node.params.stop_gradient:
            shapes = [v.shape for v in node.inputs]
            expr = substitute(node.expr, [terms[v] for v in node.inputs], shapes)
            notes.extend(expression_notes(expr, varying))
        elif node.primitive in (ir.MAX, ir.MIN) and (
            out in forward.outputs or _gradient_flows(out, users)
        ):
            shown = to_text(terms[out])
            notes.append(f"{shown}: tied entries share the gradient evenly")
    return list(dict.fromkeys(notes))

"""Formulas as text, LaTeX and 2-D pretty text: symgrad's subclasses of SymPy's printers.

In text, ``*`` between matrices is the matrix product and ``x.T`` the transpose;
``⊙`` is the entrywise product and ``**`` an entrywise power (a formula holds no
matrix powers); ``/`` divides entry by entry.  A vector or scalar added to a
matrix is broadcast as in NumPy (``x*w + b``); a matrix of ones is ``ones(m, n)``;
``[c]`` is 1 where ``c`` holds, else 0.

Example:
    >>> import sympy
    >>> from symgrad.formulas.terms import leaf
    >>> x, w, y = leaf("x", (4, 3)), leaf("w", (3, 2)), leaf("y", (4, 2))
    >>> g = sympy.MatMul(sympy.Rational(1, 4), x.T, sympy.MatAdd(x * w, -y))
    >>> to_text(g), to_latex(g)
    ('x.T*(x*w - y)/4', '\\\\frac{1}{4} x^{T} \\\\left(x w - y\\\\right)')
"""

from __future__ import annotations

from typing import Any

import sympy
from sympy.printing.latex import LatexPrinter
from sympy.printing.precedence import PRECEDENCE
from sympy.printing.pretty.pretty import PrettyPrinter
from sympy.printing.pretty.stringpict import prettyForm
from sympy.printing.str import StrPrinter

from symgrad.formulas.terms import TRANSPARENT, Elementwise, OpInfo, Slot, has_tensors
from symgrad.ir.primitives.indexing import ARRAY, SLICE


def _slice_text(start: Any, stop: Any, step: Any) -> str:
    text = f"{'' if start is None else start}:{'' if stop is None else stop}"
    return text if step in (None, 1) else f"{text}:{step}"


def key_text(key: tuple, arrays: list[str]) -> str:
    """An index key as the user wrote it: ``1:, ::2``, ``i, 0``."""
    parts = []
    for item in key:
        if item is None:
            parts.append("None")
        elif item is Ellipsis:
            parts.append("...")
        elif isinstance(item, tuple) and item[0] == SLICE:
            parts.append(_slice_text(*item[1:]))
        elif isinstance(item, tuple) and item[0] == ARRAY:
            parts.append(arrays[item[1]])
        else:
            parts.append(str(item))
    return ", ".join(parts)


def pad_widths(key: tuple, shape: tuple) -> list[tuple[int, int]]:
    """NumPy ``pad`` widths that put a block read by the slices of ``key`` back in ``shape``."""
    widths = []
    for d, size in enumerate(shape):
        item = key[d] if d < len(key) else (SLICE, None, None, None)
        start, stop, _ = slice(*item[1:]).indices(size)
        widths.append((start, size - max(stop, start)))
    return widths


def _axes_text(info: OpInfo) -> str:
    params = info.params
    axes = (params.axis,) if hasattr(params, "axis") else params.axes
    rank = len(info.in_shapes[0])
    if axes == (None,) or sorted(axes) == list(range(rank)):
        return ""
    return f", axis={axes[0]}" if len(axes) == 1 else f", axis={tuple(axes)}"


def op_text(info: OpInfo, operands: list[str], latex: bool = False) -> str:
    """A named op with its operands already printed."""
    name = info.name
    fn = (lambda n: rf"\operatorname{{{n}}}") if latex else (lambda n: n)
    lp, rp = (r"\left(", r"\right)") if latex else ("(", ")")
    if name in TRANSPARENT:
        return operands[0]
    if name in ("sum", "max", "min", "argmax", "argmin", "softmax", "log_softmax", "var"):
        return f"{fn(name)}{lp}{operands[0]}{_axes_text(info)}{rp}"
    if name == "standardize":  # eps shown when it is not PyTorch's default
        eps = "" if info.params.eps == 1e-5 else f", eps={info.params.eps:g}"
        return f"{fn(name)}{lp}{operands[0]}{_axes_text(info)}{eps}{rp}"
    if name == "getitem":
        key = key_text(info.params.key, operands[1:])
        return f"{operands[0]}[{key}]"
    if name == "pad":
        widths = pad_widths(info.params.key, info.shape)
        shown = widths[0] if len(widths) == 1 else tuple(widths)
        return f"{fn('pad')}{lp}{operands[0]}, {shown}{rp}"
    if name == "add_at":
        key = key_text(info.params.key, operands[1:])
        zeros = f"{fn('zeros')}{lp}{', '.join(map(str, info.shape))}{rp}"
        add_at = fn(r"add\_at" if latex else "add_at")
        return f"{add_at}{lp}{zeros}, [{key}], {operands[0]}{rp}"
    if name == "cat":
        return f"{fn('cat')}{lp}[{', '.join(operands)}], dim={info.params.dim}{rp}"
    if name == "permute":
        moved = [i for i, a in enumerate(info.params.axes) if a != i]
        if len(moved) == 2:  # a swap of two dims, as torch.transpose(x, 1, 2)
            return f"{fn('transpose')}{lp}{operands[0]}, {moved[0]}, {moved[1]}{rp}"
        return f"{fn('permute')}{lp}{operands[0]}, {info.params.axes}{rp}"
    if name == "reshape":
        return f"{fn('reshape')}{lp}{operands[0]}, {tuple(info.shape)}{rp}"
    if name == "matmul":
        return (" " if latex else " @ ").join(operands)
    if name == "arange":
        return f"{fn('arange')}{lp}{info.params.size}{rp}"
    return f"{fn(name)}{lp}{', '.join(operands)}{rp}"


def _flat_product(expr: sympy.MatMul) -> tuple[sympy.Expr, list]:
    """The coefficient and the matrix factors of a product, nested products flattened."""
    c, args = sympy.Integer(1), []
    for a in expr.args:
        if isinstance(a, sympy.MatMul):
            inner, more = _flat_product(a)
            c, args = c * inner, args + more
        elif isinstance(a, sympy.MatrixExpr):
            args.append(a)
        else:
            c = c * a
    return c, args


def _is_iverson(expr: sympy.Piecewise) -> bool:
    return len(expr.args) == 2 and expr.args[0].expr == 1 and expr.args[1] == (0, True)


def _split_quotient(factors: list) -> tuple[list, list]:
    """Factors with a negative power go below the line: ``a/b``."""
    num, den = [], []
    for f in factors:
        while getattr(f, "info", None) is not None and f.info.name in TRANSPARENT:
            f = f.operands[0]  # a broadcast quotient is still a quotient
        if isinstance(f, Elementwise | Slot):
            f = f.expr if isinstance(f, Elementwise) else f.term
        power = isinstance(f, sympy.HadamardPower) or f.is_Pow
        if power and f.exp.is_Number and f.exp.is_negative:
            base = f.base
            den.append(base if f.exp == -1 else type(f)(base, -f.exp))
        else:
            num.append(f)
    return num, den


def relu_argument(expr: sympy.Piecewise) -> sympy.Expr | None:
    """``u`` when ``expr`` is ``relu(u)`` (``u`` where ``u > 0``, else 0)."""
    if len(expr.args) != 2 or expr.args[1] != (0, True):
        return None
    value, cond = expr.args[0]
    if isinstance(cond, sympy.StrictGreaterThan) and cond.rhs == 0 and cond.lhs == value:
        return value
    return None


class FormulaStrPrinter(StrPrinter):
    """SymPy's text printer, with matrices and symgrad's ops as in the module docstring."""

    def _print_Op(self, expr: Any) -> str:
        operands = [self._operand(expr, a) for a in expr.operands]
        return op_text(expr.info, operands)

    _print_MatOp = _print_Op

    def _operand(self, parent: Any, arg: Any) -> str:
        if parent.info.name == "matmul" or (
            parent.info.name == "getitem" and arg is parent.operands[0]
        ):
            return self.parenthesize(arg, PRECEDENCE["Func"], strict=True)
        return self._print(arg)

    def _print_Slot(self, expr: Any) -> str:
        return self._print(expr.term)

    def _print_Elementwise(self, expr: Any) -> str:
        return self._print(expr.expr)

    def _print_TensorSymbol(self, expr: Any) -> str:
        return expr.name

    def _print_OneMatrix(self, expr: Any) -> str:
        return f"ones({expr.rows}, {expr.cols})"

    def _print_ZeroMatrix(self, expr: Any) -> str:
        return "0"

    def _print_MatMul(self, expr: Any) -> str:
        c, args = _flat_product(expr)
        body = "*".join(self.parenthesize(a, PRECEDENCE["Mul"], strict=False) for a in args)
        negative = c.could_extract_minus_sign()  # a symbol's sign is unknown: no abs()
        sign = "-" if negative else ""
        c = -c if negative else c
        if len(args) == 1:  # 2*(x⊙y), but -x⊙y
            body = self.parenthesize(args[0], PRECEDENCE["Mul"], strict=c == 1)
        p, q = (c.p, c.q) if c.is_Rational else (c, 1)
        head = "" if p == 1 else f"{self.parenthesize(p, PRECEDENCE['Mul'])}*"
        tail = "" if q == 1 else f"/{q}"
        return f"{sign}{head}{body}{tail}"

    def _print_MatAdd(self, expr: Any) -> str:
        text = ""
        for i, term in enumerate(expr.args):
            t = self._print(term)
            if isinstance(term, sympy.MatAdd):
                t = f"({t})"
            if t.startswith("-"):
                text += ("-" if i == 0 else " - ") + t[1:]
            else:
                text += ("" if i == 0 else " + ") + t
        return text

    def _print_HadamardProduct(self, expr: Any) -> str:
        num, den = _split_quotient(list(expr.args))
        text = "⊙".join(self.parenthesize(a, PRECEDENCE["Mul"]) for a in num) or "1"
        for d in den:
            text += "/" + self.parenthesize(d, PRECEDENCE["Pow"], strict=True)
        return text

    def _print_HadamardPower(self, expr: Any) -> str:
        if expr.exp.is_negative:
            return self._print_HadamardProduct(sympy.HadamardProduct(expr, evaluate=False))
        base = self.parenthesize(expr.base, PRECEDENCE["Pow"], strict=True)
        return f"{base}**{self._print(expr.exp)}"

    def _print_Mul(self, expr: Any) -> str:
        tensors = [a for a in expr.args if has_tensors(a)]
        if len(tensors) < 2:
            return super()._print_Mul(expr)
        rest = sympy.Mul(*(a for a in expr.args if not has_tensors(a)))
        num, den = _split_quotient(tensors)
        text = "⊙".join(self.parenthesize(a, PRECEDENCE["Mul"]) for a in num) or "1"
        for d in den:
            text += "/" + self.parenthesize(d, PRECEDENCE["Pow"], strict=True)
        if rest == 1:
            return text
        if rest == -1:
            return "-" + text
        return f"{self.parenthesize(rest, PRECEDENCE['Mul'])}*{text}"

    def _print_Piecewise(self, expr: Any) -> str:
        if _is_iverson(expr):
            return f"[{self._print(expr.args[0].cond)}]"
        if relu_argument(expr) is not None:
            return f"relu({self._print(relu_argument(expr))})"
        *pieces, (last, otherwise) = expr.args  # NumPy's where(condition, a, b), nested
        text = self._print(last) if otherwise == sympy.true else "nan"
        if otherwise != sympy.true:
            pieces.append((last, otherwise))
        for value, condition in reversed(pieces):
            text = f"where({self._print(condition)}, {self._print(value)}, {text})"
        return text

    def _print_Relational(self, expr: Any) -> str:
        ops = {"==": "==", "!=": "!="}
        if expr.rel_op in ops:
            lhs = self.parenthesize(expr.lhs, PRECEDENCE["Relational"])
            rhs = self.parenthesize(expr.rhs, PRECEDENCE["Relational"])
            return f"{lhs} {ops[expr.rel_op]} {rhs}"
        return super()._print_Relational(expr)


class FormulaLatexPrinter(LatexPrinter):
    """SymPy's LaTeX printer: ``x^{T}``, ``\\odot``, ``\\operatorname{sum}``."""

    def _print_Op(self, expr: Any) -> str:
        operands = [self._print(a) for a in expr.operands]
        if expr.info.name in ("getitem", "matmul"):
            operands[0] = self.parenthesize(expr.operands[0], PRECEDENCE["Func"], strict=True)
        return op_text(expr.info, operands, latex=True)

    _print_MatOp = _print_Op

    def _print_Slot(self, expr: Any) -> str:
        return self._print(expr.term)

    def _print_Elementwise(self, expr: Any) -> str:
        return self._print(expr.expr)

    def _print_TensorSymbol(self, expr: Any) -> str:
        return self._print(sympy.Symbol(expr.name))

    def _print_OneMatrix(self, expr: Any) -> str:
        return r"\mathbb{1}"

    def _print_ZeroMatrix(self, expr: Any) -> str:
        return "0"

    def _print_MatMul(self, expr: Any) -> str:
        c, args = _flat_product(expr)
        body = " ".join(self.parenthesize(a, PRECEDENCE["Mul"], strict=False) for a in args)
        negative = c.could_extract_minus_sign()  # a symbol's sign is unknown: no abs()
        sign = "- " if negative else ""
        c = -c if negative else c
        head = "" if c == 1 else self._print(c) + " "
        return f"{sign}{head}{body}"

    def _print_MatAdd(self, expr: Any) -> str:
        text = ""
        for i, term in enumerate(expr.args):
            t = self._print(term)
            if isinstance(term, sympy.MatAdd):
                t = rf"\left({t}\right)"
            if t.startswith("-"):
                text += ("-" if i == 0 else " - ") + t[1:].lstrip()
            else:
                text += ("" if i == 0 else " + ") + t
        return text

    def _print_HadamardProduct(self, expr: Any) -> str:
        num, den = _split_quotient(list(expr.args))
        top = r" \odot ".join(self.parenthesize(a, PRECEDENCE["Mul"]) for a in num) or "1"
        if not den:
            return top
        bottom = r" \odot ".join(self.parenthesize(a, PRECEDENCE["Mul"]) for a in den)
        return rf"\frac{{{top}}}{{{bottom}}}"

    def _print_HadamardPower(self, expr: Any) -> str:
        if expr.exp.is_negative:
            return self._print_HadamardProduct(sympy.HadamardProduct(expr, evaluate=False))
        base = self.parenthesize(expr.base, PRECEDENCE["Pow"], strict=True)
        return f"{base}^{{{self._print(expr.exp)}}}"

    def _print_Mul(self, expr: Any) -> str:
        tensors = [a for a in expr.args if has_tensors(a)]
        if len(tensors) < 2:
            return super()._print_Mul(expr)
        rest = sympy.Mul(*(a for a in expr.args if not has_tensors(a)))
        text = r" \odot ".join(self.parenthesize(a, PRECEDENCE["Mul"]) for a in tensors)
        return text if rest == 1 else f"{self.parenthesize(rest, PRECEDENCE['Mul'])} {text}"

    def _print_Piecewise(self, expr: Any) -> str:
        if _is_iverson(expr):
            return rf"\left[{self._print(expr.args[0].cond)}\right]"
        if relu_argument(expr) is not None:
            return rf"\operatorname{{relu}}\left({self._print(relu_argument(expr))}\right)"
        return super()._print_Piecewise(expr)


class FormulaPrettyPrinter(PrettyPrinter):
    """SymPy's 2-D printer (a superscript ``T`` for the transpose), with symgrad's ops."""

    def _print_Op(self, expr: Any) -> prettyForm:
        if expr.info.name in TRANSPARENT:
            return self._print(expr.operands[0])
        text = FormulaStrPrinter()._print(expr)
        return prettyForm(text)

    _print_MatOp = _print_Op

    def _print_Slot(self, expr: Any) -> prettyForm:
        return self._print(expr.term)

    def _print_Elementwise(self, expr: Any) -> prettyForm:
        return self._print(expr.expr)

    def _print_TensorSymbol(self, expr: Any) -> prettyForm:
        return prettyForm(expr.name)


def to_text(expr: sympy.Basic) -> str:
    """``expr`` as one line of text."""
    return FormulaStrPrinter().doprint(expr)


def to_latex(expr: sympy.Basic) -> str:
    """``expr`` as LaTeX."""
    return FormulaLatexPrinter().doprint(expr)


def to_pretty(expr: sympy.Basic) -> str:
    """``expr`` as 2-D text (as ``sympy.pretty``)."""
    return FormulaPrettyPrinter({"use_unicode": True}).doprint(expr)

"""The expression language of ``symgrad diff``: Python syntax read with :mod:`ast`.

An expression is checked node by node against a short list of accepted forms
(variable names, numbers, ``+ - * / ** @``, unary minus, single comparisons, slices,
``.T``, and calls of symgrad's functions and tensor methods) and evaluated by walking
its tree, so no text is handed to ``eval`` or ``sympify``: ``__import__("os")`` is an
unknown function, ``a.__class__`` an attribute that is not accepted.

Example:
    >>> e = Expression("3*a**3 - sg.exp(b)")
    >>> e.variables, e.evaluate({"a": sg.tensor(2.0), "b": sg.tensor(0.0)})
    (['a', 'b'], tensor(23.))
"""

from __future__ import annotations

import ast
import difflib
import inspect
import operator
import re
from collections.abc import Callable, Sequence
from typing import Any

import symgrad as sg
from symgrad.frontend import math as sg_math

_NOT_DIFFERENTIABLE = {
    *("all", "any", "argmax", "argmin", "numel", "split", "chunk", "dropout", "embedding"),
    *("logical_and", "logical_not", "logical_or", "logical_xor"),
}
FUNCTIONS: dict[str, Callable] = {
    name: getattr(sg, name, None) or getattr(sg.functional, name)
    for name in sorted({*sg_math.__all__, *sg.functional.__all__} - _NOT_DIFFERENTIABLE)
}
#: Tensor methods an expression may call (``a.sum(dim=0)``); ``.T`` is an attribute.
METHODS = {
    name for name in (*FUNCTIONS, "view", "expand") if callable(getattr(sg.Tensor, name, None))
}
_MODULES = ("sg", "F")  # ``sg.sin(a)`` and ``F.relu(a)`` name the same functions as ``sin(a)``
_BINARY = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.Pow: operator.pow,
    ast.MatMult: operator.matmul,
}
_UNARY = {ast.USub: operator.neg, ast.UAdd: operator.pos}
_COMPARE = {
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
}
_ALLOWED = "variables, numbers, + - * / ** @, comparisons, slices, .T and symgrad functions"


class UsageError(Exception):
    """Bad input on the command line: printed as one line, exit status 2."""


class Expression:
    """A ``symgrad diff`` expression: its variables (in order of appearance) and its value.

    >>> e = Expression("sum(relu(x @ w) ** 2)")
    >>> e.variables
    ['x', 'w']
    >>> e.evaluate({"x": sg.ones(2, 3), "w": sg.ones(3)})
    tensor(18.)
    """

    def __init__(self, text: str):
        self.text = text
        try:
            self.tree = ast.parse(text.strip(), mode="eval").body
        except SyntaxError as error:
            where = f" at column {error.offset}" if error.offset else ""
            raise UsageError(f"cannot read the expression {text!r}: {error.msg}{where}") from None
        self.variables: list[str] = []
        self._check(self.tree)

    def _check(self, node: ast.AST) -> None:
        """Reject anything but the accepted forms; collect the variables in source order."""
        if isinstance(node, ast.Name):
            if node.id not in self.variables:
                self.variables.append(node.id)
            return
        if isinstance(node, ast.Constant):
            if isinstance(node.value, complex | bytes):
                raise UsageError(f"{node.value!r} is not a real number")
            return
        if isinstance(node, ast.Call):
            self._function(node.func)  # raises for an unknown function
            if isinstance(node.func, ast.Attribute) and not self._is_module(node.func.value):
                self._check(node.func.value)
            for arg in node.args:
                if isinstance(arg, ast.Starred):
                    raise UsageError("*arguments are not accepted in an expression")
                self._check(arg)
            for keyword in node.keywords:
                if keyword.arg is None:
                    raise UsageError("**arguments are not accepted in an expression")
                self._check(keyword.value)
            return
        if isinstance(node, ast.Attribute):
            if node.attr != "T":
                raise UsageError(f".{node.attr} is not accepted here (only .T and method calls)")
        elif isinstance(node, ast.BinOp) and type(node.op) not in _BINARY:
            raise UsageError(f"the operator {ast.unparse(node)!r} is not accepted ({_ALLOWED})")
        elif isinstance(node, ast.UnaryOp) and type(node.op) not in _UNARY:
            raise UsageError(f"{ast.unparse(node)!r} is not accepted ({_ALLOWED})")
        elif isinstance(node, ast.Compare) and (
            len(node.ops) != 1 or type(node.ops[0]) not in _COMPARE
        ):
            raise UsageError(f"{ast.unparse(node)!r}: only single comparisons are accepted")
        elif not isinstance(
            node,
            ast.BinOp
            | ast.UnaryOp
            | ast.Compare
            | ast.Subscript
            | ast.Slice
            | ast.Tuple
            | ast.List,
        ):
            raise UsageError(f"{ast.unparse(node)!r} is not accepted in an expression ({_ALLOWED})")
        for child in ast.iter_child_nodes(node):
            if not isinstance(child, ast.expr_context | ast.operator | ast.unaryop | ast.cmpop):
                self._check(child)

    @staticmethod
    def _is_module(node: ast.expr) -> bool:
        return isinstance(node, ast.Name) and node.id in _MODULES

    def _function(self, func: ast.expr) -> Callable | str:
        """The function a call names, or the name of the method it calls."""
        if isinstance(func, ast.Name) or (
            isinstance(func, ast.Attribute) and self._is_module(func.value)
        ):
            name = func.id if isinstance(func, ast.Name) else func.attr
            if name not in FUNCTIONS:
                raise UsageError(f"unknown function {name}{_did_you_mean(name, FUNCTIONS)}")
            return FUNCTIONS[name]
        if isinstance(func, ast.Attribute):
            if func.attr not in METHODS:
                raise UsageError(
                    f"unknown method .{func.attr}(){_did_you_mean(func.attr, METHODS)}"
                )
            return func.attr
        raise UsageError(f"{ast.unparse(func)!r} cannot be called")

    def evaluate(self, values: dict[str, Any]) -> Any:
        """The expression's value with the variables bound to ``values``."""
        return self._eval(self.tree, values)

    def _eval(self, node: ast.AST, values: dict[str, Any]) -> Any:
        ev = lambda child: self._eval(child, values)  # noqa: E731
        if isinstance(node, ast.Name):
            return values[node.id]
        if isinstance(node, ast.Constant):
            return node.value
        if isinstance(node, ast.BinOp):
            return _BINARY[type(node.op)](ev(node.left), ev(node.right))
        if isinstance(node, ast.UnaryOp):
            return _UNARY[type(node.op)](ev(node.operand))
        if isinstance(node, ast.Compare):
            return _COMPARE[type(node.ops[0])](ev(node.left), ev(node.comparators[0]))
        if isinstance(node, ast.Tuple | ast.List):
            return tuple(ev(item) for item in node.elts)
        if isinstance(node, ast.Slice):
            return slice(
                *(
                    None if part is None else ev(part)
                    for part in (node.lower, node.upper, node.step)
                )
            )
        if isinstance(node, ast.Subscript):
            return ev(node.value)[ev(node.slice)]
        if isinstance(node, ast.Attribute):  # .T, the only attribute _check lets through
            return ev(node.value).T
        assert isinstance(node, ast.Call)
        function = self._function(node.func)
        if isinstance(function, str):
            function = getattr(ev(node.func.value), function)
        kwargs = {k.arg: ev(k.value) for k in node.keywords}
        return function(*map(ev, node.args), **kwargs)

    def function(self, names: Sequence[str]) -> Callable:
        """A Python function ``f(*names)`` that evaluates the expression (for tracing)."""

        def f(*args: Any) -> Any:
            return self.evaluate(dict(zip(names, args, strict=True)))

        kind = inspect.Parameter.POSITIONAL_OR_KEYWORD
        f.__signature__ = inspect.Signature([inspect.Parameter(n, kind) for n in names])
        return f


def _did_you_mean(name: str, known: Sequence[str] | set[str]) -> str:
    close = difflib.get_close_matches(name, sorted(known), n=1)
    return f" (did you mean {close[0]}?)" if close else " (see symgrad diff --help)"


def parse_shapes(given: Sequence[str], variables: Sequence[str]) -> dict[str, tuple[int, ...]]:
    """``["a=3,4", "b=4"]`` → ``{"a": (3, 4), "b": (4,)}``; every name must be a variable.

    >>> parse_shapes(["a=3,4", "b=4", "c="], ["a", "b", "c"])
    {'a': (3, 4), 'b': (4,), 'c': ()}
    """
    shapes = {}
    for item in given:
        name, equals, dims = item.partition("=")
        name = name.strip()
        if not equals or not re.fullmatch(r"\s*(\d+\s*(,\s*\d+\s*)*,?)?\s*", dims):
            raise UsageError(f"--shape {item}: expected NAME=N,N,... such as a=3,4")
        if name not in variables:
            raise UsageError(f"--shape {item}: {no_variable(name, variables)}")
        shapes[name] = tuple(int(d) for d in dims.split(",") if d.strip())
        if 0 in shapes[name]:
            raise UsageError(f"--shape {item}: sizes must be at least 1")
    return shapes


def no_variable(name: str, variables: Sequence[str]) -> str:
    return f"the expression has no variable {name} (its variables: {', '.join(variables)})"

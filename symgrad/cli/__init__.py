"""The ``symgrad`` command: derivative formulas and kernels from a shell, and the kernel cache.

::

    symgrad diff "3*a**3 - b**2" --wrt a b         # ∂f/∂a = 9*a**2 and ∂f/∂b = -2*b
    symgrad diff "sum(tanh(x @ w))" --shape x=8,3 w=3,2 --latex
    symgrad diff "3*a**3 - b**2" --code            # the gradient kernel's Numba source
    symgrad cache info                             # where kernels are kept, how many, how big
    symgrad cache clear                            # delete them all

``python -m symgrad`` is the same command.  The expression is read with :mod:`ast` and
evaluated by walking its tree: variable names, numbers, ``+ - * / ** @``, unary minus,
comparisons, slices, ``.T`` and calls of symgrad's math functions and tensor methods are
accepted, nothing else, so no text is ever handed to ``eval`` or ``sympify``.  Bad input
prints one line on stderr and exits with status 2.

Example:
    >>> main(["diff", "3*a**3 - b**2", "--wrt", "a"])
    ∂f/∂a = 9*a**2
    0
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

import numpy as np

import symgrad as sg
from symgrad.cli.expression import Expression, UsageError, no_variable, parse_shapes
from symgrad.compiler import backend


def _summed(fn: Callable) -> Callable:
    """``fn`` summed to a scalar, with ``fn``'s signature (the gradient of a sum is the
    vector-Jacobian product with an all-ones upstream, as the formulas are)."""

    def summed(*args: Any) -> Any:
        return fn(*args).sum()

    summed.__signature__ = fn.__signature__
    return summed


def diff(args: argparse.Namespace) -> int:
    """``symgrad diff``: print the formulas, their LaTeX or the gradient kernel."""
    expression = Expression(args.expression)
    variables = expression.variables
    if not variables:
        raise UsageError(f"{args.expression!r} has no variables to differentiate by")
    wrt = list(dict.fromkeys(args.wrt or variables))
    for name in wrt:
        if name not in variables:
            raise UsageError(f"--wrt {name}: {no_variable(name, variables)}")
    shapes = parse_shapes(args.shape or [], variables)
    dtype = np.dtype(args.dtype)
    examples = {name: np.full(shapes.get(name, ()), 0.5, dtype) for name in variables}
    try:
        with np.errstate(all="ignore"):
            value = expression.evaluate({n: sg.tensor(v) for n, v in examples.items()})
    except (sg.errors.SymgradError, TypeError, ValueError, IndexError) as error:
        raise UsageError(f"{args.expression}: {error}") from None
    if not isinstance(value, sg.Tensor) or not np.issubdtype(value.dtype, np.floating):
        kind = getattr(value, "dtype", type(value).__name__)
        raise UsageError(f"{args.expression!r} gives {kind} values: nothing to differentiate")
    if args.code:  # the kernel takes the variables in order of appearance
        fn = expression.function(variables)
        argnums = tuple(variables.index(n) for n in wrt)
        compiled = sg.grad(
            fn if value.ndim == 0 else _summed(fn),
            argnums=argnums[0] if len(argnums) == 1 else argnums,
            tier="interpret",
        )
        print(compiled.source(*examples.values()).rstrip())
        return 0
    names = [*wrt, *(v for v in variables if v not in wrt)]  # the formulas in --wrt order
    fn = expression.function(names)
    if not shapes and dtype == np.float64:
        formulas = sg.formulas(fn)  # scalar arguments
    else:
        formulas = sg.formulas(fn, *(examples[n] for n in names))
    chosen = formulas.select(*wrt)
    print(chosen.latex() if args.latex else chosen)
    return 0


def cache(args: argparse.Namespace) -> int:
    """``symgrad cache info`` / ``symgrad cache clear``."""
    folder = backend.cache_dir()
    kernels = backend.kernel_files(folder)
    size = sum(p.stat().st_size for paths in kernels.values() for p in paths)
    if args.action == "clear":
        for paths in kernels.values():
            for path in paths:
                path.unlink(missing_ok=True)
        print(f"removed {_kernels(len(kernels))} ({_size(size)}) from {folder}")
        return 0
    limit = float(os.environ.get("SYMGRAD_CACHE_MAX_MB", "500"))
    print(f"folder:  {folder}")
    print(f"kernels: {len(kernels)}")
    print(f"size:    {_size(size)} (limit {limit:g} MB, $SYMGRAD_CACHE_MAX_MB)")
    return 0


def _kernels(count: int) -> str:
    return f"{count} kernel" + ("" if count == 1 else "s")


def _size(size: int) -> str:
    """``size`` bytes, readable: ``0 kB``, ``35.2 kB``, ``3.4 MB``."""
    if size < 2**20:
        return f"{size / 2**10:.1f} kB" if size else "0 kB"
    return f"{size / 2**20:.1f} MB"


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line on stderr and exit status 2."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see {self.prog} --help)")


def build_parser() -> argparse.ArgumentParser:
    """The command line's parser (``symgrad --help`` prints its help)."""
    width = min(shutil.get_terminal_size().columns, 100)
    formatter = lambda prog: argparse.RawDescriptionHelpFormatter(prog, width=width)  # noqa: E731
    parser = _Parser(
        prog="symgrad",
        description="Readable derivative formulas and their Numba kernels, and the kernel cache.",
        epilog='example: symgrad diff "3*a**3 - b**2" --wrt a b',
        formatter_class=formatter,
    )
    parser.add_argument("--version", action="version", version=f"symgrad {sg.__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    d = commands.add_parser(
        "diff",
        help="print the derivatives of an expression",
        description=(
            "Print the derivative of EXPRESSION by each variable (of its sum, when it is not\n"
            "a scalar).  EXPRESSION comes first, quoted: Python syntax over variable names and\n"
            "numbers with + - * / ** @, unary minus, comparisons, slices (x[1:]), .T, calls of\n"
            "symgrad's functions (sin, exp, log, tanh, relu, sigmoid, sum, mean, softmax,\n"
            "logsumexp, where, maximum, ...; sg.sin is the same) and tensor methods\n"
            "(a.sum(dim=0)).  Variables are scalars unless --shape says otherwise."
        ),
        epilog='examples:\n  symgrad diff "3*a**3 - b**2" --wrt a b\n'
        '  symgrad diff "sum((x @ w - y)**2)" --shape x=5,3 w=3 y=5 --wrt w --latex\n'
        '  symgrad diff "sum(100*(x[1:] - x[:-1]**2)**2 + (1 - x[:-1])**2)" --shape x=4',
        formatter_class=formatter,
    )
    d.add_argument("expression", metavar="EXPRESSION", help="the expression, quoted")
    d.add_argument(
        "--wrt",
        nargs="+",
        metavar="NAME",
        help="the variables to differentiate by, in this order (default: all, in order "
        "of appearance)",
    )
    d.add_argument(
        "--shape",
        nargs="+",
        action="extend",
        metavar="NAME=N,N",
        help="give a variable a shape: a=3,4 is a 3x4 matrix, b=4 a vector (default: "
        "scalars); matrices give matrix formulas and make @ work",
    )
    d.add_argument(
        "--dtype",
        choices=["float64", "float32"],
        default="float64",
        help="the variables' dtype (default: float64)",
    )
    show = d.add_mutually_exclusive_group()
    show.add_argument("--latex", action="store_true", help="print the formulas as LaTeX")
    show.add_argument(
        "--code",
        action="store_true",
        help="print the generated Numba kernel that computes the derivatives",
    )
    d.set_defaults(run=diff)
    c = commands.add_parser(
        "cache",
        help="show or empty the kernel cache",
        description=(
            "The compiled kernels kept in $SYMGRAD_CACHE_DIR (default: symgrad in the user's\n"
            "cache folder, ~/.cache/symgrad on Linux), at most $SYMGRAD_CACHE_MAX_MB (500)."
        ),
        formatter_class=formatter,
    )
    c.add_argument(
        "action",
        choices=["info", "clear"],
        help="info: the folder, the number of kernels and their size; clear: delete them all",
    )
    c.set_defaults(run=cache)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with ``argv`` (default: ``sys.argv[1:]``); returns the exit status."""
    try:
        args = build_parser().parse_args(argv)
        return args.run(args)
    except UsageError as error:
        print(f"symgrad: error: {error}", file=sys.stderr)
        return 2

"""The ``symgrad`` command line: formulas, LaTeX, kernels, shapes, the cache, and bad input.

Formulas are checked by meaning, not spelling: each ``∂f/∂v = ...`` line is read back
with SymPy and compared with the derivative worked out by hand.  Kernels are run
(their plain-Python form) on numbers and compared with hand-derived gradients.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import sympy

from symgrad.cli import main
from symgrad.cli.expression import Expression, UsageError, parse_shapes

ROOT = Path(__file__).resolve().parents[1]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def formulas_of(out: str) -> dict[str, sympy.Expr]:
    """``{"a": 9*a**2, ...}`` from the ``∂f/∂a = ...`` lines of the output, in order, with
    the intermediates of a ``where`` block (indented ``t1 = ...`` lines) put back in."""
    found, where = {}, {}
    for line in out.splitlines():
        head, _, body = line.partition(" = ")
        if line.startswith("∂f/∂"):
            found[head.removeprefix("∂f/∂")] = sympy.sympify(body, locals=_SYMBOLS)
        elif line[:1].isspace() and body:
            where[sympy.Symbol(head.strip())] = sympy.sympify(body, locals=_SYMBOLS)
    for name, expr in found.items():
        for _ in range(len(where)):
            expr = expr.subs(where)
        found[name] = expr
    return found


_SYMBOLS = {name: sympy.Symbol(name, real=True) for name in ("a", "b", "x", "w")}
_SYMBOLS["sigmoid"] = lambda z: 1 / (1 + sympy.exp(-z))
a, b, x, w = (_SYMBOLS[n] for n in "abxw")


def same(got: sympy.Expr, expected: sympy.Expr) -> bool:
    return sympy.simplify(got - expected) == 0


def load_kernel(source: str):
    """The plain-Python function behind the generated ``@njit`` kernel."""
    namespace: dict = {}
    source = source.replace("cache=True", "cache=False")  # no file to cache beside
    exec(compile(source, "<kernel>", "exec"), namespace)
    return namespace["kernel"].py_func


# --- formulas ------------------------------------------------------------------------------


def test_diff_prints_each_derivative(capsys):
    status, out, err = run(capsys, "diff", "3*a**3 - b**2", "--wrt", "a", "b")
    assert (status, err) == (0, "")
    got = formulas_of(out)
    assert list(got) == ["a", "b"]
    assert same(got["a"], 9 * a**2) and same(got["b"], -2 * b)
    assert "∂f/∂a = 9*a**2" in out


def test_wrt_selects_and_orders(capsys):
    status, out, _ = run(capsys, "diff", "3*a**3 - b**2", "--wrt", "b")
    assert status == 0 and list(formulas_of(out)) == ["b"]
    status, out, _ = run(capsys, "diff", "3*a**3 - b**2", "--wrt", "b", "a")
    assert list(formulas_of(out)) == ["b", "a"]


def test_without_wrt_every_variable_in_order_of_appearance(capsys):
    status, out, _ = run(capsys, "diff", "x*sin(a) + exp(b*x)")
    got = formulas_of(out)
    assert status == 0 and list(got) == ["x", "a", "b"]
    assert same(got["x"], sympy.sin(a) + b * sympy.exp(b * x))
    assert same(got["a"], x * sympy.cos(a))
    assert same(got["b"], x * sympy.exp(b * x))


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("tanh(w*x + 1)", x * (1 - sympy.tanh(w * x + 1) ** 2)),
        ("sg.sigmoid(w)*x", x * sympy.exp(-w) / (1 + sympy.exp(-w)) ** 2),
        ("w**2/x - -w", 2 * w / x + 1),
        ("sqrt(w).sum() + log(w)", 1 / (2 * sympy.sqrt(w)) + 1 / w),
        ("(w * x).sum(dim=0) + w.exp()", x + sympy.exp(w)),
    ],
)
def test_functions_methods_and_operators(capsys, expression, expected):
    status, out, err = run(capsys, "diff", expression, "--wrt", "w")
    assert (status, err) == (0, "")
    assert same(formulas_of(out)["w"], expected)


def test_latex(capsys):
    status, out, _ = run(capsys, "diff", "3*a**3 - b**2", "--latex")
    assert status == 0
    assert r"\frac{\partial f}{\partial a}" in out and "9 a^{2}" in out
    assert r"\frac{\partial f}{\partial b}" in out and "- 2 b" in out
    status, out, _ = run(capsys, "diff", "3*a**3 - b**2", "--wrt", "a", "--latex")
    assert "9 a^{2}" in out and r"\partial b" not in out
    assert out.startswith(r"\begin{aligned}") and out.rstrip().endswith(r"\end{aligned}")


def test_code_is_the_gradient_kernel(capsys):
    status, out, _ = run(capsys, "diff", "3*a**3 - b**2", "--code")
    assert status == 0 and "@njit" in out and "def kernel(a, b, " in out
    kernel = load_kernel(out)
    da, db = np.zeros(()), np.zeros(())
    kernel(np.array(2.0), np.array(6.0), da, db)
    assert (da, db) == (36.0, -12.0)  # 9*a**2 and -2*b


def test_code_for_one_variable_computes_only_it(capsys):
    status, out, _ = run(capsys, "diff", "3*a**3 - b**2", "--code", "--wrt", "b")
    assert status == 0 and "def kernel(a, b, out0)" in out
    db = np.zeros(())
    load_kernel(out)(np.array(2.0), np.array(6.0), db)
    assert db == -12.0


def test_shape_makes_matrices_and_matmul_works(capsys):
    args = ("diff", "sum(x @ w)", "--shape", "x=3,4", "w=4,2")
    status, out, err = run(capsys, *args)
    assert (status, err) == (0, "")
    assert [line.split(" = ")[0] for line in out.splitlines() if " = " in line][:2] == [
        "∂f/∂x",
        "∂f/∂w",
    ]
    status, code, _ = run(capsys, *args, "--code")
    xs, ws = np.arange(12.0).reshape(3, 4), np.arange(8.0).reshape(4, 2)
    dx, dw = np.zeros((3, 4)), np.zeros((4, 2))
    load_kernel(code)(xs, ws, dx, dw)
    np.testing.assert_allclose(dx, np.ones((3, 2)) @ ws.T)  # d sum(x@w)/dx = 1 wᵀ
    np.testing.assert_allclose(dw, xs.T @ np.ones((3, 2)))  # d sum(x@w)/dw = xᵀ 1


def test_shape_of_a_vector_and_float32(capsys):
    status, out, _ = run(capsys, "diff", "x*w", "--shape", "x=3", "--shape", "w=3", "--code")
    assert status == 0 and "for i0 in range" in out
    dx, dw = np.zeros(3, np.float32), np.zeros(3, np.float32)
    xs, ws = np.array([1, 2, 3], np.float32), np.array([4, 5, 6], np.float32)
    status, out, _ = run(
        capsys, "diff", "x*w", "--shape", "x=3", "w=3", "--dtype", "float32", "--code"
    )
    load_kernel(out)(xs, ws, dx, dw)
    assert status == 0 and (dx == ws).all() and (dw == xs).all()


# --- bad input -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["diff", "3*a**3 -"], "cannot read the expression"),
        (["diff", "relu2(a)"], "unknown function relu2 (did you mean relu?)"),
        (["diff", "3*a**3 - b**2", "--wrt", "c"], "no variable c (its variables: a, b)"),
        (["diff", "a @ b", "--shape", "a=3,x"], "--shape a=3,x: expected NAME=N,N"),
        (["diff", "a @ b", "--shape", "c=3"], "--shape c=3: the expression has no variable c"),
        (["diff", "a @ b", "--shape", "a=0,2"], "sizes must be at least 1"),
        (["diff", "a @ b", "--shape", "a=3,4", "b=3,4"], "matmul"),
        (["diff", "__import__('os')"], "unknown function __import__"),
        (["diff", "__import__('os').getcwd()"], "unknown method .getcwd()"),
        (["diff", "a.__class__"], ".__class__ is not accepted"),
        (["diff", "a.foo()"], "unknown method .foo()"),
        (["diff", "lambda: a"], "is not accepted in an expression"),
        (["diff", "a + 1j"], "not a real number"),
        (["diff", "a > b"], "nothing to differentiate"),
        (["diff", "2 + 3"], "no variables"),
        (["diff", "a", "--latex", "--code"], "not allowed with"),
        (["diff", "a", "--bogus"], "unrecognized arguments: --bogus"),
        (["cache", "empty"], "invalid choice"),
        ([], "required: COMMAND"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(capsys, argv, message):
    status, out, err = run(capsys, *argv)
    assert status == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("symgrad: error: ")
    assert message in err


def test_expression_is_never_evaluated_as_python(capsys, tmp_path):
    marker = tmp_path / "ran"
    status, _, _ = run(capsys, "diff", f"open({str(marker)!r}, 'w')")
    assert status == 2 and not marker.exists()
    with pytest.raises(UsageError, match="not accepted"):
        Expression("[a for a in b]")


def test_expression_variables_and_value():
    e = Expression("sum(relu(x @ w) ** 2) + F.tanh(w).T.mean() + x[1:, ::2].sum(dim=0)[0]")
    assert e.variables == ["x", "w"]
    import symgrad as sg

    xs, ws = sg.tensor([[1.0, -2.0], [3.0, 4.0]]), sg.tensor([[0.5, -1.0], [2.0, 1.0]])
    expected = (sg.relu(xs @ ws) ** 2).sum() + sg.tanh(ws).T.mean() + xs[1:, ::2].sum(dim=0)[0]
    assert e.evaluate({"x": xs, "w": ws}).item() == pytest.approx(expected.item())


def test_parse_shapes():
    assert parse_shapes(["a=3,4", "b= 5", "c="], ["a", "b", "c"]) == {
        "a": (3, 4),
        "b": (5,),
        "c": (),
    }
    with pytest.raises(UsageError):
        parse_shapes(["a:3"], ["a"])


# --- the help and python -m symgrad --------------------------------------------------------


def test_help_explains_every_flag(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--help"])
    assert exit_.value.code == 0
    top = capsys.readouterr().out
    assert "diff" in top and "cache" in top
    with pytest.raises(SystemExit):
        main(["diff", "--help"])
    text = capsys.readouterr().out
    for flag in ("--wrt", "--shape", "--latex", "--code", "--dtype", "EXPRESSION"):
        assert flag in text


def symgrad_process(*argv: str, cache: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SYMGRAD_CACHE_DIR": str(cache)}
    return subprocess.run(
        [sys.executable, "-m", "symgrad", *argv],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=120,
    )


def test_python_dash_m_symgrad(tmp_path):
    done = symgrad_process("diff", "3*a**3 - b**2", "--wrt", "a", "b", cache=tmp_path)
    assert done.returncode == 0, done.stderr
    got = formulas_of(done.stdout)
    assert same(got["a"], 9 * a**2) and same(got["b"], -2 * b)
    bad = symgrad_process("diff", "relu2(a)", cache=tmp_path)
    assert bad.returncode == 2 and bad.stderr.startswith("symgrad: error: unknown function")


def test_import_symgrad_leaves_the_command_line_out():
    code = "import sys, symgrad; print(any(m.startswith('symgrad.cli') for m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert done.stdout.strip() == "False", done.stderr


# --- the kernel cache ----------------------------------------------------------------------


def fake_kernel(folder: Path, digest: str) -> None:
    (folder / "__pycache__").mkdir(parents=True, exist_ok=True)
    (folder / f"k_{digest}.py").write_text("# kernel\n" * 100)
    (folder / f"k_{digest}.py.lock").write_text("")
    (folder / "__pycache__" / f"k_{digest}.kernel-1.py311.nbi").write_bytes(b"\0" * 2048)


def test_cache_info_and_clear(capsys, monkeypatch, tmp_path):
    folder = tmp_path / "kernels"
    monkeypatch.setenv("SYMGRAD_CACHE_DIR", str(folder))
    fake_kernel(folder, "1" * 32)
    fake_kernel(folder, "2" * 32)
    (folder / "notes.txt").write_text("not a kernel")
    status, out, _ = run(capsys, "cache", "info")
    assert status == 0
    assert f"folder:  {folder}" in out and "kernels: 2" in out and "5.8 kB" in out
    status, out, _ = run(capsys, "cache", "clear")
    assert status == 0 and out.startswith("removed 2 kernels (5.8 kB)")
    assert sorted(p.name for p in folder.rglob("*") if p.is_file()) == ["notes.txt"]
    status, out, _ = run(capsys, "cache", "info")
    assert "kernels: 0" in out and "size:    0 kB" in out


def test_cache_info_of_a_real_kernel_in_a_new_process(tmp_path):
    folder = tmp_path / "cache"
    env = {**os.environ, "SYMGRAD_CACHE_DIR": str(folder)}
    code = "import symgrad as sg; print(sg.compile(lambda a: a*2, tier='sync')(sg.ones(2)))"
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    info = symgrad_process("cache", "info", cache=folder)
    assert info.returncode == 0 and "kernels: 1" in info.stdout
    cleared = symgrad_process("cache", "clear", cache=folder)
    assert cleared.stdout.startswith("removed 1 kernel ")
    assert not list(folder.glob("k_*")) and not list((folder / "__pycache__").glob("k_*"))


def test_wrt_prints_only_the_intermediates_its_formulas_use(capsys):
    expression = "exp(x*y - sin(x)) + tanh(y)**3"
    status, both, _ = run(capsys, "diff", expression)
    assert status == 0 and "where" in both
    status, out, _ = run(capsys, "diff", expression, "--wrt", "x")
    lines = out.splitlines()
    assert lines[0].startswith("∂f/∂x = ") and not any(ln.startswith("∂f/∂y") for ln in lines)
    named = [ln.split("=")[0].strip() for ln in lines if ln.startswith("  ")]
    assert all(name in lines[0] or any(name in ln for ln in lines[1:]) for name in named)

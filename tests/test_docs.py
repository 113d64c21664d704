"""Every example in README.md and docs/ runs, and shows what it prints.

The rules the pages follow:

- Every ```` ```python ```` block runs.  The blocks of one page run in order in one
  namespace (a page reads like one Python session), so a block may use names an
  earlier block of the same page defined; each page starts afresh.
- Output shown in a block is checked.  A top-level expression statement shows, as at
  the Python prompt, what it prints plus the ``repr`` of its value (when not None).
  That output is written either as the statement's trailing comment,
  ``a.grad  # tensor([36., 81.])``, or as comment lines right below it (no blank line
  between).  A tuple may be shown without its parentheses (``a.grad, b.grad  # x, y``).
  Whitespace is compared loosely (any run of spaces and newlines is one space) and
  ``...`` stands for any text.  A comment on an expression statement that shows
  nothing is an error, so prose comments go on other statements or their own lines
  after a blank line.
- A statement whose trailing comment starts with ``raises``
  (``y.backward()  # raises GradError: ...``) must raise that exception, with that
  message.
- A ```` ```console ```` block holds ``$ symgrad ...`` commands, each followed by its
  output (stdout and stderr) up to the next ``$`` line, compared in the same way; an
  output starting ``symgrad: error:`` means exit status 2, any other status 0.
- Other blocks (``bash``: installing, shell set-up) are not run.
"""

from __future__ import annotations

import ast
import contextlib
import io
import re
import shlex
import tokenize
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>```+|~~~+)\s*(?P<lang>[\w+-]*)[^\n]*$")


@dataclass
class Block:
    lang: str
    code: str
    line: int  # of the first code line in the page (1-based)


def blocks(text: str) -> list[Block]:
    """The fenced code blocks of a Markdown page, dedented to their fence."""
    found, lines, i = [], text.splitlines(), 0
    while i < len(lines):
        opening = FENCE.match(lines[i])
        if not opening:
            i += 1
            continue
        indent, fence = opening["indent"], opening["fence"]
        body, j = [], i + 1
        while j < len(lines) and lines[j].strip() != fence:
            body.append(lines[j][len(indent) :] if lines[j].startswith(indent) else lines[j])
            j += 1
        found.append(Block(opening["lang"].lower(), "\n".join(body) + "\n", i + 2))
        i = j + 1
    return found


def loose(text: str) -> str:
    return " ".join(text.split())


def matches(shown: str, expected: str) -> bool:
    """``shown`` equals ``expected`` up to whitespace, with ``...`` matching any text."""
    pattern = ".*?".join(re.escape(part) for part in loose(expected).split("..."))
    return re.fullmatch(pattern, loose(shown), re.DOTALL) is not None


def comments(code: str) -> dict[int, tuple[str, bool]]:
    """Line → (comment text without ``#``, whether the line holds only the comment)."""
    found = {}
    for token in tokenize.generate_tokens(io.StringIO(code).readline):
        if token.type == tokenize.COMMENT:
            row, col = token.start
            alone = not token.line[:col].strip()
            found[row] = (token.string[1:].strip(), alone)
    return found


def expected_output(stmt: ast.stmt, notes: dict[int, tuple[str, bool]]) -> str | None:
    """What the page says ``stmt`` shows: its trailing comment, or the comment lines
    right below it; None when it says nothing."""
    trailing = notes.get(stmt.end_lineno)
    if trailing and not trailing[1]:
        return trailing[0]
    below, row = [], stmt.end_lineno + 1
    while row in notes and notes[row][1]:
        below.append(notes[row][0])
        row += 1
    return "\n".join(below) if below else None


def run_python(code: str, namespace: dict, page: str, first_line: int = 1) -> None:
    """Run a block's statements in ``namespace``, checking the output each shows."""
    tree = ast.parse(code)
    ast.increment_lineno(tree, first_line - 1)  # tracebacks point into the page itself
    notes = {row + first_line - 1: note for row, note in comments(code).items()}
    for stmt in tree.body:
        expected = expected_output(stmt, notes)
        label = f"{page}:{stmt.lineno}"
        if expected is not None and expected.startswith("raises"):
            check_raises(stmt, expected, namespace, label)
            continue
        is_expression = isinstance(stmt, ast.Expr)
        module = ast.Expression(stmt.value) if is_expression else ast.Module([stmt], [])
        compiled = compile(module, page, "eval" if is_expression else "exec")
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            value = eval(compiled, namespace)
        if not is_expression or expected is None:
            continue
        shown = printed.getvalue() + ("" if value is None else repr(value))
        assert shown.strip(), (
            f"{label}: the comment {expected!r} is on a statement that shows nothing"
        )
        alternatives = [shown]
        if isinstance(value, tuple) and not expected.lstrip().startswith("("):
            alternatives.append(printed.getvalue() + ", ".join(map(repr, value)))
        assert any(matches(s, expected) for s in alternatives), (
            f"{label}: the page shows\n{expected}\nbut it gives\n{shown}"
        )


def check_raises(stmt: ast.stmt, expected: str, namespace: dict, label: str) -> None:
    name, _, message = expected.removeprefix("raises").strip().partition(":")
    with pytest.raises(Exception) as caught:
        exec(compile(ast.Module([stmt], []), label.rpartition(":")[0], "exec"), namespace)
    names = {cls.__name__ for cls in type(caught.value).__mro__}
    assert name.strip() in names, f"{label}: raised {caught.value!r}, not {name}"
    assert matches(str(caught.value), message.strip() or "..."), (
        f"{label}: the page shows {message!r}, the error says {caught.value}"
    )


def run_console(code: str, where: str) -> None:
    """Run a console block's ``$ symgrad`` commands, checking their output and status."""
    from symgrad.cli import main

    commands: list[tuple[str, list[str]]] = []
    for line in code.splitlines():
        if line.startswith("$ "):
            commands.append((line[2:], []))
        else:
            assert commands, f"{where}: output before the first $ command"
            commands[-1][1].append(line)
    for command, output in commands:
        argv = shlex.split(command)
        assert argv[0] == "symgrad", f"{where}: only symgrad commands run here: {command}"
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                status = main(argv[1:])
            except SystemExit as exit_:  # --help and --version exit through argparse
                status = exit_.code
        expected = "\n".join(output)
        shown = out.getvalue() + err.getvalue()
        assert status == (2 if expected.startswith("symgrad: error:") else 0), (
            f"{where}: `{command}` exited with {status}:\n{shown}"
        )
        assert matches(shown, expected), (
            f"{where}: `{command}` is shown printing\n{expected}\nbut prints\n{shown}"
        )


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_page_examples_run_and_show_their_output(page: Path) -> None:
    namespace = {"__name__": "__docs__"}
    for block in blocks(page.read_text(encoding="utf-8")):
        name = str(page.relative_to(ROOT))
        if block.lang in ("python", "py"):
            run_python(block.code, namespace, name, block.line)
        elif block.lang == "console":
            run_console(block.code, f"{name}:{block.line}")


# --- the checker checks --------------------------------------------------------------------


def test_a_wrong_output_fails():
    with pytest.raises(AssertionError, match="the page shows"):
        run_python("1 + 1  # 3\n", {}, "here")
    with pytest.raises(AssertionError, match="the page shows"):
        run_python("print('a')\nprint('b')\n# a\n# c\n", {}, "here")


def test_outputs_below_trailing_ellipsis_and_tuples():
    run_python("print('a\\nb')\n# a\n# b\n\n# prose after a blank line\nx = 2\n", {}, "here")
    run_python("print('tensor([1., 2.])')  # tensor([1., ...])\n", {}, "here")
    run_python("(1, 'b')  # 1, 'b'\n", {}, "here")
    run_python("(1, 'b')  # (1, 'b')\n", {}, "here")


def test_a_comment_on_a_statement_that_shows_nothing_fails():
    with pytest.raises(AssertionError, match="shows nothing"):
        run_python("[].sort()  # sorts\n", {}, "here")


def test_raises():
    run_python("1 / 0  # raises ZeroDivisionError: division by zero\n", {}, "here")
    run_python("{}['k']  # raises LookupError\n", {}, "here")
    with pytest.raises(AssertionError, match="not ValueError"):
        run_python("1 / 0  # raises ValueError\n", {}, "here")
    with pytest.raises(pytest.fail.Exception):
        run_python("1 / 1  # raises ZeroDivisionError\n", {}, "here")


def test_console_blocks(capsys):
    run_console('$ symgrad diff "a*b" --wrt a\n∂f/∂a = b\n', "here")
    run_console("$ symgrad diff 'relu2(a)'\nsymgrad: error: unknown function relu2 ...\n", "here")
    with pytest.raises(AssertionError, match="is shown printing"):
        run_console('$ symgrad diff "a*b" --wrt a\n∂f/∂a = a\n', "here")
    with pytest.raises(AssertionError, match="exited with 2"):
        run_console("$ symgrad diff 'relu2(a)'\n...\n", "here")


def test_blocks_are_found_with_their_language_and_indent():
    page = "text\n```python\nx = 1\n```\n\n    ```console\n    $ symgrad --help\n    ```\n"
    assert [(b.lang, b.code, b.line) for b in blocks(page)] == [
        ("python", "x = 1\n", 3),
        ("console", "$ symgrad --help\n", 7),
    ]

"""What the API reference needs beyond reading symgrad's source.

mkdocstrings reads the source statically, but two families of public names are made
when ``symgrad`` is imported: the methods and properties that
``symgrad.frontend.tensor_methods`` and ``symgrad.frontend.tensor_api`` attach to
``Tensor`` (``x.exp()`` from the op table, ``x.sum()``, ``x.reshape()``, ...), and the
elementwise functions ``symgrad.frontend.math`` makes from the op table (``sg.exp``).
This extension adds them to the static model from the live objects, with their
signatures and docstrings.  It also puts docstrings' doctest lines (``>>> ...`` and
their output) into fenced code, so they render as code (griffe reads the
``Examples:`` section of a Google-style docstring itself, but not the singular
``Example:``, which it renders as an admonition, nor doctests in the text).
"""

from __future__ import annotations

import inspect
import re
from typing import Any

import griffe

_KINDS = {
    inspect.Parameter.POSITIONAL_ONLY: griffe.ParameterKind.positional_only,
    inspect.Parameter.POSITIONAL_OR_KEYWORD: griffe.ParameterKind.positional_or_keyword,
    inspect.Parameter.VAR_POSITIONAL: griffe.ParameterKind.var_positional,
    inspect.Parameter.KEYWORD_ONLY: griffe.ParameterKind.keyword_only,
    inspect.Parameter.VAR_KEYWORD: griffe.ParameterKind.var_keyword,
}
_EXAMPLES = re.compile(r"^Examples:\s*$")  # parsed by griffe itself ("Example:" is not)


def _docstring(text: str | None, parent: griffe.Object, agent: Any) -> griffe.Docstring | None:
    if not text:
        return None
    return griffe.Docstring(
        inspect.cleandoc(text),
        parent=parent,
        parser=agent.docstring_parser,
        parser_options=agent.docstring_options,
    )


def _function(name: str, live: Any, parent: griffe.Object, agent: Any) -> griffe.Function:
    """A griffe function for ``live``; for a method, without its first parameter (the
    tensor: the attached functions call it ``self``, ``x`` or ``input``)."""
    try:
        found = list(inspect.signature(live).parameters.values())
    except (TypeError, ValueError):
        found = []
    positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    if parent.is_class and found and found[0].kind in positional:
        found = found[1:]
    parameters = griffe.Parameters(
        *(
            griffe.Parameter(
                p.name,
                kind=_KINDS[p.kind],
                default=None if p.default is p.empty else repr(p.default),
            )
            for p in found
        )
    )
    function = griffe.Function(name, parameters=parameters, parent=parent)
    function.docstring = _docstring(live.__doc__, function, agent)
    return function


def _attribute(name: str, live: property, parent: griffe.Class, agent: Any) -> griffe.Attribute:
    attribute = griffe.Attribute(name, parent=parent)
    attribute.labels.add("property")
    attribute.docstring = _docstring(live.__doc__, attribute, agent)
    return attribute


class SymgradMembers(griffe.Extension):
    """Adds the members symgrad attaches at import time (see the module docstring)."""

    def on_class_members(self, *, node: Any, cls: griffe.Class, agent: Any, **kwargs: Any) -> None:
        if cls.path != "symgrad.frontend.tensor.Tensor":
            return
        from symgrad.frontend import tensor_methods  # noqa: F401  (attaches the methods)
        from symgrad.frontend.tensor import Tensor

        for name, live in sorted(vars(Tensor).items()):
            if name.startswith("_") or name in cls.members:
                continue
            if isinstance(live, property):
                cls.set_member(name, _attribute(name, live, cls, agent))
            elif callable(live):
                cls.set_member(name, _function(name, live, cls, agent))

    def on_module_members(
        self, *, node: Any, mod: griffe.Module, agent: Any, **kwargs: Any
    ) -> None:
        if mod.path != "symgrad.frontend.math":
            return
        from symgrad.frontend.math import ELEMENTWISE_FUNCTIONS

        for name, live in sorted(ELEMENTWISE_FUNCTIONS.items()):
            if name not in mod.members:
                mod.set_member(name, _function(name, live, mod, agent))

    def on_package(self, *, pkg: griffe.Module, **kwargs: Any) -> None:
        for obj in _walk(pkg):
            if obj.docstring is not None:
                obj.docstring.value = fence_doctests(obj.docstring.value)


def _walk(obj: griffe.Object):
    yield obj
    for member in obj.members.values():
        if not member.is_alias:
            yield from _walk(member)


def fence_doctests(text: str) -> str:
    """Doctest lines and their output, outside ``Examples:`` sections, as ```` ```pycon ````
    blocks (a blank line ends a block)."""
    out: list[str] = []
    in_section = in_block = False
    for line in text.splitlines():
        if _EXAMPLES.match(line):
            in_section = True
        elif in_section and line and not line[0].isspace():
            in_section = False
        starts = line.lstrip().startswith(">>>")
        if not in_section and not in_block and starts:
            indent = line[: len(line) - len(line.lstrip())]
            out.append(f"{indent}```pycon")
            in_block = True
        elif in_block and not line.strip():
            out.append(f"{indent}```")
            in_block = False
        out.append(line)
    if in_block:
        out.append(f"{indent}```")
    return "\n".join(out)

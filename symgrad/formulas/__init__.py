"""Derivative formulas for people: ``sg.formulas(fn)`` and the :class:`Formulas` it returns.

``terms`` (the SymPy objects) → ``algebra`` (elementwise work as matrix algebra) →
``display`` (one rule per primitive) → ``build`` (the gradient graph as named terms)
and ``notes`` (kinks) → ``printing`` (text, LaTeX, 2-D) → ``evaluate`` and ``verify``
(numbers from the formulas, checked) → ``result`` (the Formulas object) → ``derive`` (the entry).
"""

from symgrad.formulas.derive import formulas
from symgrad.formulas.result import Formulas

__all__ = ["Formulas", "formulas"]

"""Derivative formulas for people: ``sg.formulas(fn)`` and the :class:`Formulas` it returns."""

from symgrad.formulas.derive import Formulas, formulas

__all__ = ["Formulas", "formulas"]

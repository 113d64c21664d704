"""``save``/``load`` for state dicts as ``.npz`` archives, never pickling code.

A flat mapping of names to arrays (a ``Module.state_dict()``) is stored one
``.npy`` entry per name, so ``np.load`` reads it too.  Nested state (an
optimizer's ``{'state': {0: {...}}, 'param_groups': [...]}``) is stored as numbered
array entries plus a JSON description of the structure; it may hold mappings,
lists, tuples, arrays/Tensors and plain numbers, strings, booleans and ``None``.
Loading uses ``allow_pickle=False``: a file cannot run code.

Example:
    >>> import os, tempfile
    >>> import symgrad as sg
    >>> model = sg.nn.Linear(2, 1)
    >>> path = os.path.join(tempfile.mkdtemp(), "model.npz")
    >>> sg.nn.save(model.state_dict(), path)
    >>> state = sg.nn.load(path)
    >>> list(state), state["weight"].shape
    (['weight', 'bias'], (1, 2))
"""

from __future__ import annotations

import json
import os
import zipfile
from collections import OrderedDict
from collections.abc import Mapping
from typing import IO, Any

import numpy as np

from symgrad.frontend.tensor import Tensor

_MANIFEST = "__symgrad_structure__"
_SCALARS = (bool, int, float, str, type(None))
PathLike = str | os.PathLike | IO[bytes]


def _array(value: Any) -> np.ndarray:
    array = value.numpy() if isinstance(value, Tensor) else np.asarray(value)
    if array.dtype.hasobject:
        raise TypeError("save: object arrays cannot be stored without pickling")
    return array


def _is_array(value: Any) -> bool:
    return isinstance(value, Tensor | np.ndarray | np.generic)


def _encode(value: Any, arrays: list[np.ndarray]) -> Any:
    if _is_array(value):
        arrays.append(_array(value))
        return {"array": len(arrays) - 1}
    if isinstance(value, Mapping):
        items = []
        for key, item in value.items():
            if not isinstance(key, str | int) or isinstance(key, bool):
                raise TypeError(f"save: mapping keys must be str or int, got {key!r}")
            items.append([key, _encode(item, arrays)])
        return {"dict": items}
    if isinstance(value, list | tuple):
        kind = "tuple" if isinstance(value, tuple) else "list"
        return {kind: [_encode(item, arrays) for item in value]}
    if isinstance(value, _SCALARS):
        return {"value": value}
    raise TypeError(
        f"save: cannot store a {type(value).__name__}; use arrays, Tensors, mappings, "
        "lists and plain numbers or strings"
    )


def _decode(node: dict, arrays: list[np.ndarray]) -> Any:
    (kind, body), *_ = node.items()
    if kind == "array":
        return arrays[body]
    if kind == "dict":
        return OrderedDict((key, _decode(item, arrays)) for key, item in body)
    if kind == "list":
        return [_decode(item, arrays) for item in body]
    if kind == "tuple":
        return tuple(_decode(item, arrays) for item in body)
    return body


def _write(path: PathLike, entries: list[tuple[str, np.ndarray]]) -> None:
    target = os.fspath(path) if isinstance(path, str | os.PathLike) else path
    with zipfile.ZipFile(target, "w", zipfile.ZIP_STORED, allowZip64=True) as archive:
        for name, array in entries:
            with archive.open(name + ".npy", "w", force_zip64=True) as handle:
                np.lib.format.write_array(handle, np.asanyarray(array), allow_pickle=False)


def save(obj: Mapping[str, Any], path: PathLike) -> None:
    """Store a state dict (str → arrays or Tensors, possibly nested) at ``path`` as ``.npz``.

    The file is written exactly at ``path`` (no suffix is added); the format is the
    one ``np.savez`` writes.

    >>> import io
    >>> import symgrad as sg
    >>> buffer = io.BytesIO()
    >>> save({"w": sg.ones(2)}, buffer)
    >>> _ = buffer.seek(0)
    >>> dict(load(buffer))
    {'w': array([1., 1.])}
    """
    if not isinstance(obj, Mapping):
        raise TypeError(f"save: expected a mapping (a state dict), got {type(obj).__name__}")
    if _MANIFEST in obj:
        raise ValueError(f"save: the key {_MANIFEST!r} is reserved")
    flat = all(isinstance(k, str) for k in obj) and all(_is_array(v) for v in obj.values())
    if flat:
        _write(path, [(key, _array(value)) for key, value in obj.items()])
        return
    arrays: list[np.ndarray] = []
    structure = json.dumps(_encode(obj, arrays))
    entries = [(f"arr_{i}", array) for i, array in enumerate(arrays)]
    _write(path, [*entries, (_MANIFEST, np.array(structure))])


def load(path: PathLike) -> OrderedDict[str, Any]:
    """Read what :func:`save` stored: an OrderedDict of NumPy arrays in the saved order
    (nested mappings come back as OrderedDicts).

    Any ``.npz`` file of plain arrays can be read; pickled objects are refused.

    >>> import io
    >>> buffer = io.BytesIO()
    >>> save({"state": {0: {"step": np.array(2.0)}}, "lr": 0.1}, buffer)
    >>> _ = buffer.seek(0)
    >>> state = load(buffer)
    >>> state["state"][0]["step"], state["lr"]
    (array(2.), 0.1)
    """
    archive = np.load(path, allow_pickle=False)
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise ValueError("load: expected an .npz archive written by symgrad.nn.save")
    with archive:
        entries = OrderedDict((name, archive[name]) for name in archive.files)
    if _MANIFEST not in entries:
        return entries
    structure = json.loads(str(entries.pop(_MANIFEST)))
    arrays = [entries[f"arr_{i}"] for i in range(len(entries))]
    return _decode(structure, arrays)


__all__ = ["load", "save"]

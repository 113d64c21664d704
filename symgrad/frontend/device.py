"""Devices: symgrad runs on the CPU, so ``"cpu"`` is the one device there is.

``sg.device("cpu")``, ``device="cpu"`` on creation functions and ``x.to("cpu")``
are accepted as in PyTorch; any other device is a clear error, and
``sg.cuda.is_available()`` is False, so device-choosing code picks the CPU.

Example:
    >>> import symgrad as sg
    >>> sg.device("cuda" if sg.cuda.is_available() else "cpu")
    device(type='cpu')
    >>> sg.zeros(2, device="cpu").device
    device(type='cpu')
"""

from __future__ import annotations

from types import SimpleNamespace


class device:
    """A device, as ``torch.device``; only the CPU can be made.

    >>> device("cpu") == "cpu", device("cpu", 0).index
    (True, 0)
    """

    __slots__ = ("index", "type")

    def __init__(self, type: str | device, index: int | None = None) -> None:
        if isinstance(type, device):
            type, index = type.type, type.index if index is None else index
        if not isinstance(type, str):
            raise TypeError(f"device() expects a string such as 'cpu', got {type!r}")
        kind, _, number = type.partition(":")
        if number:
            if index is not None:
                raise ValueError(f"device {type!r} already names an index; got index={index}")
            if not number.isdigit():
                raise ValueError(f"invalid device string: {type!r}")
            index = int(number)
        check_device(kind)
        self.type = kind
        self.index = index

    def __eq__(self, other: object) -> bool:
        if isinstance(other, str):
            try:
                other = device(other)
            except (ValueError, TypeError):
                return False
        if not isinstance(other, device):
            return NotImplemented
        return (self.type, self.index) == (other.type, other.index)

    def __hash__(self) -> int:
        return hash((self.type, self.index))

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __repr__(self) -> str:
        if self.index is None:
            return f"device(type={self.type!r})"
        return f"device(type={self.type!r}, index={self.index})"


def check_device(where: object) -> None:
    """Accept ``None``, ``"cpu"``, ``"cpu:0"`` or ``device("cpu")``; refuse anything else."""
    if where is None or isinstance(where, device):
        return
    if not isinstance(where, str):
        raise TypeError(f"expected a device such as 'cpu', got {where!r}")
    kind = where.split(":")[0]
    if kind != "cpu":
        raise ValueError(
            f"symgrad runs on the CPU only; device {where!r} is not available "
            "(sg.cuda.is_available() is False; use device='cpu' or leave it out)"
        )


CPU = device("cpu")


def _no_cuda(*args: object, **kwargs: object) -> None:
    raise ValueError("symgrad runs on the CPU only; there is no CUDA device")


def _nothing(*args: object, **kwargs: object) -> None:
    """Seeding a device that is not there does nothing (as PyTorch without CUDA)."""


cuda = SimpleNamespace(
    is_available=lambda: False,
    device_count=lambda: 0,
    manual_seed=_nothing,
    manual_seed_all=_nothing,
    synchronize=_nothing,
    current_device=_no_cuda,
)
cuda.__doc__ = "``sg.cuda``: no CUDA devices; ``is_available()`` is False."

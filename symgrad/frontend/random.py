"""Random numbers: ``Generator``, the default generator and the functions that draw from them.

``sg.manual_seed(s)`` seeds the default generator (as ``torch.manual_seed``); a
``sg.Generator().manual_seed(s)`` passed as ``generator=`` gives a private stream.
Seeded runs are reproducible; the streams are NumPy's (PCG64), not PyTorch's, so
the numbers differ from ``torch.rand`` while their distributions agree.  Inside
:func:`symgrad.compile` a draw is a kernel input drawn afresh before every call.

Example:
    >>> import symgrad as sg
    >>> g = sg.Generator().manual_seed(0)
    >>> a = sg.rand(3, generator=g)
    >>> a.tolist() == sg.rand(3, generator=sg.Generator().manual_seed(0)).tolist()
    True
    >>> sorted(sg.randperm(4, generator=g).tolist())
    [0, 1, 2, 3]
"""

from __future__ import annotations

import copy
import operator
from collections.abc import Callable
from typing import Any

import numpy as np

from symgrad.dtypes import canonical, check_grad_dtype, get_default_dtype, int64, is_floating
from symgrad.errors import TraceError
from symgrad.frontend.apply import assign, parse_sizes
from symgrad.frontend.device import CPU, check_device
from symgrad.frontend.tensor import Tensor
from symgrad.recording import RECORDING

DEFAULT_SEED = 67280421310721  # a fresh torch.Generator's initial seed


class Generator:
    """A random-number generator, as ``torch.Generator``: ``manual_seed`` returns it.

    It also answers NumPy ``Generator`` methods (``g.normal(0, 1, 3)``), so functions
    that take a NumPy generator (``sg.nn.init.normal_``) accept it too.

    >>> g = Generator().manual_seed(3)
    >>> g.initial_seed()
    3
    >>> state = g.get_state(); first = g.random()
    >>> g.set_state(state).random() == first
    True
    """

    def __init__(self, device: Any = "cpu") -> None:
        check_device(device)
        self.device = CPU
        self.manual_seed(DEFAULT_SEED)

    def manual_seed(self, seed: int) -> Generator:
        """Restart the stream from ``seed`` (an int, modulo 2**64); returns the generator."""
        try:
            seed = operator.index(seed)
        except TypeError:
            raise TypeError(f"manual_seed expected an int seed, got {seed!r}") from None
        self._seed = seed % 2**64
        self._rng = np.random.default_rng(self._seed)
        return self

    def seed(self) -> int:
        """Seed from the operating system's entropy; returns the new seed."""
        new = int(np.random.SeedSequence().entropy % 2**63)
        self.manual_seed(new)
        return new

    def initial_seed(self) -> int:
        """The seed the stream last started from."""
        return self._seed

    def get_state(self) -> dict:
        """The stream's state, for :meth:`set_state`."""
        return copy.deepcopy(self._rng.bit_generator.state)

    def set_state(self, state: dict) -> Generator:
        """Go back to a state from :meth:`get_state`."""
        self._rng.bit_generator.state = copy.deepcopy(state)
        return self

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self._rng, name)

    def __repr__(self) -> str:
        return f"<symgrad.Generator seed={self._seed}>"


default_generator = Generator()


def manual_seed(seed: int) -> Generator:
    """Seed the default generator and return it, as ``torch.manual_seed``: ``rand``,
    ``randn``, dropout, ``nn.init``, layers' initial weights and ``DataLoader`` shuffling
    draw from it.  The stream is NumPy's PCG64, so the numbers differ from PyTorch's for
    the same seed.

    >>> import symgrad as sg
    >>> g = sg.manual_seed(0); a = sg.rand(2); _ = sg.manual_seed(0)
    >>> bool((sg.rand(2) == a).all()), g is sg.default_generator
    (True, True)
    """
    return default_generator.manual_seed(seed)


def seed() -> int:
    """Seed the default generator from the operating system's entropy; returns the seed
    (as ``torch.seed``), which :func:`manual_seed` can replay."""
    return default_generator.seed()


def initial_seed() -> int:
    """The seed the default generator last started from."""
    return default_generator.initial_seed()


def generator() -> np.random.Generator:
    """The NumPy generator behind the default generator (NumPy-style draws from it
    advance the same stream as ``rand``); not in PyTorch.

    >>> generator().integers(0, 10, 3).shape
    (3,)
    """
    return default_generator._rng


def numpy_generator(gen: Generator | np.random.Generator | None) -> np.random.Generator:
    """The NumPy generator to draw from: ``gen``'s, or the default one's."""
    if gen is None:
        return default_generator._rng
    if isinstance(gen, Generator):
        return gen._rng
    if isinstance(gen, np.random.Generator):
        return gen
    raise TypeError(f"generator must be a symgrad.Generator, got {type(gen).__name__}")


def draw(
    sample: Callable[[np.random.Generator], np.ndarray],
    shape: tuple[int, ...],
    dtype: np.dtype,
    gen: Generator | np.random.Generator | None = None,
    requires_grad: bool = False,
) -> Tensor:
    """A tensor of ``sample(rng)`` (of ``shape``) as ``dtype``.  While tracing, it is a
    kernel input drawn before every call (nothing is drawn at trace time, so a compiled
    function draws the same numbers as the eager one from the same seed)."""
    if requires_grad:
        check_grad_dtype(dtype)

    def fresh() -> np.ndarray:
        return np.asarray(sample(numpy_generator(gen))).astype(dtype, copy=False)

    trace = RECORDING.trace
    if trace is None:
        return Tensor(fresh(), requires_grad=requires_grad)
    out = Tensor(np.zeros(tuple(operator.index(n) for n in shape), dtype), requires_grad)
    trace.before_call.append(lambda: np.copyto(out._value, fresh(), casting="unsafe"))
    return out


def _shape(size: tuple) -> tuple[int, ...]:
    """Sizes as ints (a traced size is fixed to its value: the draw has a concrete shape)."""
    return tuple(operator.index(n) for n in parse_sizes(size))


def _float_dtype(dtype: Any, fn: str) -> np.dtype:
    target = get_default_dtype() if dtype is None else canonical(dtype)
    if not is_floating(target):
        raise TypeError(f"{fn}() needs a floating dtype (float32 or float64), got {target}")
    return target


def rand(
    *size, generator: Generator | None = None, dtype=None, device=None, requires_grad=False
) -> Tensor:
    """Uniform samples in ``[0, 1)``.

    >>> rand(2, 3).shape, rand(2, dtype="float32").dtype
    ((2, 3), dtype('float32'))
    """
    check_device(device)
    shape = _shape(size)
    target = _float_dtype(dtype, "rand")
    return draw(lambda rng: rng.random(shape), shape, target, generator, requires_grad)


def randn(
    *size, generator: Generator | None = None, dtype=None, device=None, requires_grad=False
) -> Tensor:
    """Standard normal samples.

    >>> randn((2, 3), generator=Generator().manual_seed(0)).shape
    (2, 3)
    """
    check_device(device)
    shape = _shape(size)
    target = _float_dtype(dtype, "randn")
    return draw(lambda rng: rng.standard_normal(shape), shape, target, generator, requires_grad)


def randint(*args, generator=None, dtype=None, device=None, requires_grad=False, **kwargs):
    """Integers uniform in ``[low, high)``: ``sg.randint(10, (3,))``, ``sg.randint(2, 5, (2, 2))``.

    >>> ints = randint(3, 5, (4,))
    >>> ints.dtype, set(ints.tolist()) <= {3, 4}
    (dtype('int64'), True)
    """
    low, high, size = _randint_args(args, kwargs)
    if low >= high:
        raise ValueError(f"randint expects low < high, but got low={low} >= high={high}")
    check_device(device)
    shape = _shape((size,))
    target = int64 if dtype is None else canonical(dtype)
    return draw(lambda rng: rng.integers(low, high, shape), shape, target, generator, requires_grad)


def _randint_args(args: tuple, kwargs: dict) -> tuple[int, int, Any]:
    names = {"low", "high", "size"}
    if set(kwargs) - names:
        raise TypeError(f"randint() got unexpected keyword arguments {sorted(set(kwargs) - names)}")
    if len(args) == 3:
        low, high, size = args
    elif len(args) == 2 and "size" not in kwargs:
        (high, size), low = args, kwargs.get("low", 0)
    elif len(args) == 1 and "size" in kwargs:
        high, low = args[0], kwargs.get("low", 0)
        size = kwargs["size"]
    else:
        low, high = kwargs.get("low", 0), kwargs.get("high")
        size = args[0] if len(args) == 1 else kwargs.get("size")
    if high is None or size is None:
        raise TypeError(
            "randint() needs high and size: sg.randint(high, size) or (low, high, size)"
        )
    for name, value in (("low", low), ("high", high)):
        if not isinstance(value, int | np.integer):
            raise TypeError(f"randint(): argument '{name}' must be an int, not {value!r}")
    return int(low), int(high), size


def randperm(
    n: int, *, generator: Generator | None = None, dtype=None, device=None, requires_grad=False
) -> Tensor:
    """A random permutation of ``0 .. n-1``.

    >>> sorted(randperm(4).tolist())
    [0, 1, 2, 3]
    """
    n = operator.index(n)
    if n < 0:
        raise ValueError(f"randperm: n must be non-negative, got {n}")
    check_device(device)
    target = int64 if dtype is None else canonical(dtype)
    return draw(lambda rng: rng.permutation(n), (n,), target, generator, requires_grad)


def multinomial(
    input: Tensor, num_samples: int, replacement: bool = False, *, generator=None
) -> Tensor:
    """Indices drawn from the categories of each row of ``input`` (weights, need not sum to
    1); without replacement no index repeats in a row (categories of weight 0 come only
    after all the others, as in PyTorch).

    >>> import symgrad as sg
    >>> sg.multinomial(sg.tensor([0.0, 1.0, 0.0]), 2, replacement=True)
    tensor([1, 1])
    """
    weights = np.asarray(_values(input, "multinomial"), np.float64)
    k = operator.index(num_samples)
    if weights.ndim not in (1, 2):
        raise ValueError(f"multinomial: prob_dist must be 1 or 2 dim, got shape {weights.shape}")
    if k <= 0:
        raise ValueError(f"multinomial: cannot sample n_sample <= 0 samples, got {k}")
    rows = weights.reshape(-1, weights.shape[-1])
    n = rows.shape[1]
    if not replacement and k > n:
        raise ValueError(
            f"multinomial: cannot sample n_sample ({k}) > prob_dist.size(-1) ({n}) samples "
            "without replacement"
        )
    if not np.isfinite(rows).all() or (rows < 0).any():
        raise ValueError("multinomial: probability tensor contains either inf, nan or element < 0")
    if (rows.sum(axis=1) <= 0).any():
        raise ValueError(
            "multinomial: invalid multinomial distribution (sum of probabilities <= 0)"
        )
    shape = (*weights.shape[:-1], k)
    sample = _with_replacement if replacement else _without_replacement
    return draw(lambda rng: sample(rows, k, rng).reshape(shape), shape, int64, generator)


def _with_replacement(rows: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    n = rows.shape[1]
    cdf = np.cumsum(rows, axis=1) / rows.sum(axis=1, keepdims=True)
    last = n - 1 - np.argmax(rows[:, ::-1] > 0, axis=1)  # from the last category on, cdf is 1
    cdf[np.arange(n) >= last[:, None]] = 1.0
    u = rng.random((rows.shape[0], k))
    return np.stack([np.searchsorted(c, r, side="right") for c, r in zip(cdf, u, strict=True)])


def _without_replacement(rows: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    # An exponential race: the smallest E_i / w_i wins with probability w_i / sum(w), and the
    # runners-up follow as in sequential sampling without replacement.  Zero weights come
    # last, lowest index first (as PyTorch, which fills up with them when it must).
    with np.errstate(divide="ignore"):
        keys = rng.standard_exponential(rows.shape) / rows
    return np.argsort(keys, axis=1, kind="stable")[:, :k]


def _values(x: object, fn: str) -> np.ndarray:
    if isinstance(x, Tensor):
        if x.is_traced:
            raise TraceError(
                f"{fn}() needs the values of its input, which are not known while "
                "tracing; draw the samples outside the compiled function"
            )
        return x.numpy()
    return np.asarray(x)


def normal_(x: Tensor, mean: float = 0.0, std: float = 1.0, *, generator=None) -> Tensor:
    """Fill ``x`` in place with normal samples.

    >>> import symgrad as sg
    >>> sg.zeros(3).normal_(0.0, 2.0, generator=sg.Generator().manual_seed(0)).shape
    (3,)
    """
    if std < 0:
        raise ValueError(f"normal_ expects std >= 0.0, but found std {std}")
    _check_float(x, "normal_")
    shape = _shape((x.shape,))
    return assign(x, draw(lambda rng: rng.normal(mean, std, shape), shape, x.dtype, generator))


def uniform_(x: Tensor, a: float = 0.0, b: float = 1.0, *, generator=None, **kwargs) -> Tensor:
    """Fill ``x`` in place with samples uniform in ``[a, b)`` (``x.uniform_(-1, 1)``;
    PyTorch's keywords ``from``/``to`` work too).

    >>> import symgrad as sg
    >>> x = sg.zeros(100).uniform_(-1.0, 1.0)
    >>> bool(-1 <= x.min().item() and x.max().item() < 1)
    True
    """
    a, b = kwargs.pop("from", a), kwargs.pop("to", b)
    if kwargs:
        raise TypeError(f"uniform_() got unexpected keyword arguments {sorted(kwargs)}")
    if a > b:
        raise ValueError(
            f"uniform_ expects to return a [from, to) range, but found from={a} > to={b}"
        )
    _check_float(x, "uniform_")
    shape = _shape((x.shape,))
    return assign(x, draw(lambda rng: rng.uniform(a, b, shape), shape, x.dtype, generator))


def _check_float(x: Tensor, fn: str) -> None:
    if not is_floating(x.dtype):
        raise TypeError(f"{fn} needs a floating tensor, got dtype {x.dtype}")


def rand_like(x: Tensor, *, dtype=None, device=None, requires_grad=False) -> Tensor:
    """Uniform samples in ``[0, 1)`` with ``x``'s shape (and dtype unless given), as
    ``torch.rand_like``; from the default generator.

    >>> import symgrad as sg
    >>> sg.rand_like(sg.zeros(2, 3, dtype=sg.float32)).dtype
    dtype('float32')
    """
    return rand(x.shape, dtype=dtype or x.dtype, device=device, requires_grad=requires_grad)


def randn_like(x: Tensor, *, dtype=None, device=None, requires_grad=False) -> Tensor:
    """Standard normal samples with ``x``'s shape (and dtype unless given), as
    ``torch.randn_like``; from the default generator.

    >>> import symgrad as sg
    >>> sg.randn_like(sg.zeros(2, 3)).shape
    (2, 3)
    """
    return randn(x.shape, dtype=dtype or x.dtype, device=device, requires_grad=requires_grad)


def randint_like(x: Tensor, low: int = 0, high: int | None = None, *, dtype=None) -> Tensor:
    """Integers in ``[low, high)`` with ``x``'s shape (and dtype unless given), as
    ``torch.randint_like``: ``randint_like(x, 10)`` or ``randint_like(x, 2, 5)``.

    >>> import symgrad as sg
    >>> sg.randint_like(sg.zeros(4, dtype=sg.int64), 2, 5).shape
    (4,)
    """
    if high is None:
        low, high = 0, low
    return randint(low, high, x.shape, dtype=dtype or x.dtype)

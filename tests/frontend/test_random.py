"""Random numbers: generators and seeds (reproducible), distributions (checked against
theory and against PyTorch's samples), shapes and dtypes as PyTorch, compiled draws."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy import stats

import symgrad as sg


@pytest.fixture(autouse=True)
def torch_float64():
    """symgrad's default dtype is float64: compare with torch under the same default."""
    before = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(before)


# Each draw on either library (``m`` is torch or symgrad), with ``g`` a seeded generator.
DRAWS = {
    "rand": lambda m, g: m.rand(2, 3, generator=g),
    "randn": lambda m, g: m.randn((4,), generator=g),
    "randint": lambda m, g: m.randint(10, (3, 2), generator=g),
    "randint_low": lambda m, g: m.randint(-5, 5, (6,), generator=g),
    "randperm": lambda m, g: m.randperm(7, generator=g),
    "multinomial": lambda m, g: m.multinomial(m.tensor([0.2, 0.5, 0.3]), 4, True, generator=g),
    "multinomial_2d": lambda m, g: m.multinomial(m.ones(2, 5), 3, generator=g),
    "normal_": lambda m, g: m.zeros(5).normal_(1.0, 2.0, generator=g),
    "uniform_": lambda m, g: m.zeros(5).uniform_(-1.0, 3.0, generator=g),
    "rand_float32": lambda m, g: m.rand(3, generator=g, dtype=m.float32),
}


@pytest.mark.parametrize("draw", DRAWS.values(), ids=DRAWS.keys())
def test_seeded_generators_are_reproducible_with_torch_shapes_and_dtypes(draw):
    a = draw(sg, sg.Generator().manual_seed(123))
    b = draw(sg, sg.Generator().manual_seed(123))
    t = draw(torch, torch.Generator().manual_seed(123))
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert tuple(a.shape) == tuple(t.shape)
    assert str(a.dtype) == str(t.dtype).removeprefix("torch.")


@pytest.mark.parametrize("draw", DRAWS.values(), ids=DRAWS.keys())
def test_manual_seed_makes_the_default_generator_reproducible(draw):
    sg.manual_seed(7)
    a = [draw(sg, None).numpy().copy() for _ in range(2)]
    sg.manual_seed(7)
    b = [draw(sg, None).numpy().copy() for _ in range(2)]
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])


def test_private_generators_leave_the_default_stream_alone():
    sg.manual_seed(1)
    expected = sg.rand(4).tolist()
    sg.manual_seed(1)
    sg.rand(100, generator=sg.Generator().manual_seed(5))
    assert sg.rand(4).tolist() == expected


def test_generator_api():
    g = sg.Generator()
    assert g.manual_seed(3) is g and g.initial_seed() == 3
    state = g.get_state()
    first = sg.rand(3, generator=g).tolist()
    g.set_state(state)
    assert sg.rand(3, generator=g).tolist() == first
    assert isinstance(g.seed(), int)
    assert sg.Generator(device="cpu").device == "cpu"
    with pytest.raises(ValueError, match="CPU only"):
        sg.Generator(device="cuda")
    with pytest.raises(TypeError, match="int seed"):
        g.manual_seed(1.5)
    with pytest.raises(TypeError, match=r"symgrad\.Generator"):
        sg.rand(2, generator="seed")
    # It also serves NumPy-style draws, so nn.init accepts it.
    w = sg.nn.init.normal_(sg.zeros(1000), generator=sg.Generator().manual_seed(0))
    assert abs(w.numpy().std() - 1.0) < 0.1


N = 40_000


def test_multinomial_fills_up_with_zero_weights_as_torch():
    for k in (2, 3):
        ours = sg.multinomial(sg.tensor([1.0, 0.0, 0.0]), k).tolist()
        assert ours == torch.multinomial(torch.tensor([1.0, 0.0, 0.0]), k).tolist()


def _ks_pvalue(samples, cdf) -> float:
    return stats.kstest(np.asarray(samples).ravel(), cdf).pvalue


def test_continuous_distributions():
    g = sg.Generator().manual_seed(0)
    assert _ks_pvalue(sg.rand(N, generator=g).numpy(), stats.uniform().cdf) > 1e-3
    assert _ks_pvalue(sg.randn(N, generator=g).numpy(), stats.norm().cdf) > 1e-3
    normal = sg.empty(N).normal_(2.0, 3.0, generator=g).numpy()
    assert _ks_pvalue(normal, stats.norm(2.0, 3.0).cdf) > 1e-3
    uniform = sg.empty(N).uniform_(-1.0, 3.0, generator=g).numpy()
    assert _ks_pvalue(uniform, stats.uniform(-1.0, 4.0).cdf) > 1e-3
    assert uniform.min() >= -1.0 and uniform.max() < 3.0
    # torch's own samples pass the same test (the check is not tuned to symgrad)
    t = torch.empty(N, dtype=torch.float64).normal_(2.0, 3.0)
    assert _ks_pvalue(t.numpy(), stats.norm(2.0, 3.0).cdf) > 1e-3


def _chi2_pvalue(counts, probabilities) -> float:
    expected = np.asarray(probabilities) * np.sum(counts)
    return stats.chisquare(counts, expected).pvalue


def test_randint_and_randperm_are_uniform():
    g = sg.Generator().manual_seed(1)
    ints = sg.randint(3, 9, (N,), generator=g).numpy()
    assert ints.min() >= 3 and ints.max() <= 8
    assert _chi2_pvalue(np.bincount(ints - 3, minlength=6), [1 / 6] * 6) > 1e-3
    firsts = [sg.randperm(5, generator=g).tolist() for _ in range(5000)]
    assert all(sorted(p) == list(range(5)) for p in firsts)
    counts = np.bincount([p[0] for p in firsts], minlength=5)
    assert _chi2_pvalue(counts, [0.2] * 5) > 1e-3


WEIGHTS = [1.0, 0.0, 3.0, 6.0]  # not normalised; one category never drawn


def test_multinomial_with_replacement_matches_the_weights():
    g = sg.Generator().manual_seed(2)
    picks = sg.multinomial(sg.tensor(WEIGHTS), N, replacement=True, generator=g).numpy()
    counts = np.bincount(picks, minlength=4)
    assert counts[1] == 0
    p = np.array(WEIGHTS) / sum(WEIGHTS)
    assert _chi2_pvalue(counts[[0, 2, 3]], p[[0, 2, 3]]) > 1e-3


def _pair_frequencies(draw_pairs) -> np.ndarray:
    freq = np.zeros((4, 4))
    for first, second in draw_pairs:
        freq[first, second] += 1
    return freq / freq.sum()


def test_multinomial_without_replacement_matches_sequential_sampling_and_torch():
    rows = 20_000
    weights = np.tile(WEIGHTS, (rows, 1))
    g = sg.Generator().manual_seed(3)
    ours = sg.multinomial(sg.tensor(weights), 2, generator=g).numpy()
    assert (ours[:, 0] != ours[:, 1]).all() and not (ours == 1).any()
    theirs = torch.multinomial(torch.tensor(weights), 2, generator=torch.Generator().manual_seed(3))
    p = np.array(WEIGHTS) / sum(WEIGHTS)
    theory = np.array(
        [[p[i] * p[j] / (1 - p[i]) if i != j else 0 for j in range(4)] for i in range(4)]
    )
    ours_freq, theirs_freq = _pair_frequencies(ours), _pair_frequencies(theirs.numpy())
    np.testing.assert_allclose(ours_freq, theory, atol=0.015)
    np.testing.assert_allclose(theirs_freq, theory, atol=0.015)


def test_multinomial_takes_every_category_without_replacement():
    g = sg.Generator().manual_seed(4)
    picks = sg.multinomial(sg.tensor([[1.0, 2.0, 3.0], [5.0, 0.5, 1.0]]), 3, generator=g)
    assert picks.shape == (2, 3) and picks.dtype == sg.int64
    assert [sorted(row) for row in picks.tolist()] == [[0, 1, 2]] * 2


@pytest.mark.parametrize(
    ("weights", "k", "replacement", "message"),
    [
        ([0.5, 0.5], 3, False, "without replacement"),
        ([0.5, -0.1], 1, True, "element < 0"),
        ([0.5, float("nan")], 1, True, "nan"),
        ([0.0, 0.0], 1, True, "sum of probabilities"),
        ([[[1.0]]], 1, True, "1 or 2 dim"),
        ([1.0], 0, True, "n_sample <= 0"),
    ],
)
def test_multinomial_bad_arguments(weights, k, replacement, message):
    with pytest.raises(ValueError, match=message):
        sg.multinomial(sg.tensor(weights), k, replacement)
    with pytest.raises(RuntimeError):
        torch.multinomial(torch.tensor(weights), k, replacement)


def test_other_bad_arguments():
    with pytest.raises(ValueError, match="low < high"):
        sg.randint(5, 5, (2,))
    with pytest.raises(TypeError, match="high and size"):
        sg.randint(5)
    with pytest.raises(ValueError, match="non-negative"):
        sg.randperm(-1)
    with pytest.raises(ValueError, match="std >= 0"):
        sg.zeros(2).normal_(0.0, -1.0)
    with pytest.raises(ValueError, match="from="):
        sg.zeros(2).uniform_(2.0, 1.0)
    with pytest.raises(TypeError, match="floating"):
        sg.zeros(2, dtype=sg.int64).normal_()
    with pytest.raises(sg.errors.GradError):
        sg.zeros(2, requires_grad=True).normal_()


def test_random_fills_follow_torch_keywords_and_grad_rules():
    x = sg.zeros(3, requires_grad=True)
    with sg.no_grad():
        assert x.uniform_(**{"from": -2.0, "to": -1.0}) is x
    assert ((x.numpy() >= -2.0) & (x.numpy() < -1.0)).all()
    assert x.requires_grad and x.is_leaf


def test_likes_and_randint_forms_match_torch():
    base = sg.zeros(2, 3, dtype=sg.float32)
    tbase = torch.zeros(2, 3, dtype=torch.float32)
    for name in ("rand_like", "randn_like"):
        s, t = getattr(sg, name)(base), getattr(torch, name)(tbase)
        assert s.shape == tuple(t.shape) and str(s.dtype) == "float32"
    s, t = sg.randint_like(base, 5), torch.randint_like(tbase, 5)
    assert s.shape == tuple(t.shape) and str(s.dtype) == str(t.dtype).removeprefix("torch.")
    assert sg.randint(low=2, high=4, size=(3,)).shape == (3,)
    assert sg.randint(4, size=(3,)).shape == tuple(torch.randint(4, size=(3,)).shape)


def test_compiled_draws_are_fresh_each_call_and_follow_the_seed():
    f = sg.compile(lambda x: x + sg.rand(3), tier="interpret")
    zeros = sg.zeros(3)
    sg.manual_seed(11)
    first, second = f(zeros).tolist(), f(zeros).tolist()
    assert first != second
    sg.manual_seed(11)
    assert [f(zeros).tolist(), f(zeros).tolist()] == [first, second]
    sg.manual_seed(11)  # the same numbers as the eager draws from the same seed
    assert [sg.rand(3).tolist(), sg.rand(3).tolist()] == [first, second]


def test_compiled_normal_fill_is_fresh_each_call():
    def step(w):
        noise = sg.zeros(4)
        noise.normal_()
        return w + noise

    f = sg.compile(step, tier="interpret")
    a, b = f(sg.zeros(4)).tolist(), f(sg.zeros(4)).tolist()
    assert a != b

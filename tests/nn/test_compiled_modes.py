"""A compiled function follows ``train()``/``eval()``: the mode is a guard of its trace."""

from __future__ import annotations

import numpy as np
import pytest

import symgrad as sg


@pytest.mark.parametrize("tier", ["interpret", "sync"])
def test_dropout_stops_dropping_in_eval_mode(tier):
    sg.manual_seed(0)
    dropout = sg.nn.Dropout(0.5)
    f = sg.compile(lambda x: dropout(x), tier=tier)
    x = sg.ones(64)
    assert set(np.unique(f(x).numpy())) == {0.0, 2.0}
    dropout.eval()
    np.testing.assert_array_equal(f(x).numpy(), np.ones(64))
    dropout.train()
    assert set(np.unique(f(x).numpy())) == {0.0, 2.0}
    assert f.trace_count() == 2  # one trace per mode, each kept


@pytest.mark.parametrize("tier", ["interpret", "sync"])
def test_batch_norm_uses_running_statistics_in_eval_mode(tier):
    sg.manual_seed(0)
    model = sg.nn.Sequential(sg.nn.Linear(3, 4), sg.nn.BatchNorm1d(4))
    f = sg.compile(lambda x: model(x), tier=tier)
    x = sg.randn(8, 3)
    f(x)  # training: batch statistics, running statistics updated
    model.eval()
    got = f(x).numpy()
    with sg.no_grad():
        expected = model(x).numpy()  # eager, eval mode
    np.testing.assert_allclose(got, expected, rtol=1e-12)
    running = model[1].running_mean.numpy().copy()
    f(x)
    np.testing.assert_array_equal(model[1].running_mean.numpy(), running)  # not updated


def test_a_module_called_twice_is_guarded_once():
    layer = sg.nn.Linear(2, 2)
    f = sg.compile(lambda x: layer(layer(x)), tier="interpret")
    f(sg.ones(1, 2))
    (entries,) = [e for e in f._entries.values() if e]
    assert len(entries[0].guards) == 1

"""The convolution micro-kernels against NumPy: every tile of rows and positions, both
float dtypes, masked positions, and the bounds checks that keep a tile inside its arrays;
the NumPy versions (what a kernel's Python function calls) agree."""

from __future__ import annotations

import numpy as np
import pytest
from numba import njit
from numba.core.errors import TypingError

from symgrad.compiler import conv_tiles

DTYPES = [(np.float32, 1e-5), (np.float64, 1e-12)]


@njit
def rows(src, offs, wm, acc, base):
    conv_tiles.sg_conv_rows(src, offs, wm, acc, base)


@njit
def dw(src, offs, g, dwv, keep, base):
    conv_tiles.sg_conv_dw(src, offs, g, dwv, keep, base)


def _windows(src, offs, base, positions):
    return np.stack([src[base + o : base + o + positions] for o in offs]).astype(np.float64)


@pytest.mark.parametrize("rows", [rows, conv_tiles.sg_conv_rows], ids=["compiled", "numpy"])
@pytest.mark.parametrize(("dtype", "tol"), DTYPES)
def test_rows_multiply_the_windows(dtype, tol, rows):
    rng = np.random.default_rng(0)
    lanes = 32 // np.dtype(dtype).itemsize
    src = rng.standard_normal(700).astype(dtype)
    offs = rng.integers(0, 300, size=11)
    wm = rng.standard_normal((12, 11)).astype(dtype)
    acc = np.full((12, 3 * lanes * 5), np.nan, dtype)
    rows(src, offs, wm, acc, 7)
    want = wm.astype(np.float64) @ _windows(src, offs, 7, acc.shape[1])
    np.testing.assert_allclose(acc, want, rtol=tol, atol=tol)


@pytest.mark.parametrize("dw", [dw, conv_tiles.sg_conv_dw], ids=["compiled", "numpy"])
@pytest.mark.parametrize(("dtype", "tol"), DTYPES)
def test_dw_adds_lane_sums_of_kept_positions(dtype, tol, dw):
    rng = np.random.default_rng(1)
    lanes = 32 // np.dtype(dtype).itemsize
    src = rng.standard_normal(600).astype(dtype)
    offs = rng.integers(0, 250, size=6)
    positions = lanes * 7
    g = rng.standard_normal((8, positions)).astype(dtype)
    keep = (rng.random(positions) < 0.7).astype(dtype)
    g[:, keep == 0] = 0
    src[offs[2] + 3 + np.flatnonzero(keep == 0)[0]] = np.inf  # read where it is dropped
    dwv = rng.standard_normal((8, 6 * lanes)).astype(dtype)
    before = dwv.copy()
    dw(src, offs, g, dwv, keep, 3)
    windows = np.where(keep == 1, _windows(src, offs, 3, positions), 0)
    want = g.astype(np.float64) @ windows.T
    added = (dwv - before).reshape(8, 6, lanes).sum(-1)
    np.testing.assert_allclose(added, want, rtol=tol * 10, atol=tol * 10)


def test_tiles_never_reach_outside_their_arrays():
    src, offs = np.zeros(100), np.array([0, 10, 20])
    acc = np.empty((4, 12))
    with pytest.raises(ValueError, match="outside the image"):
        rows(src, offs, np.zeros((4, 3)), acc, 80)  # 80 + 20 + 12 > 100
    with pytest.raises(ValueError, match="outside the image"):
        rows(src, np.array([0, -1, 2]), np.zeros((4, 3)), acc, 5)
    with pytest.raises(ValueError, match="do not fit"):
        rows(src, offs, np.zeros((3, 3)), acc, 0)  # rows not a multiple of 4
    with pytest.raises(ValueError, match="do not fit"):
        rows(src, offs, np.zeros((4, 3)), np.empty((4, 10)), 0)  # not whole tiles
    with pytest.raises(ValueError, match="do not fit"):
        rows(src, offs, np.zeros((4, 3)), acc, -1)
    with pytest.raises(ValueError, match="do not fit"):
        rows(src, offs[:0], np.zeros((4, 0)), acc, 0)  # no offsets
    keep = np.ones(8)
    for implementation in (dw, conv_tiles.sg_conv_dw):
        with pytest.raises(ValueError, match="outside the image"):
            implementation(src, offs, np.zeros((4, 8)), np.zeros((4, 12)), keep, 75)
    with pytest.raises(ValueError, match="outside the image"):
        conv_tiles.sg_conv_rows(src, offs, np.zeros((4, 3)), acc, 80)
    with pytest.raises(ValueError, match="do not fit"):
        dw(src, offs, np.zeros((4, 8)), np.zeros((4, 8)), keep, 0)  # dwv too narrow
    with pytest.raises(ValueError, match="do not fit"):
        dw(src, offs, np.zeros((4, 8)), np.zeros((4, 12)), np.ones(4), 0)  # keep too short


def test_mixed_dtypes_fail_to_compile():
    acc32 = np.empty((4, 24), np.float32)
    with pytest.raises(TypingError):
        rows(np.zeros(50, np.float32), np.zeros(3, np.int64), np.zeros((4, 3)), acc32, 0)
    with pytest.raises(TypingError):
        rows(np.zeros(50), np.zeros(3, np.int32), np.zeros((4, 3)), np.empty((4, 12)), 0)
    with pytest.raises(TypingError):
        dw(
            np.zeros(50),
            np.zeros(3, np.int64),
            np.zeros((4, 4)),
            np.zeros((4, 12)),
            np.ones(4, np.float32),
            0,
        )

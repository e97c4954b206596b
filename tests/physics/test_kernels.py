"""Energy-integral kernels against docs/theory.md §6, §8 R9, §9 and high-precision quadrature."""

import mpmath as mp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fmrnoise.physics.kernels import (
    cold_kernel,
    excess_kernel,
    kernel,
    mixed_kernel,
    quadrature_kernel,
)

temperatures = st.floats(1e-3, 3.0)
separations = st.floats(-5.0, 5.0)


def mp_kernel(x: float, T1: float, T2: float, dps: int = 30) -> float:
    """∫[1 - F_T1(eps - x) F_T2(eps)] d eps at ``dps`` digits, split at the steps."""
    with mp.workdps(dps):
        x, t1, t2 = mp.mpf(x), mp.mpf(T1), mp.mpf(T2)

        def fermi(e, t):
            return mp.tanh(e / (2 * t)) if t > 0 else mp.sign(e)

        lo, hi = min(x, 0), max(x, 0)
        points = [lo, hi]
        t_big, t_small = max(t1, t2), min(t1, t2)
        for scale in (t_big, t_small):
            if scale > 0:
                points += [lo - 90 * scale, hi + 90 * scale]
        return float(mp.quad(lambda e: 1 - fermi(e - x, t1) * fermi(e, t2), sorted(set(points))))


def test_kernel_reference_values_r9():
    assert kernel(0.5, 0.1) == pytest.approx(1.013567309812608466, rel=1e-10)
    assert kernel(-1.1, 1.3) == pytest.approx(5.5066161426777978599, rel=1e-10)


def test_kernel_limits():
    T = np.array([0.1, 1.0, 7.0])
    np.testing.assert_array_equal(kernel(0.0, T), 4 * T)
    np.testing.assert_array_equal(kernel([-2.0, 0.0, 3.0], 0.0), [4.0, 0.0, 6.0])
    x = 1e-6
    np.testing.assert_allclose(kernel(x, T), 4 * T * (1 + (x / (2 * T)) ** 2 / 3), rtol=1e-15)
    assert kernel(50.0, 0.1) == 100.0  # 2|x| + 200 e^-500: the thermal part underflows


@pytest.mark.parametrize(("x", "T"), [(0.5, 0.1), (1e-7, 0.3), (3.0, 0.05), (-40.0, 0.7),
                                      (2e-3, 1e-4), (1.0, 1e-12), (1e-13, 1e-12)])
def test_kernel_matches_high_precision_coth(x, T):
    with mp.workdps(40):
        expected = 2 * mp.mpf(x) * mp.coth(mp.mpf(x) / (2 * mp.mpf(T)))
    assert kernel(x, T) == pytest.approx(float(expected), rel=1e-14)


@pytest.mark.parametrize(("x", "T"), [(0.5, 0.2), (0.0, 0.3), (-4.0, 0.1), (1e-9, 2.0)])
def test_cold_kernel_matches_log_cosh(x, T):
    with mp.workdps(40):
        expected = 4 * T * mp.log(2 * mp.cosh(mp.mpf(x) / (2 * T)))
    assert cold_kernel(x, T) == pytest.approx(float(expected), rel=1e-14)
    assert mixed_kernel(x, T, 0.0) == mixed_kernel(x, 0.0, T) == cold_kernel(x, T)


@pytest.mark.parametrize(("x", "T1", "T2"), [
    (0.5, 0.1, 0.2), (0.0, 0.1, 0.3), (-1.1, 1.3, 0.4), (0.3, 0.01, 1.0), (3.0, 0.1, 0.105),
    (1e-3, 0.5, 0.05), (0.3, 1e-12, 1.0), (2.0, 1e3, 1e-6), (0.5, 0.0, 0.2), (-0.7, 0.15, 0.0),
])
def test_mixed_kernel_matches_mpmath(x, T1, T2):
    expected = mp_kernel(x, T1, T2)
    value, error = mixed_kernel(x, T1, T2, return_error=True)
    assert value == pytest.approx(expected, rel=1e-12)
    assert abs(value - expected) <= max(error, 2e-16 * expected)
    assert error <= 1e-12 * expected
    for method in ("logistic", "direct"):
        q_value, q_error = quadrature_kernel(x, T1, T2, method=method)
        assert q_value == pytest.approx(expected, rel=1e-12)
        assert q_error <= 1e-11 * expected


def test_quadrature_reproduces_closed_forms_at_equal_and_zero_temperature():
    x = np.linspace(-3, 3, 13)[:, np.newaxis]
    T = np.array([1e-12, 1e-3, 0.1, 1.0, 30.0])
    value, error = quadrature_kernel(x, T, T)
    np.testing.assert_allclose(value, kernel(x, T), rtol=1e-14)
    assert np.all(error <= 1e-12 * value)
    value, _ = quadrature_kernel(x, T, 0.0)
    np.testing.assert_allclose(value, cold_kernel(x, T), rtol=1e-14)
    value, error = quadrature_kernel(x, 0.0, 0.0)
    np.testing.assert_array_equal(value, 2 * np.abs(x))
    np.testing.assert_array_equal(error, 0.0)


@settings(deadline=None, max_examples=60)
@given(x=separations, T1=temperatures, ratio=st.one_of(st.just(1.0), st.floats(0.01, 100.0)))
def test_quadrature_matches_kernel_sums(x, T1, ratio):
    T2 = T1 * ratio
    value, error = quadrature_kernel(x, T1, T2)
    assert value == pytest.approx(mixed_kernel(x, T1, T2), rel=1e-13)
    assert error <= 1e-12 * value
    if T1 == T2:
        assert value == pytest.approx(kernel(x, T1), rel=1e-13)


@settings(deadline=None, max_examples=60)
@given(x=separations, T1=st.floats(0.0, 3.0), T2=st.floats(0.0, 3.0))
def test_mixed_kernel_is_even_symmetric_and_bounded(x, T1, T2):
    value = mixed_kernel(x, T1, T2)
    assert mixed_kernel(-x, T1, T2) == pytest.approx(value, rel=1e-14)
    assert mixed_kernel(x, T2, T1) == pytest.approx(value, rel=1e-14)
    # 2|x| + 4 ln2 max(T) <= K <= K_{T1+T2} (adding independent noise raises E|x + L|)
    assert value >= max(2 * abs(x), 4 * np.log(2) * max(T1, T2)) * (1 - 1e-14)
    assert value <= kernel(x, T1 + T2) * (1 + 1e-14)


def test_extreme_inputs_are_finite_and_accurate():
    x = np.array([0.0, 5e-324, 1e-300, 1e-12, 1.0, -1e3, 1e12])[:, np.newaxis]
    T = np.array([0.0, 1e-320, 1e-12, 1e-6, 1.0, 1e3, 1e12])
    for values in (kernel(x, T), cold_kernel(x, T), mixed_kernel(x, T, 1e-12),
                   mixed_kernel(x, T, 1e3), *quadrature_kernel(x, T, 0.5)):
        assert np.all(np.isfinite(values))
    assert kernel(1.0, 1e-12) == 2.0  # |x|/T = 1e12
    assert kernel(1e-12, 1.0) == 4.0
    assert mixed_kernel(1.0, 1e-12, 2e-12) == 2.0
    # max(2|x|, 4T) <= K_T(x) <= 2|x| + 4T
    value = kernel(x, T)
    assert np.all(value >= np.maximum(2 * np.abs(x), 4 * T) * (1 - 1e-15))
    assert np.all(value <= (2 * np.abs(x) + 4 * T) * (1 + 1e-15))


def test_nan_separation_gives_nan_without_warnings():
    x = np.array([np.nan, 1.0])
    for values in (kernel(x, 0.1), cold_kernel(x, 0.1), mixed_kernel(x, 0.1, 0.2),
                   *quadrature_kernel(x, 0.1, 0.2)):
        assert np.isnan(values[0]) and np.isfinite(values[1])


def test_shapes_broadcast():
    value, error = mixed_kernel(np.zeros((3, 1)), np.ones(4), 0.5, return_error=True)
    assert value.shape == error.shape == (3, 4)
    assert np.ndim(kernel(0.5, 0.1)) == 0


# --- excess kernel E_T(x) = K_T(x) - 4T ----------------------------------------------------------


@pytest.mark.parametrize("x", [0.0, 5e-324, 1e-300, 1e-12, 1e-4, 0.3, 1.999, 2.0, 2.001, 3.0, 10.0,
                               -40.0, 1e3, 1e12])
@pytest.mark.parametrize("T", [0.0, 1e-320, 1e-12, 1e-3, 0.5, 1.0, 1e3, 1e12])
def test_excess_kernel_matches_high_precision(x, T):
    with mp.workdps(700):  # 2x coth(x/2T) - 4T cancels ~600 digits at x = 1e-300, T = 1e3
        X, TT = mp.mpf(x), mp.mpf(T)
        expected = 2 * abs(X) if T == 0 else (0 if x == 0 else 2 * X * mp.coth(X / (2 * TT))
                                              - 4 * TT)
    value = excess_kernel(x, T)
    assert value >= 0
    assert value == pytest.approx(float(expected), rel=4e-16, abs=1e-320)
    assert kernel(x, T) == pytest.approx(4 * T + value, rel=2e-16)


def test_excess_kernel_is_even_vectorized_and_nan_safe():
    x = np.linspace(-5, 5, 101)[:, np.newaxis]
    T = np.array([0.0, 0.01, 1.0, 50.0])
    np.testing.assert_array_equal(excess_kernel(x, T), excess_kernel(-x, T))
    assert excess_kernel(x, T).shape == (101, 4)
    values = excess_kernel(np.array([np.nan, 1.0]), 0.1)
    assert np.isnan(values[0]) and np.isfinite(values[1])


def test_logistic_quadrature_does_not_depend_on_the_batch():
    x = np.linspace(-2.0, 2.0, 257)
    batch = mixed_kernel(x, 0.1, 0.3)
    np.testing.assert_array_equal(batch, [mixed_kernel(v, 0.1, 0.3) for v in x])

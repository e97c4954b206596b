"""Hot-electron limit (docs/theory.md §12) against its reference values, limits, a direct quadrature
of the §12 formulas built from the step lists, and mpmath (the kernel between two temperatures)."""

import dataclasses
import itertools

import mpmath as mp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.integrate import quad

from fmrnoise import HotElectrons, Model, hot_electrons, noise, steps
from fmrnoise.physics.kernels import excess_kernel, mixed_excess_kernel, mixed_kernel
from fmrnoise.physics.transport import conductances, spin_potentials

G_DEFAULT = 0.375  # defaults: (1.5 + 0.5) 0.3 0.5 / 0.8
#: The reference point of §10 and §12 (magnetic left lead, bias, precession, T = 0.02).
REFERENCE = Model(B0=1.0, omega_d=-1.2, Omega=0.03, T=0.02, mu_l=-0.2, rho_up=1.25,
                  rho_down=0.55, gamma_l_up=0.7, gamma_l_down=0.25, gamma_r_up=0.4,
                  gamma_r_down=0.4, alpha0=0.05, total_spin=100.0)


def fermi(e: float, T: float) -> float:
    return np.tanh(e / (2 * T)) if T > 0 else np.sign(e)


def direct(model: Model, theta: float, phidot: float,
           shift: tuple[float, float] = (0.0, 0.0)) -> tuple[float, float]:
    """(T_d, S_hot) from the step list (steps, spin_potentials), every spin-sigma step shifted by
    shift[sigma]: T_d² = sum W [T_i² + 3/pi² (a_i - mu_sigma)²] / sum W, and
    S = sum_sigma G_l G_r [G_r J(d,l) + G_l J(d,r)] / G_Sigma² with J = ∫[1 - F_d F_x] by quad
    on a window of 80 max(T) beyond the steps, in pieces split at and around the steps."""
    dist = steps(model, theta, phidot)
    dist = dataclasses.replace(dist, position=dist.position
                               + np.asarray(shift)[:, np.newaxis, np.newaxis])
    mu = spin_potentials(dist)  # (spin,)
    G = conductances(model, dist)  # (spin, lead)
    W = G[..., np.newaxis] * dist.weight  # (spin, lead, step)
    T_lead = dist.temperature  # (lead,)
    dev = dist.position - mu[:, np.newaxis, np.newaxis]
    t_d = np.sqrt(np.sum(W * (T_lead[:, np.newaxis] ** 2 + 3 / np.pi**2 * dev**2)) / W.sum())
    t_step = t_d if t_d > 1e-13 else 0.0  # a T_d from the rounding of mu_sigma is a zero one
    S = 0.0
    for spin in range(2):
        width = 80 * max(t_step, *T_lead) or 1.0
        centres = [(a, T) for a, T in zip(dist.position[spin].ravel(), np.repeat(T_lead, 2),
                                          strict=True)] + [(mu[spin], t_step)]
        lo, hi = min(a for a, _ in centres) - width, max(a for a, _ in centres) + width
        # split at the steps and at 1, 10, 40 of their widths: every piece is smooth on its scale
        edges = sorted({lo, hi} | {min(max(a + k * T, lo), hi) for a, T in centres
                                   for k in (0, -1, 1, -10, 10, -40, 40)})
        J = []
        for lead in range(2):
            def integrand(e, spin=spin, lead=lead):
                f_x = sum(p * fermi(e - a, T_lead[lead]) for a, p in
                          zip(dist.position[spin, lead], dist.weight[spin, lead], strict=True))
                return 1 - fermi(e - mu[spin], t_step) * f_x
            # pieces of width < 1e-14 (hi - lo) contribute < 2e-14 (hi - lo): skipped
            J.append(sum(quad(integrand, a, b, epsabs=1e-15, epsrel=1e-13, limit=200)[0]
                         for a, b in itertools.pairwise(edges) if b - a > 1e-14 * (hi - lo)))
        g_l, g_r = G[spin]
        S += g_l * g_r * (g_r * J[0] + g_l * J[1]) / (g_l + g_r) ** 2
    return float(t_d), S


# --- §12 reference values -----------------------------------------------------------------------

def test_equilibrium_gives_the_lead_temperature_and_4GT():
    theta = np.array([0.0, 0.3, 2.0])
    result = hot_electrons(Model(T=0.1), theta, 0.0)  # no drive (phidot = 0), no bias
    np.testing.assert_array_equal(result.T_dot, 0.1)
    np.testing.assert_allclose(result.S_hot, 4 * G_DEFAULT * 0.1, rtol=1e-15)
    np.testing.assert_array_equal(result.excess_noise_hot, 0.0)


def test_thermal_bias_without_drive():
    result = hot_electrons(Model(T=0.1, T_r=0.3), 0.0, -1.0)
    assert result.T_dot ** 2 == pytest.approx(0.06, rel=1e-14)  # (0.6 T² + 1.0 T_r²) / 1.6
    assert result.S_hot == pytest.approx(0.327674961409327, rel=1e-10)
    assert noise(Model(T=0.1, T_r=0.3), 0.0, -1.0).S == pytest.approx(0.316670591224943,
                                                                       rel=1e-12)
    theta = np.array([0.0, 0.9])  # without drive theta does not matter for normal leads
    model = Model(T=0.07, T_r=0.02, rho_up=0.8, rho_down=1.3, gamma_l_up=0.6, gamma_l_down=0.2,
                  gamma_r_up=0.25, gamma_r_down=0.9)
    G = conductances(model, steps(model, theta, 0.0))  # (theta, spin, lead)
    expected = (G[..., 0].sum(-1) * 0.07**2 + G[..., 1].sum(-1) * 0.02**2) / G.sum((-1, -2))
    np.testing.assert_allclose(hot_electrons(model, theta, 0.0).T_dot ** 2, expected,
                               rtol=1e-14)


@pytest.mark.parametrize(("gamma_l", "gamma_r", "fano"), [
    (0.4, 0.4, 0.583268144677558), (0.3, 0.5, 0.605814157374355)])
def test_double_barrier_at_zero_temperature(gamma_l, gamma_r, fano):
    V = 0.7
    model = Model(T=0.0, mu_l=V, gamma_l_up=gamma_l, gamma_l_down=gamma_l, gamma_r_up=gamma_r,
                  gamma_r_down=gamma_r)
    p_l = gamma_l / (gamma_l + gamma_r)
    p_r = 1 - p_l
    result = hot_electrons(model, 0.0, -1.0)
    assert result.T_dot == pytest.approx(np.sqrt(3) * V * np.sqrt(p_l * p_r) / np.pi, rel=1e-14)
    y = np.pi / (2 * np.sqrt(3) * np.sqrt(p_l * p_r))
    closed = (p_r * np.log(2 * np.cosh(p_r * y)) + p_l * np.log(2 * np.cosh(p_l * y))) / y
    current = 2 * p_l * gamma_r * V  # (rho_up + rho_down) Gamma_l Gamma_r / (Gamma_l + Gamma_r) V
    assert result.S_hot / (2 * current) == pytest.approx(closed, rel=1e-13)
    assert closed == pytest.approx(fano, rel=1e-13)


def test_precession_at_zero_temperature():
    theta, phidot = np.array([1.1, 0.4, 2.7]), -1.0
    result = hot_electrons(Model(T=0.0), theta, phidot)
    t_d = np.sqrt(3) * np.abs(phidot * np.sin(theta)) / (2 * np.pi)
    np.testing.assert_allclose(result.T_dot, t_d, rtol=1e-14)
    c2, s2 = np.cos(theta / 2) ** 2, np.sin(theta / 2) ** 2
    w_minus, w_plus = phidot * s2, phidot * c2
    expected = 4 * G_DEFAULT * t_d * (c2 * np.log(2 * np.cosh(w_minus / (2 * t_d)))
                                      + s2 * np.log(2 * np.cosh(w_plus / (2 * t_d))))
    np.testing.assert_allclose(result.S_hot, expected, rtol=1e-13)
    assert result.S_hot[0] == pytest.approx(0.379093942208945, rel=1e-12)


def test_heating_can_lower_the_noise():
    model = Model(T=0.0, mu_r=0.45, rho_up=1.0, rho_down=0.5, gamma_l_up=0.9, gamma_l_down=0.6,
                  gamma_r_up=0.07, gamma_r_down=0.25)
    assert hot_electrons(model, 1.0, -1.0).S_hot == pytest.approx(0.169621648320660, rel=1e-12)
    assert noise(model, 1.0, -1.0).S == pytest.approx(0.175374380087685, rel=1e-12)


def test_reference_point():
    result = hot_electrons(REFERENCE, 1.5, REFERENCE.omega_d)
    assert result.T_dot == pytest.approx(0.3086784149428965, rel=1e-14)
    assert result.S_hot == pytest.approx(0.511629892686733, rel=1e-10)
    assert noise(REFERENCE, 1.5, REFERENCE.omega_d).S == pytest.approx(0.4688359969457623,
                                                                        rel=1e-12)


def test_zero_temperature_without_heating_is_exactly_cold():
    theta = np.array([0.0, 0.0, 1.0])
    phidot = np.array([-1.0, 0.0, 0.0])
    result = hot_electrons(Model(T=0.0), theta, phidot)
    np.testing.assert_array_equal(result.T_dot, 0.0)
    np.testing.assert_array_equal(result.S_hot, 0.0)


# --- gauge, limits, direct quadrature -------------------------------------------------------------

def test_shifting_the_steps_changes_nothing():
    theta, phidot = 1.5, REFERENCE.omega_d
    expected = direct(REFERENCE, theta, phidot)
    for shift in ((0.37, 0.0), (0.0, -1.3), (2.1, 0.6)):  # per spin, in the §12 formulas
        assert direct(REFERENCE, theta, phidot, shift) == pytest.approx(expected, rel=1e-11)
    result = hot_electrons(REFERENCE, theta, phidot)
    assert (result.T_dot, result.S_hot) == pytest.approx(expected, rel=1e-11)
    # the code sees only separations: a common shift of the lead potentials (every step)
    shifted = hot_electrons(REFERENCE.replace(mu_l=-0.2 + 3.0, mu_r=3.0), theta, phidot)
    assert shifted.T_dot == pytest.approx(result.T_dot, rel=1e-14)
    assert shifted.S_hot == pytest.approx(result.S_hot, rel=1e-14)


@pytest.mark.parametrize("T", [0.02, 0.3])
def test_vanishing_drive_and_bias_give_the_noise_without_relaxation(T):
    model = Model(T=T, gamma_l_up=0.9, gamma_l_down=0.3)  # magnetic left lead
    for eps in (1e-2, 1e-4, 1e-6):
        biased = model.replace(mu_l=eps)
        hot, plain = hot_electrons(biased, 1.2, eps), noise(biased, 1.2, eps)
        assert abs(hot.T_dot - T) <= 0.2 * eps**2 / T
        assert abs(hot.S_hot - plain.S) <= 0.2 * eps**2 / T * plain.S_eq
        assert abs(hot.excess_noise_hot - plain.excess_noise) <= 0.2 * eps**2 / T * plain.S_eq


def test_a_tiny_excess_keeps_its_relative_accuracy():
    # excess ~ eps² down to 1e-15 S: no cancellation against S_eq (noise.py's 4T + E), and the
    # quadrature's error vanishes with T_d - T
    model = Model(T=0.1, gamma_l_up=0.9, gamma_l_down=0.3)
    ratios = [hot_electrons(model.replace(mu_l=eps), 1.2, eps).excess_noise_hot / eps**2
              for eps in (1e-5, 1e-6, 1e-7, 1e-8)]
    np.testing.assert_allclose(ratios, ratios[0], rtol=1e-9)


widths = st.floats(0.05, 2.0)
temperatures = st.one_of(st.just(0.0), st.floats(1e-3, 1.0))


@st.composite
def models(draw):
    return Model(T=draw(temperatures), T_r=draw(st.one_of(st.none(), temperatures)),
                 mu_l=draw(st.floats(-1, 1)), mu_r=draw(st.floats(-1, 1)),
                 rho_up=draw(st.floats(0.1, 3.0)), rho_down=draw(st.floats(0.1, 3.0)),
                 gamma_l_up=draw(widths), gamma_l_down=draw(widths),
                 gamma_r_up=draw(widths), gamma_r_down=draw(widths))


@settings(deadline=None, max_examples=100)
@given(model=models(), theta=st.floats(0.0, np.pi), phidot=st.floats(-3.0, 3.0))
def test_matches_direct_quadrature_of_the_formulas(model, theta, phidot):
    t_d, S = direct(model, theta, phidot)
    result = hot_electrons(model, theta, phidot)
    assert result.T_dot == pytest.approx(t_d, rel=1e-13, abs=1e-15)  # rounding of mu_sigma
    assert result.S_hot == pytest.approx(S, rel=1e-10)
    S_eq = noise(model, theta, phidot).S_eq
    assert result.excess_noise_hot == pytest.approx(result.S_hot - S_eq, rel=1e-12,
                                                    abs=1e-15 * S_eq)


# --- the kernel between two temperatures ---------------------------------------------------------

def mp_kernel(x: float, T1: float, T2: float) -> float:
    """∫[1 - tanh((eps - x)/2T1) tanh(eps/2T2)] d eps at 30 digits, split at the steps."""
    with mp.workdps(30):
        x, t1, t2 = mp.mpf(x), mp.mpf(T1), mp.mpf(T2)
        lo, hi = min(x, 0), max(x, 0)
        t = max(t1, t2)
        points = [lo - 90 * t, lo - 10 * t, lo, hi, hi + 10 * t, hi + 90 * t]
        return float(mp.quad(lambda e: 1 - mp.tanh((e - x) / (2 * t1)) * mp.tanh(e / (2 * t2)),
                             sorted(set(points))))


@pytest.mark.parametrize(("x", "T1", "T2"), [
    (0.0, 0.1, 0.3), (0.5, 0.1, 0.2), (-1.1, 1.3, 0.4), (0.3, 0.01, 1.0), (3.0, 0.1, 0.105),
    (1e-3, 0.5, 0.05), (2.4, 0.3086784149428965, 0.02), (-0.05, 0.2, 0.2000001), (30.0, 0.3, 1.0),
])
def test_mixed_excess_kernel_matches_mpmath(x, T1, T2):
    expected = mp_kernel(x, T1, T2)
    assert mixed_excess_kernel(x, T1, T2) + 2 * (T1 + T2) == pytest.approx(expected, rel=3e-12)


def test_mixed_excess_kernel_matches_the_fine_rule_and_closed_forms():
    rng = np.random.default_rng(7)
    n = 40000
    t1 = 10 ** rng.uniform(-3, 1, n)
    t2 = t1 * np.concatenate([rng.uniform(0, 1, n // 2), 1 - 10 ** rng.uniform(-12, 0, n // 2)])
    x = t1 * rng.choice([-1, 1], n) * np.concatenate([10 ** rng.uniform(-8, 3, n // 2),
                                                      rng.uniform(0, 40, n // 2)])
    value = mixed_excess_kernel(x, t1, t2) + 2 * (t1 + t2)
    np.testing.assert_allclose(value, mixed_kernel(x, t1, t2), rtol=3e-12)
    # kernels sharing their temperatures along the last axis (one set of cosh r u_j per row)
    rows = mixed_excess_kernel(x.reshape(-1, 4), t1[::4, np.newaxis], t2[::4, np.newaxis])
    np.testing.assert_array_equal(rows, mixed_excess_kernel(x.reshape(-1, 4),
                                                            np.repeat(t1[::4], 4).reshape(-1, 4),
                                                            t2[::4, np.newaxis]))
    x = np.array([0.0, 0.3, -2.0])
    np.testing.assert_array_equal(mixed_excess_kernel(x, 0.2, 0.2), excess_kernel(x, 0.2))
    np.testing.assert_allclose(mixed_excess_kernel(x, 0.0, 0.2),
                               4 * 0.2 * np.log(2 * np.cosh(x / 0.4)) - 0.4, rtol=1e-15)
    np.testing.assert_array_equal(mixed_excess_kernel(x, 0.0, 0.0), 2 * np.abs(x))


# --- shapes and empty slots ----------------------------------------------------------------------

def test_broadcasting_and_empty_branch_slots():
    model = Model(T=np.array([0.0, 0.05, 0.1]), mu_l=0.2, gamma_l_up=0.9).per_branch()
    theta = np.array([[0.4, np.nan], [1.0, 2.0], [np.nan, np.nan]])
    result = hot_electrons(model, theta, -1.0)
    assert isinstance(result, HotElectrons)
    for values in (result.T_dot, result.S_hot, result.excess_noise_hot):
        assert values.shape == (3, 2)
        np.testing.assert_array_equal(np.isnan(values), np.isnan(theta))
    single = hot_electrons(Model(T=0.05, mu_l=0.2, gamma_l_up=0.9), 2.0, -1.0)
    assert np.ndim(single.S_hot) == 0
    assert single.S_hot == result.S_hot[1, 1]


@pytest.mark.filterwarnings("error")
def test_extreme_inputs_are_finite():
    theta = np.array([0.0, 1e-8, 1.0, np.pi - 1e-8, np.pi]).reshape(5, 1, 1, 1)
    width = np.array([1e-6, 1.0, 1e3])
    temps = np.array([0.0, 1e-12, 0.1, 1e3]).reshape(4, 1, 1)
    for T_r in (None, 0.05, 1e-12, 0.0):
        model = Model(T=temps, T_r=T_r, gamma_l_up=width, gamma_l_down=width[::-1],
                      gamma_r_up=width[:, np.newaxis], gamma_r_down=0.5, mu_l=0.3)
        for phidot in (0.0, 1e-12, -2.0, 1e6):
            result = hot_electrons(model, theta, phidot)
            assert np.all(np.isfinite(result.T_dot)) and np.all(result.T_dot >= 0)
            assert np.all(np.isfinite(result.S_hot)) and np.all(result.S_hot >= 0)
            S_eq = noise(model, theta, phidot).S_eq
            assert np.all(np.abs(result.S_hot - S_eq - result.excess_noise_hot)
                          <= 1e-15 * result.S_hot)

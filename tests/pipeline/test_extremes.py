"""Extreme parameters (issue 6, item 5): finite, warning-free, and right in the limits.

T = 0, T down to 1e-12 and up to 1e12, |omega_d|/T up to 1e12, Omega = 0 (and 1e-300), alpha0 = 0,
exact resonance b = 0, omega_d = 0, theta at the poles, tunnel widths from 1e-6 to 1e3 and
strongly unequal leads, through steady_states -> dot_voltage -> noise and through the pipeline's
chunk functions (fmrnoise.pipeline.stages). Every warning is an error here. The values are checked
against the asymptotic forms of docs/theory.md §6 and against 50-digit references.
"""

from __future__ import annotations

import itertools

import mpmath as mp
import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from fmrnoise import Model, dot_voltage, noise, steady_states
from fmrnoise.physics.kernels import excess_kernel, kernel, mixed_kernel
from fmrnoise.physics.noise import normal_leads_noise
from fmrnoise.physics.steady_state import EMPTY, RESIDUAL_ABOVE_TOLERANCE
from fmrnoise.pipeline.stages import distribution as distribution_stage
from fmrnoise.pipeline.stages import dot_voltage as dot_voltage_stage
from fmrnoise.pipeline.stages import noise as noise_stage
from fmrnoise.pipeline.stages import steady_state as steady_state_stage

pytestmark = pytest.mark.filterwarnings("error")

WIDTHS = (1e-6, 1.0, 1e3)


def grid(**axes: list[float]) -> dict[str, np.ndarray]:
    """Every combination of the given values, as flat arrays."""
    mesh = np.meshgrid(*(np.asarray(v, dtype=float) for v in axes.values()), indexing="ij")
    return {name: m.ravel() for name, m in zip(axes, mesh, strict=True)}


EXTREME = grid(omega_d=[-1.0, 0.0, -3.0, 2.0, -1e-12, -0.9],  # b = 0, omega_d = 0, ...
               Omega=[0.0, 1e-300, 1e-140, 1e-8, 0.05, 10.0],  # 0.05 = |kappa| at b = 0
               alpha0=[0.0, 0.05, 1.0],
               gamma_l_up=list(WIDTHS), gamma_l_down=[1e-6, 1e3], gamma_r_up=[1e-6, 1e3],
               mu_l=[0.0, 0.3])
TEMPERATURES = [(0.0, None), (1e-12, None), (0.1, None), (1e12, None), (0.1, 1e-12),
                (1e-12, 1e3), (0.0, 0.2)]


def assert_finite_in_filled_slots(arrays: dict[str, np.ndarray], filled: np.ndarray) -> None:
    """Float variables: finite in filled branch slots, NaN in empty ones; per-point: finite."""
    for name, values in arrays.items():
        if values.dtype.kind != "f":
            continue
        if values.shape[:filled.ndim] == filled.shape:
            mask = np.broadcast_to(filled.reshape(filled.shape + (1,) * (values.ndim
                                                                          - filled.ndim)),
                                   values.shape)
            assert np.all(np.isfinite(values[mask])), name
            assert np.all(np.isnan(values[~mask])), name
        else:
            assert np.all(np.isfinite(values)), name


# --- the pipeline's chunk functions over extreme grids -------------------------------------------


@pytest.mark.slow  # every stage's chunk, C3 by quadrature with thermal bias: ~8 s each
@pytest.mark.parametrize("lead_damping", [False, True], ids=["constant_kappa", "lead_damping"])
def test_pipeline_chunks_stay_finite_at_extreme_parameters(lead_damping):
    model = Model(**EXTREME, lead_damping=lead_damping, total_spin=20.0)
    steady = steady_state_stage.compute(model, {}, 4, {})
    filled = steady["stability"] != EMPTY
    assert np.all(steady["n_states"] >= 1)  # every point has a stationary state
    assert not np.any(steady["status"] & RESIDUAL_ABOVE_TOLERANCE)
    assert_finite_in_filled_slots(steady, filled)
    theta = steady["theta"][filled]
    assert np.all((theta >= 0) & (theta <= np.pi))
    assert np.all(np.abs(steady["psi"][filled]) <= np.pi)

    dist = distribution_stage.compute(model, steady, 4, {})
    assert_finite_in_filled_slots(dist, filled)
    assert_allclose(np.sum(dist["step_weight"], axis=-1)[filled], 1.0, rtol=1e-15)
    volt = dot_voltage_stage.compute(model, steady, 4, {})
    assert_finite_in_filled_slots(volt, filled)
    assert np.all(volt["stationarity_residual"][filled] <= 1e-12)

    for T, T_r in TEMPERATURES:
        result = noise_stage.compute(model.replace(T=T, T_r=T_r), steady, 4,
                                    {"quadrature": T_r is not None})
        assert_finite_in_filled_slots(result, filled)
        S, S_r = result["S"][filled], result["S_r"][filled]
        assert np.all(S >= 0)
        # the two junction formulas agree to round-off even at width ratios of 1e9
        assert_allclose(S_r, S, rtol=2e-15, atol=1e-300)
        if T_r is None:
            assert np.all(result["excess_noise"][filled] >= 0)
        else:
            assert_allclose(result["S_quadrature"][filled], S, rtol=2e-14)


def test_kirchhoff_holds_with_extreme_widths_and_poles():
    width = np.array(WIDTHS)
    model = Model(gamma_l_up=width[:, None, None, None], gamma_l_down=width[None, :, None, None],
                  gamma_r_up=width[None, None, :, None], gamma_r_down=width[None, None, None, :],
                  mu_l=0.3, mu_r=-0.2)
    theta = np.array([0.0, 1e-12, 1.0, np.pi - 1e-12, np.pi])[:, None, None, None, None]
    for phidot in (0.0, 1e-12, -2.0, 1e12):
        result = dot_voltage(model, theta, phidot)
        for name in ("V_d_spin", "V_d", "current", "current_left", "current_right",
                     "spin_current", "conductance"):
            assert np.all(np.isfinite(getattr(result, name))), name
        scale = (0.5 + abs(phidot)) * (np.asarray(model.gamma_l_up) + model.gamma_l_down
                                       + model.gamma_r_up + model.gamma_r_down) * 2.0
        assert np.all(np.abs(result.kirchhoff_residual) <= 1e-13 * scale)


# --- steady states -------------------------------------------------------------------------------


def test_lead_damping_finds_near_pole_states_where_kappa_is_steep():
    # kappa drops from -18.8 at the pole to -1e-7 across the sphere: the near-pole roots sit at
    # |x| = cot(theta) ~ |kappa(0)|/Omega, beyond the range the theta grid alone suggests.
    model = Model(omega_d=-1.0, Omega=1e-8, alpha0=0.0, gamma_l_up=1e-6, gamma_l_down=1e3,
                  gamma_r_up=1e-6, lead_damping=True, total_spin=20.0)
    s = steady_states(model)
    assert s.n_states == 2 and s.n_stable == 1
    theta = s.theta[:2]
    kap = np.array([-18.759375, -6.253125])  # kappa at the poles (b = 0: sin(theta)|kappa| = Omega)
    assert_allclose([theta[0], np.pi - theta[1]], 1e-8 / np.abs(kap), rtol=1e-6)


@pytest.mark.parametrize("law_free_case", [
    {"Omega": 0.0, "omega_d": -1.0},  # b = 0 and Omega = 0: only the poles
    {"Omega": 0.0, "alpha0": 0.0},  # no drive, no damping
    {"Omega": 1e-300},  # below the drive floor: the poles
    {"Omega": 1e-140, "omega_d": -0.5},  # x = cot(theta) ~ 1e140
    {"B0": 0.0, "omega_d": 0.0},  # b = 0, kappa = 0: the equator pair psi = 0, pi
    {"omega_d": 0.0},  # static drive field
    {"Omega": 0.05},  # b = 0, Omega = |kappa|: merged equator states
    {"omega_d": -1.0 - 1e-300},  # |b| far below Omega: still resolved
])
@pytest.mark.parametrize("lead_damping", [False, True])
def test_steady_states_are_finite_at_the_corners(law_free_case, lead_damping):
    s = steady_states(Model(**law_free_case, lead_damping=lead_damping, total_spin=20.0))
    filled = s.stability != EMPTY
    assert s.n_states >= 1
    for name in ("theta", "psi", "trace", "det", "alpha", "spin_current", "residual"):
        values = getattr(s, name)
        assert np.all(np.isfinite(values[filled])) and np.all(np.isnan(values[~filled])), name
    assert np.all(s.residual[filled] <= 1e-14)


# --- noise: asymptotic forms of docs/theory.md §6 -----------------------------------------------

NORMAL_WIDTHS = list(itertools.product(WIDTHS, WIDTHS))


def conductance(gamma_l: float, gamma_r: float) -> float:
    return (1.5 + 0.5) * gamma_l * gamma_r / (gamma_l + gamma_r)


@pytest.mark.parametrize(("gamma_l", "gamma_r"), NORMAL_WIDTHS)
@pytest.mark.parametrize("T", [0.0, 1e-12])
def test_cold_leads_give_precession_shot_noise_through_the_chain(gamma_l, gamma_r, T):
    # |omega_d|/T up to 1e12; exact resonance, strong and weak drive, counter-rotating drive
    model = Model(omega_d=np.array([-1.0, -0.9, -3.0, 2.0, -1.0 - 1e-9])[:, None],
                  Omega=np.array([1e-6, 0.02, 0.07, 3.0]), T=T, gamma_l_up=gamma_l,
                  gamma_l_down=gamma_l, gamma_r_up=gamma_r, gamma_r_down=gamma_r)
    s = steady_states(model)
    theta = s.stable_theta
    assert np.all(np.isfinite(theta))
    result = noise(model, theta, model.omega_d)
    G = conductance(gamma_l, gamma_r)
    sin2 = np.sin(theta) ** 2
    expected = G * sin2 * np.abs(model.omega_d) + 4 * G * T * (1 - sin2 / 2)
    assert_allclose(result.S, expected, rtol=4e-15)
    assert_allclose(result.S_r, expected, rtol=4e-15)
    assert_allclose(result.excess_noise, G * sin2 * (np.abs(model.omega_d) - 2 * T),
                    rtol=4e-15)


@pytest.mark.parametrize("T", [1e3, 1e6, 1e12])
@pytest.mark.parametrize(("gamma_l", "gamma_r"), [(0.3, 0.5), (1e-6, 1e3)])
def test_hot_leads_give_quadratic_excess_to_full_precision(T, gamma_l, gamma_r):
    theta = np.array([1e-8, 0.3, np.pi / 2, 2.5])[:, None]
    phidot = np.array([-1.0, 1e-6, 2.0])
    model = Model(T=T, gamma_l_up=gamma_l, gamma_l_down=gamma_l, gamma_r_up=gamma_r,
                  gamma_r_down=gamma_r)
    result = noise(model, theta, phidot)
    G = conductance(gamma_l, gamma_r)
    # S - 4GT = G sin^2(theta) 2T (z coth z - 1), z = phidot/2T: the series of z coth z - 1
    z2 = (phidot / (2 * T)) ** 2
    expected = G * np.sin(theta) ** 2 * 2 * T * z2 * (1 / 3 - z2 / 45 + 2 * z2**2 / 945
                                                      - z2**3 / 4725)
    assert_allclose(result.excess_noise, expected, rtol=4e-15)
    assert_allclose(result.S, 4 * G * T + expected, rtol=4e-16)


@pytest.mark.parametrize("params", [
    {"T": 0.1},
    {"T": 1e-12, "gamma_l_up": 1e-6, "gamma_l_down": 1e3, "gamma_r_up": 1e3},
    {"T": 1e12, "gamma_l_up": 0.9, "gamma_l_down": 0.3, "gamma_r_up": 0.6, "gamma_r_down": 0.6},
])
def test_slow_precession_gives_equilibrium_noise_through_the_chain(params):
    # omega_d = 0: the magnet barely tilts and does not precess; and phidot -> 0 at fixed theta
    model = Model(omega_d=0.0, Omega=np.array([0.0, 0.02, 1.0, 1e3]), **params)
    s = steady_states(model)
    result = noise(model, s.stable_theta, 0.0)
    assert_array_equal(result.excess_noise, 0.0)
    assert_array_equal(result.S, result.S_eq)
    theta = np.array([0.0, 0.4, np.pi / 2, np.pi])[:, None]
    for phidot in (1e-300, 1e-9 * params["T"], -1e-8 * params["T"]):  # |phidot| << T
        slow = noise(Model(**params), theta, phidot)
        assert np.all(slow.excess_noise >= 0)
        assert_allclose(slow.S, slow.S_eq, rtol=1e-15)


@pytest.mark.parametrize("T", [0.0, 1e-12])
def test_biased_cold_junction_gives_the_shot_noise_fano_factor(T):
    gamma_l, gamma_r = 1e-6, 1e3
    V = np.array([1e-9, 0.3, -2.0])
    model = Model(T=T, mu_l=V / 2, mu_r=-V / 2, gamma_l_up=gamma_l, gamma_l_down=gamma_l,
                  gamma_r_up=gamma_r, gamma_r_down=gamma_r)
    result = noise(model, np.array([0.0, np.pi])[:, None], 0.0)  # at a pole: no precession
    G = conductance(gamma_l, gamma_r)
    fano = (gamma_l**2 + gamma_r**2) / (gamma_l + gamma_r) ** 2
    current = dot_voltage(model, 0.0, 0.0).current
    assert_allclose(current, G * V, rtol=1e-14)
    expected = fano * 2 * G * np.abs(V) + 8 * G * T * gamma_l * gamma_r / (gamma_l + gamma_r) ** 2
    assert_allclose(result.S, np.broadcast_to(expected, result.S.shape), rtol=1e-14)


def test_noise_at_the_poles_is_the_equilibrium_noise():
    phidot = np.array([-1e12, -1.0, 0.0, 1e-12])
    for T in (0.0, 1e-12, 0.1, 1e12):
        model = Model(T=T, mu_l=0.0)
        at_north = noise(model, 0.0, phidot)
        assert_array_equal(at_north.excess_noise, 0.0)
        assert_array_equal(at_north.S, at_north.S_eq)
        # the float nearest pi has sin^2 = 1.5e-32: the excess is that of the closed form
        at_south = noise(model, np.pi, phidot)
        G = conductance(0.3, 0.5)
        assert_allclose(at_south.excess_noise,
                        G * np.sin(np.pi) ** 2 * excess_kernel(phidot, T) / 2, rtol=1e-15)
        assert np.all(at_south.excess_noise <= 1e-31 * np.maximum(np.abs(phidot), T))


# --- noise: strongly unequal leads against 50-digit references -----------------------------------


def mp_noise(params: dict, theta: float, phidot: float, dps: int = 50) -> float:
    """S = sum_sigma G_l G_r [G_r J(d,l) + G_l J(d,r)] / G_Sigma², J(A, B) = sum_ij p_i q_j
    K(a_i - b_j), from the step table of docs/theory.md §4 and K_T(x) = 2x coth(x/2T), at ``dps``
    digits (equal lead temperatures)."""
    with mp.workdps(dps):
        th, ph, T = mp.mpf(theta), mp.mpf(phidot), mp.mpf(params["T"])
        c2, s2 = mp.cos(th / 2) ** 2, mp.sin(th / 2) ** 2
        mu = {"l": mp.mpf(params.get("mu_l", 0.0)), "r": mp.mpf(params.get("mu_r", 0.0))}
        gam = {(x, s): mp.mpf(params[f"gamma_{x}_{'up' if s > 0 else 'down'}"])
               for x in "lr" for s in (1, -1)}
        rho = {1: mp.mpf(1.5), -1: mp.mpf(0.5)}

        def K(x):
            if T == 0:
                return 2 * abs(x)
            return 4 * T if x == 0 else 2 * x * mp.coth(x / (2 * T))

        total = mp.mpf(0)
        for s in (1, -1):
            eff = {x: c2 * gam[x, s] + s2 * gam[x, -s] for x in "lr"}
            lead = {x: [(mu[x] - s * ph * s2, c2 * gam[x, s] / eff[x]),
                        (mu[x] + s * ph * c2, s2 * gam[x, -s] / eff[x])] for x in "lr"}
            dot = [(a, w * eff[x] / (eff["l"] + eff["r"])) for x in "lr" for a, w in lead[x]]
            J = {x: sum(p * q * K(a - b) for a, p in dot for b, q in lead[x]) for x in "lr"}
            g = {x: rho[s] * eff[x] for x in "lr"}
            total += g["l"] * g["r"] * (g["r"] * J["l"] + g["l"] * J["r"]) / (g["l"] + g["r"]) ** 2
        return float(total)


@pytest.mark.parametrize("widths", [
    (1e-6, 1e3, 1e3, 1e-6), (1e3, 1e3, 1e-6, 1e-6), (1e-6, 1e-6, 1e3, 1.0), (1.0, 1e-6, 1e3, 1e3),
])
@pytest.mark.parametrize("theta", [1e-8, 1.0, np.pi - 1e-8])
def test_strongly_unequal_leads_match_50_digits(widths, theta):
    params = dict(zip(("gamma_l_up", "gamma_l_down", "gamma_r_up", "gamma_r_down"), widths,
                      strict=True))
    for T in (0.0, 1e-12, 0.1):
        model = Model(T=T, mu_l=0.3, **params)
        expected = mp_noise({"T": T, "mu_l": 0.3, **params}, theta, -2.0)
        result = noise(model, theta, -2.0, quadrature=T > 0)
        # the textbook junction formulas lose eps max(G_l/G_r, G_r/G_l) ~ 1e-7 here
        assert result.S == pytest.approx(expected, rel=2e-15)
        assert result.S_r == pytest.approx(expected, rel=2e-15)
        if T > 0:
            assert result.S_quadrature == pytest.approx(expected, rel=1e-14)


@pytest.mark.parametrize(("gamma_l", "gamma_r"), NORMAL_WIDTHS)
def test_unequal_normal_leads_match_the_closed_form(gamma_l, gamma_r):
    theta = np.array([0.0, 1e-8, 0.7, np.pi / 2, np.pi])[:, None, None]
    phidot = np.array([-1e12, -1.0, 0.0, 1e-12])[:, None]
    model = Model(T=np.array([0.0, 1e-12, 0.1, 1e3]), mu_l=0.2, mu_r=-0.1,
                  gamma_l_up=gamma_l, gamma_l_down=gamma_l, gamma_r_up=gamma_r,
                  gamma_r_down=gamma_r)
    result = noise(model, theta, phidot)
    assert_allclose(result.S, normal_leads_noise(model, theta, phidot), rtol=1e-14)
    assert_allclose(result.S_r, result.S, rtol=2e-15)


# --- kernels -------------------------------------------------------------------------------------


def test_kernel_limits_at_extreme_ratios():
    T = np.array([0.0, 1e-300, 1e-12, 1.0, 1e12])
    x = np.array([0.0, 1e-300, 1e-12, 1.0, 1e12])[:, None]
    K, E = kernel(x, T), excess_kernel(x, T)
    assert np.all(np.isfinite(K)) and np.all(np.isfinite(E)) and np.all(E >= 0)
    assert_array_equal(kernel(0.0, T), 4 * T)  # K_T(0) = 4T
    assert_array_equal(excess_kernel(0.0, T), 0.0)
    assert_array_equal(kernel(x, 0.0), 2 * np.abs(x))  # K_0 = 2|x|
    assert kernel(1.0, 1e-12) == 2.0 and excess_kernel(1.0, 1e-12) == 2.0 - 4e-12  # x/T = 1e12
    assert kernel(1e12, 1.0) == 2e12
    # x << T: K = 4T [1 + (x/2T)²/3], E = x²/3T [1 - (x/2T)²/15]
    assert excess_kernel(1e-12, 1.0) == pytest.approx(1e-24 / 3, rel=1e-15)
    assert excess_kernel(1.0, 1e12) == pytest.approx(1 / 3e12, rel=1e-15)
    assert kernel(1e-6, 1.0) == pytest.approx(4 * (1 + 0.25e-12 / 3), rel=1e-16)
    assert_allclose(K, 4 * T + E, rtol=1e-15)
    # mixed temperatures 15 orders of magnitude apart, and one cold lead
    value = mixed_kernel(np.array([0.0, 1e-12, 1.0]), 1e-12, 1e3)
    assert np.all(np.isfinite(value))
    assert_allclose(value, mixed_kernel(np.array([0.0, 1e-12, 1.0]), 0.0, 1e3), rtol=1e-12)

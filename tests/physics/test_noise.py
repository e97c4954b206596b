"""Zero-frequency noise against docs/theory.md §6, §8 (R2-R5, R7, FMR line) and mpmath."""

import mpmath as mp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import brentq

from fmrnoise import Model, dot_voltage
from fmrnoise.physics.noise import (
    noise,
    normal_leads_noise,
    normal_noise_biased,
    normal_noise_unbiased,
)
from fmrnoise.physics.steady_state import steady_states

NORMAL = {"gamma_l_up": 0.3, "gamma_l_down": 0.3, "gamma_r_up": 0.5, "gamma_r_down": 0.5}
MAGNETIC = {"gamma_l_up": 0.9, "gamma_l_down": 0.3, "gamma_r_up": 0.6, "gamma_r_down": 0.6}
G_R2 = 0.375  # (1.5 + 0.5) 0.3 0.5 / 0.8
FMR = Model(B0=1.0, Omega=0.02, alpha0=0.05, T=0.1, **NORMAL)


def mp_noise(model: Model, theta: float, phidot: float, dps: int = 30) -> float:
    """S = sum_sigma G_l G_r [G_r J(d,l) + G_l J(d,r)] / G_Sigma² with J = ∫[1 - F_d F_x],
    the distributions built from the table of docs/theory.md §4 and integrated by mpmath.quad."""
    with mp.workdps(dps):
        theta, phidot = mp.mpf(theta), mp.mpf(phidot)
        c2, s2 = mp.cos(theta / 2) ** 2, mp.sin(theta / 2) ** 2
        w_minus, w_plus = phidot * s2, phidot * c2
        temps = {"l": mp.mpf(float(model.T)), "r": mp.mpf(float(model.T_right))}
        mus = {"l": mp.mpf(float(model.mu_l)), "r": mp.mpf(float(model.mu_r))}
        widths = {("l", 1): model.gamma_l_up, ("l", -1): model.gamma_l_down,
                  ("r", 1): model.gamma_r_up, ("r", -1): model.gamma_r_down}
        rhos = {1: model.rho_up, -1: model.rho_down}

        def fermi(e, t):
            return mp.tanh(e / (2 * t)) if t > 0 else mp.sign(e)

        total = mp.mpf(0)
        for sigma in (1, -1):
            lead_steps, eff = {}, {}
            for x in ("l", "r"):
                same = c2 * mp.mpf(float(widths[x, sigma]))
                opposite = s2 * mp.mpf(float(widths[x, -sigma]))
                eff[x] = same + opposite
                lead_steps[x] = [(mus[x] - sigma * w_minus, same / eff[x], temps[x]),
                                 (mus[x] + sigma * w_plus, opposite / eff[x], temps[x])]

            def dist(e, x, lead_steps=lead_steps):
                return sum(w * fermi(e - a, t) for a, w, t in lead_steps[x])

            g = {x: mp.mpf(float(rhos[sigma])) * eff[x] for x in ("l", "r")}
            g_sum = g["l"] + g["r"]

            def dot(e, g=g, g_sum=g_sum, dist=dist):
                return (g["l"] * dist(e, "l") + g["r"] * dist(e, "r")) / g_sum

            positions = [a for x in ("l", "r") for a, _, _ in lead_steps[x]]
            lo, hi = min(positions), max(positions)
            points = set(positions)
            for t in temps.values():
                if t > 0:
                    points |= {lo - 90 * t, hi + 90 * t}
                    points |= {a + s * 40 * t for a in positions for s in (-1, 1)}
            points = sorted(points)
            j = {x: mp.quad(lambda e, x=x, dot=dot, dist=dist: 1 - dot(e) * dist(e, x), points)
                 for x in ("l", "r")}
            total += g["l"] * g["r"] * (g["r"] * j["l"] + g["l"] * j["r"]) / g_sum**2
        return float(total)


@pytest.mark.parametrize(("T", "theta", "phidot", "S"), [
    (0.1, 0.4, -1.0, 0.195499157392646006),
    (0.01, 1.2, 0.7, 0.236517698731508801),
    (1.0, 0.8, 0.3, 1.50289029100424827),
    (0.25, np.pi / 2, 2.0, 0.938003362801261867),
    (0.05, 0.0, 1.0, 0.075),
    (0.2, 2.5, -0.6, 0.335307597256156653),
])
def test_normal_leads_at_zero_bias_r2(T, theta, phidot, S):
    model = Model(T=T, **NORMAL)
    result = noise(model, theta, phidot)
    assert result.S == pytest.approx(S, rel=1e-10)
    assert result.S_r == pytest.approx(S, rel=1e-10)
    assert result.conductance == pytest.approx(G_R2, rel=1e-14)
    assert result.S_eq == pytest.approx(4 * G_R2 * T, rel=1e-14)
    assert result.noise_temperature == pytest.approx(S / (4 * G_R2), rel=1e-10)
    assert normal_noise_unbiased(G_R2, T, theta, phidot) == pytest.approx(S, rel=1e-10)
    assert normal_leads_noise(model, theta, phidot) == pytest.approx(S, rel=1e-10)


@pytest.mark.parametrize(("omega_d", "theta", "S"), [
    (-0.5, 0.0399289395514555656, 0.150183319314042202),
    (-1.0, 0.411516846067488019, 0.198005448238921163),
    (-1.5, 0.039537519356971973, 0.150761671054024734),
    (1.0, 0.00999654377492122254, 0.150029981670310847),
])
def test_full_chain_r3(omega_d, theta, S):
    model = FMR.replace(omega_d=omega_d)
    result = noise(model, theta, omega_d)
    assert result.S == pytest.approx(S, rel=1e-10)
    assert result.S_eq == pytest.approx(0.15, rel=1e-14)
    assert result.excess_noise == pytest.approx(S - 0.15, rel=1e-9)
    # the same through the steady-state solver
    chained = noise(model, steady_states(model).stable_theta, omega_d)
    assert chained.S == pytest.approx(S, rel=1e-10)


@pytest.mark.parametrize(("T", "V", "theta", "phidot", "S", "current"), [
    (0.1, 0.3, 0.9, 0.75, 0.313568812507890662, 0.1125),
    (0.02, 1.0, 1.2, -0.4, 0.467472223282598486, 0.375),
    (0.5, -0.2, 0.3, 2.0, 0.790317760808879385, -0.075),
])
def test_normal_leads_with_bias_r4(T, V, theta, phidot, S, current):
    model = Model(T=T, mu_l=V / 2, mu_r=-V / 2, **NORMAL)
    result = noise(model, theta, phidot)
    assert result.S == pytest.approx(S, rel=1e-10)
    assert result.S_r == pytest.approx(S, rel=1e-10)
    assert normal_noise_biased(G_R2, 0.375, T, V, theta, phidot) == pytest.approx(S, rel=1e-10)
    assert dot_voltage(model, theta, phidot).current == pytest.approx(current, rel=1e-10)


@pytest.mark.parametrize(("T", "mu_l", "mu_r", "theta", "phidot", "S", "current"), [
    (0.07, 0.3, -0.1, 1.1, -0.4, 0.448983615619359586, 0.296197318676358418),
    (0.1, 0.0, 0.0, 0.8, -1.0, 0.479416233783835791, 0.0726723158993884133),
    (0.03, 0.0, 0.0, 2.0, 0.5, 0.285716146244384762, -0.0659512109974021113),
])
def test_magnetic_left_lead_r5(T, mu_l, mu_r, theta, phidot, S, current):
    model = Model(T=T, mu_l=mu_l, mu_r=mu_r, **MAGNETIC)
    result = noise(model, theta, phidot, quadrature=True)
    assert result.S == pytest.approx(S, rel=1e-10)
    assert result.S_r == pytest.approx(S, rel=1e-10)
    assert result.S_quadrature == pytest.approx(S, rel=1e-10)
    assert result.quadrature_error < 1e-12 * S
    assert dot_voltage(model, theta, phidot).current == pytest.approx(current, rel=1e-10)


def test_self_consistent_magnetic_lead_r7():
    model = Model(B0=1.0, omega_d=-1.0, Omega=0.02, alpha0=0.03, total_spin=20.0, T=0.1,
                  mu_l=0.2, mu_r=0.0, lead_damping=True, **MAGNETIC)
    result = noise(model, 0.3541371681005070106, -1.0)
    assert result.S == pytest.approx(0.352516316106454722, rel=1e-10)
    assert result.S_r == pytest.approx(0.352516316106454722, rel=1e-10)


def test_fmr_line_peak():
    def excess(omega_d):
        model = FMR.replace(omega_d=omega_d)
        return noise(model, steady_states(model).stable_theta, omega_d).excess_noise

    assert excess(-0.99921280207) == pytest.approx(0.0480196539, rel=1e-10)
    # the peak: zero of the centred difference quotient
    h = 1e-5
    peak = brentq(lambda w: excess(w + h) - excess(w - h), -0.9995, -0.999, xtol=1e-14)
    assert peak == pytest.approx(-0.99921280207, abs=1e-8)
    half = excess(peak) / 2
    width = (brentq(lambda w: excess(w) - half, peak, -0.8, xtol=1e-14)
             - brentq(lambda w: excess(w) - half, -1.2, peak, xtol=1e-14))
    assert width == pytest.approx(0.0957791, rel=1e-6)


# --- limits ---------------------------------------------------------------------------------

THETAS = np.array([0.0, 0.3, 1.0, np.pi / 2, 2.5, np.pi])


def test_slow_precession_gives_equilibrium_noise():
    model = Model(T=0.1, **NORMAL)
    for phidot in (0.0, 1e-9, -1e-9):
        result = noise(model, THETAS, phidot)
        np.testing.assert_allclose(result.S, result.S_eq, rtol=1e-14)


@pytest.mark.parametrize("T", [0.0, 1e-12])
def test_cold_leads_give_precession_shot_noise(T):
    model = Model(T=T, **NORMAL)
    result = noise(model, THETAS[:, np.newaxis], np.array([-1.3, 0.4]))
    expected = G_R2 * np.sin(THETAS[:, np.newaxis]) ** 2 * np.abs([-1.3, 0.4])
    np.testing.assert_allclose(result.S, expected + 4 * G_R2 * T * (1 - np.sin(
        THETAS[:, np.newaxis]) ** 2 / 2), rtol=1e-10, atol=1e-14)


def test_hot_leads_give_quadratic_excess():
    T, phidot = 300.0, 1.0
    result = noise(Model(T=T, **NORMAL), THETAS[1:-1], phidot)
    expected = G_R2 * np.sin(THETAS[1:-1]) ** 2 * phidot**2 / (6 * T)
    np.testing.assert_allclose(result.S - 4 * G_R2 * T, expected, rtol=1e-6)


# --- thermal bias against mpmath --------------------------------------------------------------

@pytest.mark.parametrize(("params", "theta", "phidot"), [
    ({"T": 0.1, "T_r": 0.3, **NORMAL}, 0.7, -1.0),
    ({"T": 0.05, "T_r": 0.02, "mu_l": 0.3, "mu_r": -0.1, **MAGNETIC}, 1.1, -0.4),
    ({"T": 0.2, "T_r": 0.0, "mu_l": 0.1, **MAGNETIC}, 2.0, 0.5),
    ({"T": 0.0, "T_r": 0.15, **NORMAL}, 0.4, 0.8),
])
def test_thermal_bias_matches_mpmath(params, theta, phidot):
    model = Model(**params)
    expected = mp_noise(model, theta, phidot)
    result = noise(model, theta, phidot, quadrature=True)
    assert result.S == pytest.approx(expected, rel=1e-10)
    assert result.S_r == pytest.approx(expected, rel=1e-10)
    assert result.S_quadrature == pytest.approx(expected, rel=1e-10)
    assert abs(result.S_quadrature - expected) <= result.quadrature_error + 1e-15 * expected
    assert result.S_eq == pytest.approx(2 * result.conductance * (params["T"] + params["T_r"]))


def test_equal_temperatures_match_mpmath():
    model = Model(T=0.07, mu_l=0.3, mu_r=-0.1, **MAGNETIC)
    assert noise(model, 1.1, -0.4).S == pytest.approx(mp_noise(model, 1.1, -0.4), rel=1e-10)


# --- properties --------------------------------------------------------------------------------

widths = st.floats(0.1, 2.0)
temperature = st.floats(1e-3, 2.0)


@st.composite
def models(draw, normal: bool = False, thermal_bias: bool | None = None, bias: bool = True):
    T = draw(temperature)
    hot = draw(st.booleans()) if thermal_bias is None else thermal_bias
    g_l, g_r = draw(widths), draw(widths)
    return Model(
        T=T, T_r=draw(temperature) if hot else None,
        mu_l=draw(st.floats(-1, 1)) if bias else 0.0,
        mu_r=draw(st.floats(-1, 1)) if bias else 0.0,
        rho_up=draw(st.floats(0.1, 3.0)), rho_down=draw(st.floats(0.1, 3.0)),
        gamma_l_up=g_l, gamma_l_down=g_l if normal else draw(widths),
        gamma_r_up=g_r, gamma_r_down=g_r if normal else draw(widths))


angles = st.floats(0.0, np.pi)
rates = st.floats(-3.0, 3.0)


@settings(deadline=None, max_examples=80)
@given(model=models(), theta=angles, phidot=rates)
def test_kernel_sums_match_quadrature_and_junctions_agree(model, theta, phidot):
    result = noise(model, theta, phidot, quadrature=True)
    assert result.S_quadrature == pytest.approx(result.S, rel=1e-9)
    assert result.quadrature_error <= 1e-11 * result.S
    assert result.S_r == pytest.approx(result.S, rel=1e-12)
    assert result.S > 0


@settings(deadline=None, max_examples=80)
@given(model=models(normal=True, thermal_bias=False, bias=False), theta=angles, phidot=rates)
def test_precession_raises_noise_above_equilibrium(model, theta, phidot):
    result = noise(model, theta, phidot)
    assert result.excess_noise >= -1e-14 * result.S_eq
    G = result.conductance
    T = float(model.T)
    if abs(phidot) > 1e-6:  # independent of the kernel module: phidot coth(phidot/2T) by numpy
        expected = 4 * G * T + G * np.sin(theta) ** 2 * (phidot / np.tanh(phidot / (2 * T))
                                                         - 2 * T)
        assert result.S == pytest.approx(expected, rel=1e-12)


@settings(deadline=None, max_examples=80)
@given(model=models(normal=True, thermal_bias=False), theta=angles, phidot=rates)
def test_normal_lead_closed_form_matches_general_path(model, theta, phidot):
    result = noise(model, theta, phidot)
    assert normal_leads_noise(model, theta, phidot) == pytest.approx(result.S, rel=1e-12)
    gamma_l, gamma_r = float(model.gamma_l_up), float(model.gamma_r_up)
    G = (model.rho_up + model.rho_down) * gamma_l * gamma_r / (gamma_l + gamma_r)
    assert result.conductance == pytest.approx(G, rel=1e-13)


# --- extreme inputs, shapes --------------------------------------------------------------------

def test_extreme_inputs_are_finite():
    theta = np.array([0.0, 1e-8, 1.0, np.pi - 1e-8, np.pi]).reshape(5, 1, 1, 1)
    width = np.array([1e-6, 1.0, 1e3])
    temps = np.array([0.0, 1e-12, 0.1, 1e3]).reshape(4, 1, 1)
    for T, T_r in ((temps, None), (temps, 0.05), (temps, 1e-12)):
        model = Model(T=T, T_r=T_r, gamma_l_up=width, gamma_l_down=width[::-1],
                      gamma_r_up=width[:, np.newaxis], gamma_r_down=0.5, mu_l=0.3)
        for phidot in (0.0, 1e-12, -2.0):
            result = noise(model, theta, phidot, quadrature=True)
            for name in ("S", "S_r", "S_eq", "excess_noise", "noise_temperature",
                         "conductance", "S_quadrature", "quadrature_error"):
                assert np.all(np.isfinite(getattr(result, name))), name
            assert np.all(result.S >= 0)
            # the junction formulas, written with multipliers <= 1 (noise.noise, Notes), agree
            # to round-off even where one junction dominates by 1e9 (the textbook form: ~1e-7)
            np.testing.assert_allclose(result.S_r, result.S, rtol=2e-15)
            np.testing.assert_allclose(result.S_quadrature, result.S, rtol=1e-13)


def test_empty_branch_slots_give_nan():
    model = Model(omega_d=np.array([-1.0, -0.5]), T_r=0.2, **MAGNETIC).per_branch()
    theta = np.array([[0.4, np.nan, np.nan], [np.nan, 1.0, 2.0]])
    result = noise(model, theta, model.omega_d, quadrature=True)
    assert result.S.shape == (2, 3)
    for name in ("S", "S_r", "S_eq", "excess_noise", "noise_temperature", "conductance",
                 "S_quadrature", "quadrature_error"):
        values = getattr(result, name)
        np.testing.assert_array_equal(np.isnan(values), np.isnan(theta))
    single = noise(Model(T_r=0.2, **MAGNETIC), 1.0, -0.5)
    assert result.S[1, 1] == pytest.approx(single.S, rel=1e-14)


def test_temperature_axes_broadcast_against_scalar_angles():
    T = np.array([0.1, 0.2])
    result = noise(Model(T=T, T_r=0.3, **MAGNETIC), 0.3, -1.0)
    assert result.S.shape == (2,)
    for i in range(2):
        assert result.S[i] == noise(Model(T=T[i], T_r=0.3, **MAGNETIC), 0.3, -1.0).S

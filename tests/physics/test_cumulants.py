"""Charge cumulants against docs/theory.md §10: the current, the noise, the generating function,
limits, the reference value, quadrature and mpmath."""

import mpmath as mp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fmrnoise import Model, cumulants, dot_voltage, noise, steps
from fmrnoise.physics.cumulants import _state_kernels, _unbiased_kernels
from fmrnoise.physics.transport import conductances

NORMAL = {"gamma_l_up": 0.3, "gamma_l_down": 0.3, "gamma_r_up": 0.5, "gamma_r_down": 0.5}
MAGNETIC = {"gamma_l_up": 0.9, "gamma_l_down": 0.3, "gamma_r_up": 0.6, "gamma_r_down": 0.6}
#: The reference point of §10 (and of §12).
REFERENCE = Model(B0=1.0, omega_d=-1.2, Omega=0.03, T=0.02, mu_l=-0.2, rho_up=1.25,
                  rho_down=0.55, gamma_l_up=0.7, gamma_l_down=0.25, gamma_r_up=0.4,
                  gamma_r_down=0.4)


def scale(model: Model, theta, phidot, *extra: float) -> np.ndarray:
    """G (|V| + |phidot| + max T + extra) with G = sum_sigma G_l G_r / G_Sigma: the size of the
    cumulants, on which the closed forms are accurate to a few ulp; at least 1e-290 (below,
    products underflow)."""
    G = noise(model, theta, phidot).conductance
    T = np.maximum(model.T, model.T_right)
    size = np.abs(np.asarray(model.mu_l) - model.mu_r) + np.abs(phidot) + T + sum(extra)
    return G * size + 1e-290


def mp_spin_steps(model: Model, theta: float, phidot: float, sigma: int):
    """Per lead: [(position, weight), ...], temperature, conductance G_x (mpmath, §4 table)."""
    theta, phidot = mp.mpf(theta), mp.mpf(phidot)
    c2, s2 = mp.cos(theta / 2) ** 2, mp.sin(theta / 2) ** 2
    rho = mp.mpf(float(model.rho_up if sigma > 0 else model.rho_down))
    leads = {}
    for x, mu, temp, (up, down) in (
            ("l", model.mu_l, model.T, (model.gamma_l_up, model.gamma_l_down)),
            ("r", model.mu_r, model.T_right, (model.gamma_r_up, model.gamma_r_down))):
        same = c2 * mp.mpf(float(up if sigma > 0 else down))
        opposite = s2 * mp.mpf(float(down if sigma > 0 else up))
        eff = same + opposite
        mu = mp.mpf(float(mu))
        leads[x] = ([(mu - sigma * phidot * s2, same / eff), (mu + sigma * phidot * c2,
                                                              opposite / eff)],
                    mp.mpf(float(temp)), rho * eff)
    return leads


def mp_spin_integral(leads, integrand) -> mp.mpf:
    """∫ integrand(f_l, f_r, G_l, G_r) d eps over the steps ± 90 max(T), split at the steps and
    10 T (their lead's) around them."""
    def occupation(e, t):
        if t == 0:
            return mp.mpf(1) if e < 0 else (mp.mpf(0) if e > 0 else mp.mpf(0.5))
        return 1 / (mp.exp(e / t) + 1)

    def f(e, x):
        steps_x, t, _ = leads[x]
        return sum(w * occupation(e - a, t) for a, w in steps_x)

    steps_t = [(a, t) for steps_x, t, _ in leads.values() for a, _ in steps_x]
    t_max = max(t for _, t in steps_t)
    points = {a + d * t for a, t in steps_t for d in (-10, 0, 10)}
    points |= {min(points) - 90 * t_max, max(points) + 90 * t_max}
    g_l, g_r = leads["l"][2], leads["r"][2]
    return mp.quad(lambda e: integrand(f(e, "l"), f(e, "r"), g_l, g_r), sorted(points))


def mp_cumulants(model: Model, theta: float, phidot: float, dps: int = 20) -> list[float]:
    """C1, C2, C3 = sum_sigma ∫ k_n d eps from the P, Q formulas of §10, by mpmath.quad."""
    with mp.workdps(dps):
        def k(n):
            def integrand(f_l, f_r, g_l, g_r):
                s = g_l + g_r
                P = g_l * g_r * (f_l - f_r)
                Q = g_l * g_r * (f_l + f_r - 2 * f_l * f_r)
                return (P / s, Q / s - 2 * P**2 / s**3,
                        P / s - 6 * P * Q / s**3 + 12 * P**3 / s**5)[n - 1]
            return integrand

        return [float(sum(mp_spin_integral(mp_spin_steps(model, theta, phidot, sigma), k(n))
                          for sigma in (1, -1))) for n in (1, 2, 3)]


def mp_cgf_third_derivative(model: Model, theta: float, phidot: float, dps: int = 30) -> float:
    """d³/du³ at u = 0 of CGF(u) = sum_sigma ∫ [sqrt(s² + 4 G_l G_r X(u))/2 - s/2] d eps (§10),
    by the central difference [f(2h) - 2f(h) + 2f(-h) - f(-2h)] / 2h³ (h = 1e-5, error
    ~h² f⁽⁵⁾/4), applied to the integrand at 30 digits (the same as differencing the integrals)."""
    with mp.workdps(dps):
        h = mp.mpf("1e-5")
        weights = {2 * h: 1, h: -2, -h: 2, -2 * h: -1}
        growth = {u: (mp.expm1(u), mp.expm1(-u)) for u in weights}

        def stencil(f_l, f_r, g_l, g_r):
            s = g_l + g_r
            forward, backward = f_l * (1 - f_r), f_r * (1 - f_l)
            return sum(w * (mp.sqrt(s**2 + 4 * g_l * g_r * (forward * growth[u][0]
                                                             + backward * growth[u][1])) - s)
                       for u, w in weights.items()) / (4 * h**3)

        return float(sum(mp_spin_integral(mp_spin_steps(model, theta, phidot, sigma), stencil)
                         for sigma in (1, -1)))


def breakpoint_cumulants(model: Model, theta: float, phidot: float) -> np.ndarray:
    """C1, C2, C3 at T = T_r = 0 as finite sums: k_n is constant between the sorted steps."""
    dist = steps(model, theta, phidot)
    G = conductances(model, dist)
    total = np.zeros(3)
    for spin in range(2):
        edges = np.sort(dist.position[spin].ravel())
        mid = (edges[:-1] + edges[1:]) / 2
        # occupation (1 - F)/2 of each lead between the steps
        f_l, f_r = (np.sum(dist.weight[spin, x] * (mid[:, np.newaxis] < dist.position[spin, x]),
                           axis=-1) for x in range(2))
        g_l, g_r = G[spin]
        s = g_l + g_r
        P, Q = g_l * g_r * (f_l - f_r), g_l * g_r * (f_l + f_r - 2 * f_l * f_r)
        k = np.array([P / s, Q / s - 2 * P**2 / s**3, P / s - 6 * P * Q / s**3 + 12 * P**3 / s**5])
        total += k @ np.diff(edges)
    return total


# --- reference value, limits -------------------------------------------------------------------

def test_reference_value_section_10():
    result = cumulants(REFERENCE, 1.5, -1.2, quadrature=True)
    assert result.C1 == pytest.approx(0.0311688865595367, rel=1e-12)
    assert result.C3 == pytest.approx(-0.00238529538366867, rel=1e-12)
    assert result.C3_quadrature == pytest.approx(-0.00238529538366867, rel=1e-12)
    assert abs(result.C3_quadrature - result.C3) <= result.C3_quadrature_error + 1e-16


@pytest.mark.parametrize("params", [NORMAL, MAGNETIC])
@pytest.mark.parametrize("T", [0.0, 0.05, 2.0])
def test_equilibrium_has_no_odd_cumulants(params, T):
    model = Model(T=T, mu_l=0.3, mu_r=0.3, **params)
    theta = np.array([0.0, 0.0, 0.4, 1.0, np.pi])
    phidot = np.array([-1.3, 0.0, 0.0, 0.0, 0.0])  # no drive: theta = 0 or phidot = 0
    result = cumulants(model, theta, phidot)
    G = noise(model, theta, phidot).conductance
    np.testing.assert_allclose(result.C1, 0.0, atol=1e-15 * np.max(G) * (T + 1))
    np.testing.assert_allclose(result.C3, 0.0, atol=1e-15 * np.max(G) * (T + 1))
    np.testing.assert_allclose(result.C2, 2 * G * T, rtol=1e-14, atol=1e-300)  # S = 4GT


@pytest.mark.parametrize(("gamma_l", "gamma_r"), [(0.3, 0.5), (0.5, 0.5), (2.0, 0.1)])
@pytest.mark.parametrize("V", [0.7, -0.2])
def test_double_tunnel_junction(gamma_l, gamma_r, V):
    model = Model(T=0.0, mu_l=V, mu_r=0.0, gamma_l_up=gamma_l, gamma_l_down=gamma_l,
                  gamma_r_up=gamma_r, gamma_r_down=gamma_r)
    result = cumulants(model, 0.0, -1.0)
    a = (gamma_l - gamma_r) / (gamma_l + gamma_r)
    G = (model.rho_up + model.rho_down) * gamma_l * gamma_r / (gamma_l + gamma_r)
    assert result.C1 == pytest.approx(G * V, rel=1e-14)
    assert result.C2 / abs(result.C1) == pytest.approx((1 + a**2) / 2, rel=1e-14)  # even in V
    assert result.C3 / result.C1 == pytest.approx((1 + 3 * a**4) / 4, rel=1e-14)


@pytest.mark.parametrize(("T", "T_r"), [(0.0, None), (0.1, None), (0.1, 0.3)])
def test_poisson_limit_of_a_dominant_left_barrier(T, T_r):
    # G_r >> G_l: the dot follows the right lead, and the left junction is a tunnel junction
    # with independent transfers both ways: C3 = C1 whatever the distributions (g = G_l/G_r)
    ratios = np.array([1e2, 1e4, 1e6])
    model = Model(T=T, T_r=T_r, mu_l=0.4, **{**MAGNETIC, "gamma_r_up": 0.6 * ratios,
                                             "gamma_r_down": 0.5 * ratios})
    result = cumulants(model, 1.1, -0.7)
    deviation = np.abs(result.C3 / result.C1 - 1)
    assert np.all(deviation < 20 / ratios)
    assert np.all(np.diff(deviation) < 0)
    assert deviation[-1] < 1e-5


# --- C1 is the current, 2 C2 the noise ---------------------------------------------------------

widths = st.floats(0.05, 2.0)
warm = st.floats(1e-3, 2.0)


@st.composite
def models(draw, thermal_bias: bool | None = None) -> Model:
    T = draw(st.one_of(st.just(0.0), warm))
    hot = draw(st.booleans()) if thermal_bias is None else thermal_bias
    T_r = draw(st.one_of(st.just(0.0), warm).filter(lambda t: t != T)) if hot else None
    return Model(T=T, T_r=T_r, mu_l=draw(st.floats(-1, 1)), mu_r=draw(st.floats(-1, 1)),
                 rho_up=draw(st.floats(0.1, 3.0)), rho_down=draw(st.floats(0.1, 3.0)),
                 gamma_l_up=draw(widths), gamma_l_down=draw(widths), gamma_r_up=draw(widths),
                 gamma_r_down=draw(widths))


angles = st.floats(0.0, np.pi)
rates = st.floats(-3.0, 3.0)


@settings(deadline=None, max_examples=150)
@given(model=models(), theta=angles, phidot=rates)
def test_first_cumulant_is_the_current_and_second_half_the_noise(model, theta, phidot):
    result = cumulants(model, theta, phidot)
    size = scale(model, theta, phidot)
    # dot_voltage takes differences of absolute mean step positions: rounding ~eps |mu|
    current = dot_voltage(model, theta, phidot).current
    assert result.C1 == pytest.approx(current, abs=1e-12 * scale(
        model, theta, phidot, abs(model.mu_l), abs(model.mu_r)))
    rel = 1e-10 if model.T_r is not None else 1e-12
    assert 2 * result.C2 == pytest.approx(noise(model, theta, phidot).S, abs=rel * size)


@settings(deadline=None, max_examples=100)
@given(model=models(thermal_bias=False), theta=angles, phidot=rates)
def test_closed_form_matches_quadrature(model, theta, phidot):
    result = cumulants(model, theta, phidot, quadrature=True)
    size = scale(model, theta, phidot)
    assert result.C3_quadrature_error <= 1e-10 * size
    assert abs(result.C3_quadrature - result.C3) <= result.C3_quadrature_error + 1e-14 * size


@settings(deadline=None, max_examples=60)
@given(model=models(thermal_bias=False).map(lambda m: m.replace(T=0.0)), theta=angles,
       phidot=rates)
def test_zero_temperature_is_the_sum_over_the_intervals_between_steps(model, theta, phidot):
    result = cumulants(model, theta, phidot)
    # potentials relative to mu_r: differences of step positions without the rounding of mu
    expected = breakpoint_cumulants(model.replace(mu_l=model.mu_l - model.mu_r, mu_r=0.0),
                                    theta, phidot)
    np.testing.assert_allclose([result.C1, result.C2, result.C3], expected, rtol=0,
                               atol=1e-13 * scale(model, theta, phidot))


# --- independent evaluations --------------------------------------------------------------------

@pytest.mark.parametrize(("params", "theta", "phidot"), [
    ({"T": 0.07, "mu_l": 0.3, "mu_r": -0.1, **MAGNETIC}, 1.1, -0.4),
    ({"T": 0.0, "mu_l": 0.25, **MAGNETIC}, 2.0, 0.5),
    ({"T": 0.05, "T_r": 0.3, "mu_l": 0.3, "mu_r": -0.1, **MAGNETIC}, 1.1, -0.4),
    ({"T": 0.2, "T_r": 0.0, "mu_l": 0.1, **MAGNETIC}, 0.7, 1.0),
])
def test_matches_mpmath(params, theta, phidot):
    model = Model(**params)
    expected = mp_cumulants(model, theta, phidot)
    result = cumulants(model, theta, phidot, quadrature=True)
    tolerance = (1e-12 if model.T_r is None else 1e-10) * scale(model, theta, phidot)
    np.testing.assert_allclose([result.C1, result.C2, result.C3], expected, rtol=0,
                               atol=tolerance)
    assert abs(result.C3_quadrature - expected[2]) <= result.C3_quadrature_error + 1e-15 * abs(
        expected[2])


@pytest.mark.parametrize(("params", "theta", "phidot"), [
    ({"T": 0.05, "mu_l": 0.3, "mu_r": -0.1, **MAGNETIC}, 1.1, -0.4),
    ({"T": 0.0, "mu_l": -0.25, **MAGNETIC}, 2.0, 0.5),
    ({"T": 0.02, "T_r": 0.1, "mu_l": 0.1, **NORMAL}, 0.7, 1.0),
])
def test_third_cumulant_is_the_third_derivative_of_the_generating_function(params, theta,
                                                                           phidot):
    model = Model(**params)
    expected = mp_cgf_third_derivative(model, theta, phidot)
    assert cumulants(model, theta, phidot).C3 == pytest.approx(expected, rel=1e-9)


# --- branches, extremes, shapes -----------------------------------------------------------------

@pytest.mark.parametrize("T", [0.1, 1e-8, 1e3])
@pytest.mark.parametrize("offset", [-1e-9, 0.0, 1e-9])
def test_series_and_divided_differences_agree_at_the_switch(T, offset):
    # separations and triple spans at and around 2 tau T = T, where the closed forms change
    # from Taylor series to divided differences; and coinciding steps (V = phidot)
    x = T * (1 + offset)
    model = Model(T=T, mu_l=np.array([x, x, 0.5 * x, x, 2 * x]), **MAGNETIC)
    phidot = np.array([x, 0.4 * x, 0.5 * x, 0.0, -x])
    result = cumulants(model, 1.2, phidot, quadrature=True)
    size = scale(model, 1.2, phidot)
    assert np.all(np.abs(result.C3 - result.C3_quadrature) <= 1e-14 * size)
    assert np.all(np.abs(2 * result.C2 - noise(model, 1.2, phidot).S) <= 1e-14 * size)


@pytest.mark.parametrize("T", [0.0, 1e-3, 0.1, 1e3])
def test_unbiased_kernels_equal_the_general_ones(T):
    # at V = 0 the closed form takes its kernels from one pair kernel (odd and even parts);
    # they must be the general path's values exactly, across the series/divided-difference switch
    rng = np.random.default_rng(5)
    phidot = np.concatenate([[0.0, T, -T, 1e-300], rng.uniform(-3, 3, 200),
                             T * rng.uniform(-1.5, 1.5, 200)])
    temp = np.full_like(phidot, T)
    fast = _unbiased_kernels(phidot, np.zeros_like(phidot), temp)
    general = _state_kernels(phidot, np.zeros_like(phidot), temp)
    for mine, theirs in zip(fast, general, strict=True):
        np.testing.assert_array_equal(np.broadcast_to(mine, phidot.shape), theirs)


def test_extreme_inputs_are_finite():
    theta = np.array([0.0, 1e-8, 1.0, np.pi - 1e-8, np.pi]).reshape(5, 1, 1, 1)
    width = np.array([1e-6, 1.0, 1e3])
    temps = np.array([0.0, 1e-12, 0.1, 1e3]).reshape(4, 1, 1)
    for T, T_r in ((temps, None), (temps, 0.05)):
        model = Model(T=T, T_r=T_r, gamma_l_up=width, gamma_l_down=width[::-1],
                      gamma_r_up=width[:, np.newaxis], gamma_r_down=0.5, mu_l=0.3)
        for phidot in (0.0, 1e-12, -2.0):
            result = cumulants(model, theta, phidot, quadrature=True)
            for name in ("C1", "C2", "C3", "C3_quadrature", "C3_quadrature_error"):
                assert np.all(np.isfinite(getattr(result, name))), name
            assert np.all(result.C2 >= 0)
            size = np.broadcast_to(scale(model, theta, phidot), result.C3.shape)
            assert np.all(np.abs(result.C3_quadrature - result.C3)
                          <= result.C3_quadrature_error + 1e-13 * size)


def test_zero_temperature_is_the_limit_of_low_temperatures():
    model = Model(T=np.array([0.0, 1e-300, 1e-12]), mu_l=0.3, mu_r=-0.1, **MAGNETIC)
    result = cumulants(model, 1.1, -0.4)
    for name in ("C1", "C2", "C3"):
        values = getattr(result, name)
        np.testing.assert_allclose(values[1:], values[0], rtol=1e-11)


def test_empty_branch_slots_give_nan():
    model = Model(omega_d=np.array([-1.0, -0.5]), T_r=0.2, **MAGNETIC).per_branch()
    theta = np.array([[0.4, np.nan, np.nan], [np.nan, 1.0, 2.0]])
    result = cumulants(model, theta, model.omega_d, quadrature=True)
    for name in ("C1", "C2", "C3", "C3_quadrature", "C3_quadrature_error"):
        values = getattr(result, name)
        assert values.shape == (2, 3)
        np.testing.assert_array_equal(np.isnan(values), np.isnan(theta))
    single = cumulants(Model(T_r=0.2, **MAGNETIC), 1.0, -0.5)
    assert result.C3[1, 1] == pytest.approx(single.C3, rel=1e-14)


def test_parameter_axes_broadcast_against_scalar_angles():
    T = np.array([0.0, 0.1, 0.2])
    result = cumulants(Model(T=T[:, np.newaxis], T_r=np.array([0.1, 0.3]), **MAGNETIC), 0.3,
                       -1.0)
    assert result.C3.shape == (3, 2)
    for i in range(3):
        for j, T_r in enumerate((0.1, 0.3)):
            single = cumulants(Model(T=T[i], T_r=T_r, **MAGNETIC), 0.3, -1.0)
            assert result.C3[i, j] == pytest.approx(single.C3, rel=1e-14)
            assert result.C2[i, j] == pytest.approx(single.C2, rel=1e-14)

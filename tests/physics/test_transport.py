"""Distributions, dot voltage, currents, damping and torque against docs/theory.md §4, §5, §8."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.integrate import quad

from fmrnoise import Model, dot_voltage, noise, steps
from fmrnoise.physics.transport import lead_gilbert_damping, spin_torque

MAGNETIC = {"gamma_l_up": 0.9, "gamma_l_down": 0.3, "gamma_r_up": 0.6, "gamma_r_down": 0.6}
R7 = Model(B0=1.0, omega_d=-1.0, Omega=0.02, alpha0=0.03, total_spin=20.0, T=0.1,
           mu_l=0.2, mu_r=0.0, lead_damping=True, **MAGNETIC)
R7_THETA = 0.3541371681005070106


@pytest.mark.parametrize(("T", "V", "theta", "phidot", "current"), [
    (0.1, 0.3, 0.9, 0.75, 0.1125),
    (0.02, 1.0, 1.2, -0.4, 0.375),
    (0.5, -0.2, 0.3, 2.0, -0.075),
])
def test_normal_leads_with_bias_carry_ohmic_current_r4(T, V, theta, phidot, current):
    model = Model(T=T, mu_l=V / 2, mu_r=-V / 2)
    result = dot_voltage(model, theta, phidot)
    assert result.current == pytest.approx(current, rel=1e-10)
    # V_d = (Gamma_l mu_l + Gamma_r mu_r)/(Gamma_l + Gamma_r) for normal leads
    assert result.V_d == pytest.approx((0.3 * V / 2 - 0.5 * V / 2) / 0.8, rel=1e-10, abs=1e-15)


@pytest.mark.parametrize(("T", "mu_l", "mu_r", "theta", "phidot", "current"), [
    (0.07, 0.3, -0.1, 1.1, -0.4, 0.296197318676358418),
    (0.1, 0.0, 0.0, 0.8, -1.0, 0.0726723158993884133),
    (0.03, 0.0, 0.0, 2.0, 0.5, -0.0659512109974021113),
])
def test_magnetic_lead_pumps_current_r5(T, mu_l, mu_r, theta, phidot, current):
    result = dot_voltage(Model(T=T, mu_l=mu_l, mu_r=mu_r, **MAGNETIC), theta, phidot)
    assert result.current == pytest.approx(current, rel=1e-10)
    assert result.current_left == pytest.approx(current, rel=1e-12)
    assert result.current_right == pytest.approx(current, rel=1e-12)


def test_self_consistent_magnetic_lead_r7():
    result = dot_voltage(R7, R7_THETA, -1.0)
    assert result.current == pytest.approx(0.144755979367844747, rel=1e-10)
    np.testing.assert_allclose(result.V_d_spin, [0.131171504409841, 0.0890054179966261],
                               rtol=1e-10)
    assert result.spin_current == pytest.approx(0.0238110051580388187, rel=1e-10)
    assert spin_torque(R7, R7_THETA) == pytest.approx(0.0238110051580388187, rel=1e-10)
    assert lead_gilbert_damping(R7, R7_THETA) == pytest.approx(0.0564827023057191248, rel=1e-10)
    # charge-neutral V_d = sum_sigma rho^sigma V_d^sigma / sum_sigma rho^sigma (docs/theory.md §5)
    assert result.V_d == pytest.approx((1.5 * 0.131171504409841 + 0.5 * 0.0890054179966261) / 2,
                                       rel=1e-10)


@pytest.mark.parametrize("theta", [0.0, R7_THETA, 1.1, np.pi / 2, 2.6, np.pi])
@pytest.mark.parametrize("phidot", [-1.0, 0.3])
def test_noise_conductance_is_the_linear_response_of_the_series_current(theta, phidot):
    """G(theta) of the noise (S_eq = 4 G T) a second way: dI/dV of the current through the
    dot, I = sum_sigma G_l G_r / G_Sigma (<l> - <r>), which is linear in the bias."""
    delta = 1e-3
    currents = [dot_voltage(R7.replace(mu_l=0.2 + d), theta, phidot).current
                for d in (delta, -delta)]
    slope = (currents[0] - currents[1]) / (2 * delta)
    assert noise(R7, theta, phidot).conductance == pytest.approx(slope, rel=1e-9)


def test_normal_leads_give_constant_lead_damping_and_no_torque():
    model = Model(total_spin=20.0)
    theta = np.linspace(0, np.pi, 7)
    expected = 0.05 + (1.5 + 0.5) * (0.3 + 0.5) / 4 / 20.0
    np.testing.assert_allclose(lead_gilbert_damping(model, theta), expected, rtol=1e-14)
    np.testing.assert_allclose(spin_torque(model.replace(mu_l=0.3), theta), 0.0, atol=1e-16)


widths = st.floats(1e-3, 10.0)
energies = st.floats(-3.0, 3.0)


@settings(deadline=None, max_examples=200)
@given(theta=st.floats(0.0, np.pi), phidot=energies, mu_l=energies, mu_r=energies,
       gl_up=widths, gl_down=widths, gr_up=widths, gr_down=widths,
       rho_up=st.floats(1e-2, 10.0), rho_down=st.floats(1e-2, 10.0))
def test_kirchhoff_holds_to_round_off(theta, phidot, mu_l, mu_r, gl_up, gl_down, gr_up, gr_down,
                                      rho_up, rho_down):
    model = Model(mu_l=mu_l, mu_r=mu_r, gamma_l_up=gl_up, gamma_l_down=gl_down,
                  gamma_r_up=gr_up, gamma_r_down=gr_down, rho_up=rho_up, rho_down=rho_down)
    result = dot_voltage(model, theta, phidot)
    scale = (abs(mu_l) + abs(mu_r) + abs(phidot) + 1e-300) * (gl_up + gl_down + gr_up + gr_down) \
        * (rho_up + rho_down)
    assert abs(result.kirchhoff_residual) <= 1e-13 * scale
    assert abs(result.current - result.current_left) <= 1e-13 * scale


@settings(deadline=None, max_examples=100)
@given(theta=st.floats(0.0, np.pi), phidot=energies, mu_l=energies, gl_up=widths,
       gl_down=widths)
def test_step_weights_are_normalized(theta, phidot, mu_l, gl_up, gl_down):
    dist = steps(Model(mu_l=mu_l, gamma_l_up=gl_up, gamma_l_down=gl_down), theta, phidot)
    np.testing.assert_allclose(dist.weight.sum(-1), 1.0, rtol=1e-14)
    np.testing.assert_allclose(dist.lead_weight.sum(-1), 1.0, rtol=1e-14)
    np.testing.assert_allclose(dist.dot_weight.sum(-1), 1.0, rtol=1e-14)


def test_sampled_dot_distribution_integrates_to_its_mean_step_position():
    """∫[F_d(ε) − sign ε] dε = −2 V_d^σ: the sampled curves against the exact step list."""
    model = Model(T=0.05, mu_l=0.3, **MAGNETIC)
    theta, phidot = 1.1, -0.7
    dist = steps(model, theta, phidot)
    V_spin = dot_voltage(model, theta, phidot).V_d_spin
    for spin in range(2):
        def integrand(eps, spin=spin):
            return dist.sample([eps])[1][spin, 0] - np.sign(eps)
        points = sorted([*dist.dot_position[spin].tolist(), 0.0])
        value, _ = quad(integrand, -5, 5, points=points, epsabs=1e-12, epsrel=1e-12, limit=200)
        assert value == pytest.approx(-2 * V_spin[spin], rel=1e-9)


def test_distribution_at_the_pole_keeps_same_spin_steps_at_lead_potentials():
    dist = steps(Model(mu_l=0.2, mu_r=-0.1), 0.0, -1.0)
    np.testing.assert_array_equal(dist.position[..., 0], [[0.2, -0.1], [0.2, -0.1]])
    np.testing.assert_array_equal(dist.weight[..., 1], 0.0)


def test_spin_current_is_taken_at_the_drive_frequency_for_any_precession_rate():
    theta = np.array([0.2, 1.3, 2.9])
    at_drive = dot_voltage(R7, theta, R7.omega_d).spin_current
    np.testing.assert_allclose(at_drive, spin_torque(R7, theta), rtol=1e-14)
    other_rate = dot_voltage(R7, theta, 0.3)  # spin_torque recomputes V_d^sigma at omega_d
    np.testing.assert_allclose(other_rate.spin_current, at_drive, rtol=1e-14)


def test_half_angle_squares_are_accurate_to_an_ulp():
    import mpmath as mp

    from fmrnoise.physics.distribution import half_angles

    theta = np.concatenate([np.linspace(0.0, np.pi, 401), [1e-300, 1e-8, np.pi - 1e-8]])
    c2, s2 = half_angles(theta)
    with mp.workdps(40):
        exact_c2 = np.array([float(mp.cos(mp.mpf(t) / 2) ** 2) for t in theta])
        exact_s2 = np.array([float(mp.sin(mp.mpf(t) / 2) ** 2) for t in theta])
    np.testing.assert_allclose(c2, exact_c2, rtol=1e-15)
    np.testing.assert_allclose(s2, exact_s2, rtol=1e-15, atol=1e-320)


def test_steps_broadcast_angles_with_more_axes_than_the_model():
    width = np.array([1e-6, 1.0, 1e3])
    model = Model(gamma_l_up=width, gamma_r_up=width[:, None], mu_l=0.3)
    theta = np.array([0.0, 1.0, np.pi])[:, None, None, None]
    dist = steps(model, theta, -1.0)
    assert dist.position.shape == (3, 1, 3, 3, 2, 2, 2)
    assert dist.temperature.shape == (3, 1, 3, 3, 2)
    single = steps(Model(gamma_l_up=1e3, gamma_r_up=1e-6, mu_l=0.3), 1.0, -1.0)
    np.testing.assert_array_equal(dist.weight[1, 0, 0, 2], single.weight)

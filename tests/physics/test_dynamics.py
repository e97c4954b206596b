"""Lab-frame time integration against the steady states (docs/theory.md §3, independent check)."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose

from fmrnoise.physics.dynamics import integrate, settle
from fmrnoise.physics.model import Model
from fmrnoise.physics.steady_state import SADDLE, STABLE, UNSTABLE, steady_states

R6A = (Model(omega_d=-1.012, Omega=0.2), (0.3, 0.001))
R6B = (Model(omega_d=-1.012, Omega=0.1964), (0.3081, 0.001291))


def r6_law(a_s: float, a_c: float):
    """Damping law alpha(theta) = a_s sin^2(theta/2) + a_c cos^2(theta/2) of R6."""
    return lambda theta: a_s * np.sin(theta / 2) ** 2 + a_c * np.cos(theta / 2) ** 2


def wrap(angle):
    """Angle difference wrapped to (-pi, pi]."""
    return np.angle(np.exp(1j * np.asarray(angle)))


def assert_settles_on(attractor, theta, psi, omega_d):
    assert attractor.kind == "fixed_point"
    assert_allclose(attractor.theta, theta, atol=1e-6, rtol=0)
    assert abs(wrap(attractor.psi - psi)) < 1e-6
    assert_allclose(attractor.mean_phidot, omega_d, atol=1e-6, rtol=0)


@pytest.mark.parametrize("omega_d", [-0.5, -1.0, 1.0])
def test_r1_trajectory_near_stable_state_converges_to_it(omega_d):
    model = Model(omega_d=omega_d)
    s = steady_states(model)
    end = settle(model, s.stable_theta + 1e-3, s.stable_psi - 1e-3, t_end=500.0)
    assert_settles_on(end, s.stable_theta, s.stable_psi, omega_d)


def test_r1_psi_sign_convention_matches_lab_frame_lag():
    # omega_d = -0.5: the field turns clockwise; m trails it at a larger azimuth, psi = +0.0499.
    model = Model(omega_d=-0.5)
    s = steady_states(model)
    traj = integrate(model, float(s.stable_theta), float(s.stable_psi), t_end=50.0)
    field_azimuth = -0.5 * traj.t
    assert_allclose(wrap(traj.phi - field_azimuth), 0.049918642316175412, atol=1e-8)
    assert_allclose(traj.psi, 0.049918642316175412, atol=1e-8)


def test_r1_trajectory_leaves_unstable_partner_for_stable_state():
    model = Model(omega_d=-1.0)
    s = steady_states(model)
    assert s.stability[1] == UNSTABLE
    end = settle(model, s.theta[1] - 1e-3, s.psi[1], t_end=600.0)
    assert_settles_on(end, s.stable_theta, s.stable_psi, -1.0)


@pytest.mark.parametrize("slot", [0, 1])
def test_r6a_both_stable_states_attract_nearby_trajectories(slot):
    model, (a_s, a_c) = R6A
    law = r6_law(a_s, a_c)
    s = steady_states(model, damping_law=law)
    assert s.stability[slot] == STABLE
    end = settle(model, s.theta[slot] + 1e-3, s.psi[slot] - 1e-3, t_end=400.0, damping_law=law)
    assert_settles_on(end, s.theta[slot], s.psi[slot], -1.012)


@pytest.mark.parametrize("slot", [0, 1])
def test_r6b_stable_states_attract_nearby_trajectories(slot):
    model, (a_s, a_c) = R6B
    law = r6_law(a_s, a_c)
    s = steady_states(model, damping_law=law)
    end = settle(model, s.theta[slot] + 1e-3, s.psi[slot] - 1e-3, t_end=400.0, damping_law=law)
    assert_settles_on(end, s.theta[slot], s.psi[slot], -1.012)


@pytest.mark.parametrize(("theta0", "psi0"), [(0.3, 0.0), (2.9, 1.0), ("saddle", 0.0),
                                               ("unstable", 0.0)])
def test_r6b_trajectories_end_only_on_the_two_stable_angles(theta0, psi0):
    model, (a_s, a_c) = R6B
    law = r6_law(a_s, a_c)
    s = steady_states(model, damping_law=law)
    if isinstance(theta0, str):  # start next to the saddle or the unstable state
        slot = {"saddle": 2, "unstable": 3}[theta0]
        assert s.stability[slot] == {"saddle": SADDLE, "unstable": UNSTABLE}[theta0]
        theta0, psi0 = s.theta[slot] - 1e-3, s.psi[slot]
    end = settle(model, theta0, psi0, t_end=500.0, damping_law=law)
    assert end.kind == "fixed_point"
    assert np.min(np.abs(end.theta - s.theta[:2])) < 1e-6
    assert_allclose(end.mean_phidot, -1.012, atol=1e-6, rtol=0)


def test_r8_lower_hemisphere_state_is_the_attractor_at_strong_drive():
    model = Model(omega_d=-3.0, Omega=3.0)
    s = steady_states(model)
    assert s.stable_theta > np.pi / 2
    near = settle(model, s.stable_theta + 1e-3, s.stable_psi - 1e-3, t_end=300.0)
    assert_settles_on(near, s.stable_theta, s.stable_psi, -3.0)
    # The upper-hemisphere state is the unstable one: a start next to it leaves for the lower.
    away = settle(model, s.theta[0] - 1e-3, s.psi[0], t_end=300.0)
    assert_settles_on(away, s.stable_theta, s.stable_psi, -3.0)


def test_undamped_centre_is_circled_not_approached():
    model = Model(alpha0=0.0, omega_d=-0.9)
    s = steady_states(model)
    # Orbits circle the effective field (Omega, 0, b) with period 2 pi/|B_eff| ~ 62.
    end = settle(model, s.theta[0] + 1e-2, s.psi[0], t_end=300.0, window=150.0)
    assert end.kind == "limit_cycle"
    assert end.theta_range[0] < s.theta[0] < end.theta_range[1]
    assert_allclose(end.mean_phidot, -0.9, atol=1e-3, rtol=0)


def test_trajectory_angles_match_the_rotating_frame_vector():
    model = Model(omega_d=-0.9)
    traj = integrate(model, 0.5, 1.0, t_end=20.0)
    assert traj.status == 0
    expected = np.stack([np.sin(traj.theta) * np.cos(traj.psi),
                         np.sin(traj.theta) * np.sin(traj.psi), np.cos(traj.theta)], axis=-1)
    assert_allclose(traj.m_rot, expected, atol=1e-12)
    assert_allclose([traj.theta[0], traj.psi[0]], [0.5, 1.0], rtol=1e-14)


def test_grid_model_is_refused():
    with pytest.raises(ValueError, match="single point"):
        integrate(Model(omega_d=np.array([-1.0, -0.5])), 0.1, 0.0, t_end=1.0)


def test_r7_lead_damping_and_spin_torque_stable_state_attracts():
    model = Model(B0=1.0, omega_d=-1.0, Omega=0.02, alpha0=0.03, total_spin=20.0, T=0.1,
                  rho_up=1.5, rho_down=0.5, gamma_l_up=0.9, gamma_l_down=0.3, gamma_r_up=0.6,
                  gamma_r_down=0.6, mu_l=0.2, mu_r=0.0, lead_damping=True)
    s = steady_states(model)
    end = settle(model, s.stable_theta + 1e-3, s.stable_psi - 1e-3, t_end=300.0)
    assert_settles_on(end, s.stable_theta, s.stable_psi, -1.0)


MAGNETIC = {"lead_damping": True, "total_spin": 20.0, "alpha0": 0.02, "mu_l": -3.6,
            "gamma_l_up": 0.9, "gamma_l_down": 0.1, "gamma_r_up": 0.6, "gamma_r_down": 0.6}


@pytest.mark.parametrize(("model", "law"), [
    (Model(omega_d=-0.9), None),
    (Model(omega_d=-1.01, Omega=0.04, **MAGNETIC), None),  # limit cycle (test_limit_cycles)
    (Model(omega_d=-1.0, Omega=0.0, **MAGNETIC), None),  # no drive: the poles are states
    (R6B[0], r6_law(*R6B[1])),
], ids=["constant_kappa", "lead_damping_cycle", "no_drive", "r6b_law"])
def test_rotating_frame_cartesian_form_agrees_with_the_lab_frame(model, law):
    """The autonomous Cartesian rotating-frame equations (dynamics.rotating_rhs) against the
    lab-frame equation with its time-dependent field (and, with lead damping, the closed form
    of alpha and I_s against the step lists)."""
    lab = integrate(model, 0.6, 1.0, t_end=120.0, damping_law=law)
    rotating = integrate(model, 0.6, 1.0, t_end=120.0, damping_law=law, frame="rotating")
    assert lab.status == rotating.status == 0
    assert_allclose(rotating.m_rot, lab.m_rot, rtol=0, atol=1e-8)
    assert_allclose(rotating.phi, lab.phi, rtol=0, atol=1e-8)


def test_rotating_frame_velocity_vanishes_at_the_states_and_is_regular_at_the_poles():
    from fmrnoise.physics.dynamics import rotating_rhs

    model = Model(omega_d=-1.0 + 1e-5, Omega=0.005, **MAGNETIC)
    s = steady_states(model)
    rhs = rotating_rhs(model)
    for slot in range(int(s.n_states)):
        theta, psi = s.theta[slot], s.psi[slot]
        m = np.array([np.sin(theta) * np.cos(psi), np.sin(theta) * np.sin(psi), np.cos(theta)])
        assert np.max(np.abs(rhs(0.0, m))) < 1e-15
    pole = rotating_rhs(model.replace(Omega=0.0))(0.0, np.array([0.0, 0.0, 1.0]))
    assert_allclose(pole, 0.0, atol=1e-18)

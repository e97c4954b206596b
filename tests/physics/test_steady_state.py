"""Steady states against docs/theory.md §3, §8 (R1, R6, R7, R8, FMR line) and §9 corner cases."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal
from scipy.optimize import minimize_scalar

from fmrnoise.physics.llg import rotating_frame_rhs, stationarity_residual
from fmrnoise.physics.model import Model
from fmrnoise.physics.steady_state import (
    EMPTY,
    MARGINAL,
    NO_STABLE_STATE,
    RESIDUAL_ABOVE_TOLERANCE,
    SADDLE,
    STABLE,
    TRUNCATED_STATES,
    UNSTABLE,
    steady_states,
)

RTOL = 1e-10

# omega_d, theta, psi, trace, det of the stable state (B0 = 1, Omega = 0.02, alpha0 = 0.05).
R1 = [
    (-0.5, 0.039928939551455566, 0.049918642316175412, -0.0997506551522279, 0.250397015619566),
    (-0.9, 0.18088438259383662, 0.41673176831906114, -0.098451375701726, 0.0122632681755257),
    (-1.0, 0.41151684606748802, np.pi / 2, -0.0914229565078472, 0.00209476309226933),
    (-1.1, 0.17407692423628807, 2.6451535927796504, -0.097939252863548, 0.0132104863468934),
    (-1.5, 0.039537519356971973, 2.9928173542944738, -0.0995946815535942, 0.255369000486867),
    (1.0, 0.0099965437749212225, -0.024993545273406312, -0.0997655760674469, 3.99291720734385),
]

R7_MODEL = Model(B0=1.0, omega_d=-1.0, Omega=0.02, alpha0=0.03, total_spin=20.0, T=0.1,
                 rho_up=1.5, rho_down=0.5, gamma_l_up=0.9, gamma_l_down=0.3, gamma_r_up=0.6,
                 gamma_r_down=0.6, mu_l=0.2, mu_r=0.0, lead_damping=True)


def r6_law(a_s: float, a_c: float):
    """Damping law alpha(theta) = a_s sin^2(theta/2) + a_c cos^2(theta/2) of R6."""
    return lambda theta: a_s * np.sin(theta / 2) ** 2 + a_c * np.cos(theta / 2) ** 2


def constant_law(alpha0: float):
    """A constant damping law: forces the bracketing solver on a constant-kappa problem."""
    return lambda theta: alpha0 + 0 * theta


def filled(states, index=()):
    """(theta, psi, stability) of the filled slots of one point."""
    keep = states.stability[index] != EMPTY
    return states.theta[index][keep], states.psi[index][keep], states.stability[index][keep]


# --- reference values ---------------------------------------------------------------------------


@pytest.mark.parametrize("law", [None, constant_law(0.05)], ids=["closed_form", "bracketing"])
@pytest.mark.parametrize(("omega_d", "theta", "psi", "trace", "det"), R1)
def test_r1_stable_state_and_unstable_partner(law, omega_d, theta, psi, trace, det):
    s = steady_states(Model(omega_d=omega_d), damping_law=law)
    assert s.n_states == 2 and s.n_stable == 1 and s.status == 0
    assert_array_equal(s.stability, [STABLE, UNSTABLE, EMPTY, EMPTY])
    assert_allclose([s.theta[0], s.psi[0], s.trace[0], s.det[0]], [theta, psi, trace, det],
                    rtol=RTOL)
    assert_allclose([s.theta[1], s.trace[1], s.det[1]], [np.pi - theta, -trace, det], rtol=RTOL)
    assert_allclose(s.alpha[:2], 0.05, rtol=0)
    assert_array_equal(s.spin_current[:2], 0.0)
    assert np.all(np.isnan(s.theta[2:]))


def test_r1_exact_resonance_has_cos_squared_theta_of_084():
    s = steady_states(Model(omega_d=-1.0))
    assert_allclose(np.cos(s.theta[:2]) ** 2, 0.84, rtol=1e-14)


def test_r6a_theta_dependent_damping_gives_two_stable_states_and_no_saddle():
    s = steady_states(Model(omega_d=-1.012, Omega=0.2), damping_law=r6_law(0.3, 0.001))
    assert_array_equal(s.stability, [STABLE, STABLE, EMPTY, EMPTY])
    assert s.n_stable == 2 and s.status == 0
    assert_allclose(s.theta[:2], [1.48741785381871011, 1.68075750603444131], rtol=RTOL)
    assert_allclose(s.psi[:2], [2.37163746227840379, 0.996259412249841723], rtol=RTOL)
    assert_allclose(s.trace[:2], [-0.131230879412831, -0.144866559238907], rtol=RTOL)
    assert_allclose(s.det[:2], [0.0222215954617503, 0.00927201861336756], rtol=RTOL)
    assert_allclose(s.alpha[:2], r6_law(0.3, 0.001)(s.theta[:2]), rtol=1e-15)


def test_r6b_theta_dependent_damping_gives_four_states():
    s = steady_states(Model(omega_d=-1.012, Omega=0.1964), damping_law=r6_law(0.3081, 0.001291))
    assert_array_equal(s.stability, [STABLE, STABLE, SADDLE, UNSTABLE])
    assert s.n_states == 4 and s.n_stable == 2 and s.status == 0
    assert_allclose(s.theta, [1.48238727650333126, 1.70795514083196046, 1.85500539214866621,
                              2.27528790322682111], rtol=RTOL)


def test_more_states_than_slots_keeps_lowest_theta_and_flags_truncation():
    model = Model(omega_d=-1.012, Omega=0.1964)
    law = r6_law(0.3081, 0.001291)
    full = steady_states(model, damping_law=law)
    s = steady_states(model, max_states=2, damping_law=law)
    assert s.theta.shape == (2,)
    assert s.status == TRUNCATED_STATES and s.n_states == 2
    assert_array_equal(s.theta, full.theta[:2])
    assert_array_equal(s.stability, [STABLE, STABLE])


def test_r7_self_consistent_magnetic_lead():
    s = steady_states(R7_MODEL)
    assert_array_equal(s.stability, [STABLE, UNSTABLE, EMPTY, EMPTY])
    assert_allclose(s.theta[:2], [0.3541371681005070106, 2.829512765692788942], rtol=RTOL)
    assert_allclose(s.alpha[0], 0.0564827023057191248, rtol=RTOL)
    assert_allclose(s.spin_current[0], 0.0238110051580388187, rtol=RTOL)
    assert_allclose(s.stable_theta, 0.3541371681005070106, rtol=RTOL)


def _numerical_jacobian(model: Model, theta: float, psi: float, law, h: float = 1e-6):
    """Central differences of llg.rotating_frame_rhs in (theta, psi) at a state."""
    columns = []
    for d_theta, d_psi in ((h, 0.0), (0.0, h)):
        plus = rotating_frame_rhs(model, theta + d_theta, psi + d_psi, law)
        minus = rotating_frame_rhs(model, theta - d_theta, psi - d_psi, law)
        columns.append([(p - m) / (2 * h) for p, m in zip(plus, minus, strict=True)])
    return np.array(columns).T  # rows: theta-dot, psi-dot


MAGNETIC_WINDOW = Model(  # the phase_diagram_magnetic study of config/config.yaml, coarser
    lead_damping=True, total_spin=20.0, alpha0=0.02, mu_l=-3.6, gamma_l_up=0.9,
    gamma_l_down=0.1, gamma_r_up=0.6, gamma_r_down=0.6,
    omega_d=np.linspace(-1.15, -0.9, 26)[:, np.newaxis], Omega=np.array([0.02, 0.05, 0.08]))


@pytest.mark.parametrize(("model", "law", "n_states"), [
    (R7_MODEL.replace(omega_d=np.linspace(-1.2, -0.8, 9)), None, 18),
    (MAGNETIC_WINDOW, None, 156),
    (Model(Omega=0.2, omega_d=-1.012), r6_law(0.3, 0.001), 2),
    (Model(Omega=0.1964, omega_d=-1.012), r6_law(0.3081, 0.001291), 4),
], ids=["r7_lead_damping", "magnetic_window", "r6a", "r6b"])
def test_trace_and_det_equal_the_numerical_jacobian_of_the_equations_of_motion(model, law,
                                                                               n_states):
    """Second, independent way to tr J and det J (docs/theory.md §3): differentiate the exact
    rotating-frame equations of motion numerically at every state found."""
    states = steady_states(model, damping_law=law)
    checked = 0
    for index in np.ndindex(states.theta.shape[:-1]):
        point = model.map_arrays(lambda a, index=index: np.broadcast_to(
            a, states.theta.shape[:-1])[index])
        for slot in np.flatnonzero(states.stability[index] != EMPTY):
            theta, psi = states.theta[index][slot], states.psi[index][slot]
            jac = _numerical_jacobian(point, theta, psi, law)
            scale = np.abs(point.B0 + point.omega_d) + np.abs(point.alpha0) + point.Omega
            assert_allclose(np.trace(jac), states.trace[index][slot], rtol=0,
                            atol=1e-7 * scale)
            assert_allclose(np.linalg.det(jac), states.det[index][slot], rtol=0,
                            atol=1e-7 * scale**2)
            checked += 1
    assert checked == n_states


@pytest.mark.parametrize(("omega_d", "omega", "theta"), [
    (-3.0, 3.0, 2.15919853793313343), (-2.0, 2.0, 2.03484429594207462),
    (-3.0, 1.0, 0.462749429822691395)])
def test_r8_strong_drive_stable_state(omega_d, omega, theta):
    s = steady_states(Model(omega_d=omega_d, Omega=omega))
    assert s.n_stable == 1
    assert_allclose(s.stable_theta, theta, rtol=RTOL)


def test_r8_strong_counter_tuned_drive_stabilizes_lower_hemisphere():
    s = steady_states(Model(omega_d=-3.0, Omega=3.0))
    assert_array_equal(s.stability[:2], [UNSTABLE, STABLE])
    assert s.stable_theta > np.pi / 2


def test_fmr_line_theta_peaks_off_free_precession_frequency():
    def minus_theta(omega_d: float) -> float:
        return -float(steady_states(Model(omega_d=omega_d)).stable_theta)

    coarse = minimize_scalar(minus_theta, bounds=(-1.05, -0.95), method="bounded",
                             options={"xatol": 1e-12}).x
    # The bounded minimizer stops at ~sqrt(eps) relative: refine with a parabola through three
    # points of one vectorized call.
    h = 1e-6
    theta = steady_states(Model(omega_d=coarse + h * np.array([-1.0, 0.0, 1.0]))).stable_theta
    peak = coarse - h * (theta[2] - theta[0]) / (2 * (theta[2] - 2 * theta[1] + theta[0]))
    assert_allclose(peak, -0.99790523690773, atol=1e-9, rtol=0)
    assert_allclose(-minus_theta(peak), 0.41197472603262, atol=1e-13, rtol=0)


# --- corner cases (docs/theory.md §9) ----------------------------------------------------------


@pytest.mark.parametrize("law", [None, constant_law(0.05)], ids=["closed_form", "bracketing"])
def test_resonance_with_drive_equal_to_kappa_merges_equator_states(law):
    s = steady_states(Model(Omega=0.05), damping_law=law)
    assert s.n_states == 1 and s.n_stable == 0 and s.status == NO_STABLE_STATE
    assert s.stability[0] == MARGINAL
    assert_allclose([s.theta[0], s.psi[0]], [np.pi / 2, np.pi / 2], rtol=1e-15)


@pytest.mark.parametrize("law", [None, constant_law(0.05)], ids=["closed_form", "bracketing"])
def test_resonance_with_strong_drive_gives_equator_pair_ordered_by_psi(law):
    s = steady_states(Model(Omega=0.07), damping_law=law)
    theta, psi, stability = filled(s)
    assert_allclose(theta, np.pi / 2, rtol=1e-15)
    assert psi[0] < psi[1]
    assert_allclose(np.sin(psi), 0.05 / 0.07, rtol=1e-14)
    assert_array_equal(stability, [STABLE, UNSTABLE])


@pytest.mark.parametrize("law", [None, constant_law(0.05)], ids=["closed_form", "bracketing"])
def test_resonance_without_drive_gives_only_the_poles(law):
    s = steady_states(Model(Omega=0.0, omega_d=-1.0), damping_law=law)
    theta, psi, stability = filled(s)
    assert_array_equal(theta, [0.0, np.pi])
    assert_array_equal(psi, [0.0, 0.0])
    assert_array_equal(stability, [STABLE, UNSTABLE])


@pytest.mark.parametrize("law", [None, constant_law(0.05)], ids=["closed_form", "bracketing"])
def test_no_drive_gives_poles_with_finite_jacobian(law):
    s = steady_states(Model(Omega=0.0, omega_d=-0.5), damping_law=law)
    theta, psi, stability = filled(s)
    assert_array_equal(theta, [0.0, np.pi])
    assert_array_equal(psi, [0.0, 0.0])
    assert_array_equal(stability, [STABLE, UNSTABLE])
    # tr = -+2 alpha B0/(1+alpha^2), det = (kappa^2 + b^2)/(1+alpha^2) in the limit.
    norm = 1 + 0.05**2
    assert_allclose(s.trace[:2], [-0.1 / norm, 0.1 / norm], rtol=1e-14)
    assert_allclose(s.det[:2], (0.025**2 + 0.5**2) / norm, rtol=1e-14)


def test_without_damping_both_states_are_marginal_centres():
    s = steady_states(Model(alpha0=0.0, omega_d=-0.9))
    assert_array_equal(s.stability[:2], [MARGINAL, MARGINAL])
    assert s.n_stable == 0 and s.status == NO_STABLE_STATE
    assert_array_equal(s.trace[:2], 0.0)
    assert np.isnan(s.stable_theta)
    # kappa = 0: cos^2(theta) = b^2 / (Omega^2 + b^2).
    assert_allclose(np.cos(s.theta[0]) ** 2, 0.01 / (0.02**2 + 0.01), rtol=1e-14)


@pytest.mark.parametrize("omega_d", [0.0, 0.7, 3.0])
def test_static_or_counter_rotating_drive_barely_tilts_the_magnet(omega_d):
    s = steady_states(Model(omega_d=omega_d))
    assert s.n_stable == 1 and s.stability[0] == STABLE
    b = 1.0 + omega_d
    assert_allclose(np.tan(s.stable_theta), 0.02 / b, rtol=0.01)
    assert s.stable_theta < 0.03


def test_psi_stays_in_half_open_interval_without_negative_zero():
    s = steady_states(Model(omega_d=0.0, B0=0.0))  # kappa = 0, b = 0: psi = 0 and pi
    _, psi, _ = filled(s)
    assert_array_equal(psi, [0.0, np.pi])
    assert not np.any(np.signbit(psi))


# --- two independent paths, vectorization -------------------------------------------------------

fields = {
    "B0": st.floats(0.2, 2.0),
    "Omega": st.floats(1e-3, 3.0),
    "omega_d": st.floats(-4.0, 4.0),
    "alpha0": st.floats(0.0, 0.5),
}


@settings(deadline=None, max_examples=60)
@given(**fields)
def test_closed_form_and_bracketing_find_the_same_states(B0, Omega, omega_d, alpha0):
    model = Model(B0=B0, Omega=Omega, omega_d=omega_d, alpha0=alpha0)
    closed = steady_states(model)
    bracket = steady_states(model, damping_law=constant_law(alpha0))
    assert_array_equal(closed.stability, bracket.stability)
    assert_allclose(bracket.theta, closed.theta, rtol=1e-10, atol=1e-12, equal_nan=True)
    for s in (closed, bracket):
        assert s.status & ~NO_STABLE_STATE == 0
        keep = s.stability != EMPTY
        residual = stationarity_residual(model, s.theta[keep], s.psi[keep])
        assert np.all(residual <= 1e-14)
        assert_array_equal(residual, s.residual[keep])


@settings(deadline=None, max_examples=40)
@given(omega_d=st.floats(-1.2, -0.8), Omega=st.floats(0.05, 0.3), a_s=st.floats(0.0, 0.5),
       a_c=st.floats(0.0, 0.01))
def test_theta_dependent_states_are_stationary_to_round_off(omega_d, Omega, a_s, a_c):
    model = Model(omega_d=omega_d, Omega=Omega)
    law = r6_law(a_s, a_c)
    s = steady_states(model, damping_law=law)
    keep = s.stability != EMPTY
    assert np.all(stationarity_residual(model, s.theta[keep], s.psi[keep], law) <= 1e-14)
    assert np.all(np.diff(s.theta[keep]) >= 0)


@settings(deadline=None, max_examples=10)
@given(st.lists(st.tuples(st.floats(-3.0, 2.0), st.floats(0.0, 2.0)), min_size=1, max_size=8))
@pytest.mark.parametrize("law", [None, r6_law(0.3, 0.001)], ids=["closed_form", "bracketing"])
def test_vectorized_call_equals_per_point_calls(law, points):
    omega_d, omega = (np.array(v) for v in zip(*points, strict=True))
    grid = steady_states(Model(omega_d=omega_d, Omega=omega), max_states=3, damping_law=law)
    for i, (w, o) in enumerate(points):
        one = steady_states(Model(omega_d=w, Omega=o), max_states=3, damping_law=law)
        for name in ("theta", "psi", "trace", "det", "alpha", "stability", "n_states", "status"):
            assert_allclose(getattr(grid, name)[i], getattr(one, name), rtol=1e-14, atol=0,
                            equal_nan=True, err_msg=name)


def test_grid_shape_is_broadcast_of_model_fields():
    model = Model(omega_d=np.linspace(-1.5, -0.5, 3)[:, None], Omega=np.array([0.0, 0.02]),
                  T=np.array([0.1, 0.2])[:, None, None])
    s = steady_states(model, max_states=3)
    assert s.theta.shape == (2, 3, 2, 3)
    assert s.status.shape == s.n_states.shape == s.stable_theta.shape == (2, 3, 2)
    assert s.stability.dtype == np.int8 and s.status.dtype == np.int8
    assert_array_equal(s.n_states, 2)
    assert_array_equal(s.theta[0], s.theta[1])


def test_lead_damping_grid_matches_per_point_calls():
    omega_d = np.array([-1.05, -1.0, -0.95])
    grid = steady_states(R7_MODEL.replace(omega_d=omega_d))
    for i, w in enumerate(omega_d):
        one = steady_states(R7_MODEL.replace(omega_d=w))
        assert_allclose(grid.theta[i], one.theta, rtol=1e-14, equal_nan=True)
        assert_array_equal(grid.stability[i], one.stability)


def test_spurious_root_at_a_damping_jump_is_flagged_by_its_residual():
    # kappa jumps across theta = 1.2 where h changes sign: the bracket converges onto the jump.
    def law(theta):
        return np.where(np.real(theta) < 1.2, 0.5, 0.01) + 0 * theta

    s = steady_states(Model(omega_d=-1.012, Omega=0.2), damping_law=law)
    assert s.status & RESIDUAL_ABOVE_TOLERANCE
    at_jump = np.nanargmin(np.abs(s.theta - 1.2))
    assert_allclose(s.theta[at_jump], 1.2, rtol=1e-12)
    assert s.residual[at_jump] > 1e-3


# --- closed form of kappa with lead damping ----------------------------------------------------

lead_models = st.fixed_dictionaries({
    "omega_d": st.floats(-3.0, 2.0), "alpha0": st.floats(0.0, 0.2),
    "total_spin": st.floats(1.0, 200.0), "mu_l": st.floats(-1.0, 1.0),
    "mu_r": st.floats(-1.0, 1.0), "rho_up": st.floats(0.05, 5.0), "rho_down": st.floats(0.05, 5.0),
    "gamma_l_up": st.floats(1e-3, 10.0), "gamma_l_down": st.floats(1e-3, 10.0),
    "gamma_r_up": st.floats(1e-3, 10.0), "gamma_r_down": st.floats(1e-3, 10.0)})


@settings(deadline=None, max_examples=100)
@given(params=lead_models, theta=st.floats(0.0, np.pi))
def test_closed_form_kappa_equals_the_step_list_path(params, theta):
    from fmrnoise.physics.llg import LeadKappa, kappa, kappa_derivative
    from fmrnoise.physics.transport import lead_gilbert_damping, spin_torque

    model = Model(**params, lead_damping=True)
    closed = LeadKappa.from_model(model)
    c2, s2 = closed.half_angles(theta)
    scale = (abs(params["omega_d"]) * (1 + float(lead_gilbert_damping(model, 0.0)))
             + abs(float(spin_torque(model, 0.0))) / params["total_spin"] + 1.0)
    assert closed.damping(c2, s2) == pytest.approx(lead_gilbert_damping(model, theta), rel=1e-14)
    assert closed.torque(c2, s2) == pytest.approx(spin_torque(model, theta), abs=1e-13 * scale
                                                  * params["total_spin"])
    assert closed.at_theta(theta) == pytest.approx(kappa(model, theta), abs=1e-13 * scale)
    assert closed.derivative(theta) == pytest.approx(kappa_derivative(model, theta),
                                                     abs=1e-12 * scale)


def test_lead_damping_states_match_the_step_list_kappa():
    # the solver uses the closed form of kappa; the residual with the step-list kappa
    # (llg.stationarity_residual, what the dot_voltage stage stores) stays at round-off
    model = R7_MODEL.replace(omega_d=np.linspace(-1.3, -0.7, 61)[:, None],
                             Omega=np.array([1e-4, 0.02, 0.1]))
    s = steady_states(model)
    keep = s.stability != EMPTY
    branch = model.per_branch()
    residual = stationarity_residual(branch, np.where(keep, s.theta, 0.0),
                                     np.where(keep, s.psi, 0.0))
    assert np.all(residual[keep] <= 1e-14)
    assert_allclose(residual[keep], s.residual[keep], atol=1e-15)


def _lead_points(rng: np.random.Generator, n: int) -> Model:
    """n points with random magnetic leads, bias, damping and spin, near and off resonance."""
    def log_uniform(low: float, high: float) -> np.ndarray:
        return np.exp(rng.uniform(np.log(low), np.log(high), n))

    return Model(lead_damping=True, total_spin=log_uniform(5.0, 200.0),
                 alpha0=log_uniform(1e-4, 0.1), mu_l=rng.uniform(-4.0, 4.0, n),
                 mu_r=rng.uniform(-4.0, 4.0, n), rho_up=log_uniform(0.1, 3.0),
                 rho_down=log_uniform(0.1, 3.0), gamma_l_up=log_uniform(1e-2, 30.0),
                 gamma_l_down=log_uniform(1e-2, 3.0), gamma_r_up=log_uniform(1e-2, 30.0),
                 gamma_r_down=log_uniform(1e-2, 3.0), omega_d=rng.uniform(-2.0, 0.5, n),
                 Omega=log_uniform(1e-4, 0.5))


@pytest.mark.parametrize("on_nodes", [False, True], ids=["random", "roots_on_nodes"])
def test_tabulated_lead_damping_brackets_equal_the_node_by_node_ones(on_nodes):
    """With lead damping the signs of h come from a tabulated polynomial where it is certain
    (steady_state._table_rows): the brackets must be those of the node-by-node evaluation, bit
    for bit, also with roots placed on nodes (or within round-off of them), where the tabulated
    signs are uncertain and h is evaluated node by node."""
    from fmrnoise.physics import steady_state as ss
    from fmrnoise.physics.llg import LeadKappa

    rng = np.random.default_rng(7)
    n = 3000
    model = _lead_points(rng, n).map_arrays(lambda a: np.broadcast_to(a, (n,)))
    closed = LeadKappa.from_model(model)
    if on_nodes:  # Omega such that h = 0 on a node: b²/x² + kappa² sin² = Omega²
        x, c2, s2, sin2, _ = ss._node_table()
        node = rng.integers(0, x.size, n)
        kap = closed(c2[node], s2[node])
        omega = np.sqrt(((model.B0 + model.omega_d) / x[node]) ** 2 + kap**2 * sin2[node])
        model = model.replace(Omega=omega * (1 + rng.choice([0.0, 1e-16, -1e-16, 1e-13], n)))
        closed = LeadKappa.from_model(model)
    evaluator, b, omega, scale, kap_ends, pole = ss._setup(model, None, closed)
    active = np.flatnonzero(~pole)
    kap_scale = np.max(np.abs(kap_ends), axis=-1)
    tabulated = ss._brackets(evaluator, b, omega, scale, kap_scale, active)
    by_node = ss._brackets(evaluator, b, omega, scale, kap_scale, active, tabulate=False)
    assert tabulated[0].size > 2 * n - 10
    order_t, order_n = (np.lexsort((x_left, idx)) for idx, x_left, _ in (tabulated, by_node))
    for a, c in zip(tabulated, by_node, strict=True):
        assert_array_equal(a[order_t], c[order_n])
    # most points go through the tabulated signs
    _, _, certain = ss._table_rows(closed, b, omega, scale)
    assert np.mean(certain) > 0.5


@pytest.mark.parametrize("law", [None, r6_law(0.3081, 0.001291)], ids=["lead_damping", "law"])
def test_root_refinement_equals_scipy_find_root_bit_for_bit(law):
    """steady_state refines the brackets with its own Chandrupatla iteration (SciPy's
    operations without SciPy's overhead): the roots must be those of
    scipy.optimize.elementwise.find_root on the same h, bit for bit, including brackets whose
    ends have the same sign (no root: NaN) and a root on a bracket's end."""
    from scipy.optimize import elementwise

    from fmrnoise.physics import steady_state as ss
    from fmrnoise.physics.llg import LeadKappa

    if law is None:
        model = _lead_points(np.random.default_rng(3), 2000)
    else:
        rng = np.random.default_rng(3)
        model = Model(omega_d=rng.uniform(-1.1, -0.9, 2000), Omega=rng.uniform(0.0, 0.3, 2000))
    n = 2000
    model = model.map_arrays(lambda a: np.broadcast_to(a, (n,)))
    closed = LeadKappa.from_model(model) if law is None else None
    evaluator, b, omega, scale, kap_ends, pole = ss._setup(model, law, closed)
    active = np.flatnonzero(~pole)
    idx, x_left, x_right = ss._brackets(evaluator, b, omega, scale,
                                        np.max(np.abs(kap_ends), axis=-1), active)
    # add brackets without a sign change and one with a root on its end
    idx = np.concatenate([idx, idx[:5], idx[:1]])
    x_left = np.concatenate([x_left, x_left[:5], x_left[:1]])
    x_right = np.concatenate([x_right, x_left[:5] * (1 + 1e-3), x_right[:1]])
    roots, kap = ss._refine(evaluator, b, omega, scale, idx, x_left, x_right)
    x_right[-1] = roots[0]

    def h(x, point):
        kap_x, sin2 = evaluator.rows(point).at_x(x)
        return ss._h(x, b[point], omega[point], kap_x, sin2, scale[point])

    roots, kap = ss._refine(evaluator, b, omega, scale, idx, x_left, x_right)
    result = elementwise.find_root(h, (x_left, x_right), args=(idx,))
    expected = np.where(result.success, result.x, np.nan)
    assert_array_equal(roots, expected)
    assert np.sum(np.isnan(roots)) >= 5
    if law is None:  # kappa at the roots, as _Kappa.at_x
        finite = np.isfinite(roots)
        assert_array_equal(kap[finite], evaluator.rows(idx[finite]).at_x(roots[finite])[0])

"""Bifurcations along a grid axis (docs/theory.md §11): every refined point checked by an
independent evaluation, every change between neighbouring grid points covered, constant kappa,
matching."""

from __future__ import annotations

from functools import cache

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from fmrnoise.physics.bifurcations import DEGENERATE, FOLD, HOPF, boundaries, match_states
from fmrnoise.physics.llg import forces, kappa, rotating_frame_rhs
from fmrnoise.physics.model import Model
from fmrnoise.physics.steady_state import MARGINAL, SADDLE, STABLE, UNSTABLE, steady_states

MAGNETIC = {"lead_damping": True, "total_spin": 20.0, "alpha0": 0.02, "mu_l": -3.6,
            "gamma_l_up": 0.9, "gamma_l_down": 0.1, "gamma_r_up": 0.6, "gamma_r_down": 0.6}
#: The study phase_diagram_magnetic of config/config.yaml, coarser (b = 0 and Omega = 0 on it).
WINDOW = Model(omega_d=np.linspace(-1.15, -0.9, 41)[:, np.newaxis],
               Omega=np.linspace(0.0, 0.1, 21), **MAGNETIC)
#: Its folds: 2 <-> 4 states in a wedge near b = 0, Omega ~ 0.005 (b never 0 on this grid).
FOLDS = Model(omega_d=-1.0 + 1e-6 + np.linspace(-4e-4, 4e-4, 21)[:, np.newaxis],
              Omega=np.linspace(0.0046, 0.0054, 17), **MAGNETIC)
#: The study phase_diagram (normal leads: constant kappa), coarser.
NORMAL = Model(omega_d=np.linspace(-3.0, 1.0, 41)[:, np.newaxis], Omega=np.linspace(0.0, 3.0, 21))
GRIDS = {"window": WINDOW, "folds": FOLDS, "normal": NORMAL}
CASES = [(grid, axis, parameter) for grid in GRIDS
         for axis, parameter in ((0, "omega_d"), (1, "Omega"))]
IDS = [f"{grid}-{parameter}" for grid, _, parameter in CASES]


@cache
def solved(grid: str, axis: int, parameter: str):
    model = GRIDS[grid]
    states = steady_states(model)
    return model, states, boundaries(model, states, axis, parameter)


def point(model: Model, index: tuple[int, ...], **changes) -> Model:
    """One grid point of ``model``, with some fields replaced."""
    shape = np.broadcast_shapes(*(np.shape(v) for v in (model.omega_d, model.Omega)))
    return model.map_arrays(lambda a: np.broadcast_to(a, shape)[index]).replace(**changes)


def numerical_jacobian(model: Model, theta: float, psi: float, h: float = 1e-4) -> np.ndarray:
    """Central differences of llg.rotating_frame_rhs in (theta, psi), Richardson-extrapolated."""
    def central(step: float) -> np.ndarray:
        columns = []
        for d_theta, d_psi in ((step, 0.0), (0.0, step)):
            plus = rotating_frame_rhs(model, theta + d_theta, psi + d_psi)
            minus = rotating_frame_rhs(model, theta - d_theta, psi - d_psi)
            columns.append([(p - m) / (2 * step) for p, m in zip(plus, minus, strict=True)])
        return np.array(columns).T
    return (4 * central(h / 2) - central(h)) / 3


def at_point(model, bd, i):
    """The model at point i of boundaries ``bd`` (its grid point, the parameter at its value)."""
    return point(model, tuple(bd.index[i]))


def grid_step(model: Model, bd, i: int, axis: int, parameter: str) -> tuple[float, float]:
    """Parameter values at the two ends of the interval of point i."""
    values = np.broadcast_to(getattr(model, parameter), np.broadcast_shapes(
        np.shape(model.omega_d), np.shape(model.Omega)))
    left = tuple(bd.index[i])
    right = tuple(np.add(bd.index[i], np.eye(len(left), dtype=int)[axis]))
    return float(values[left]), float(values[right])


@pytest.mark.parametrize(("grid", "axis", "parameter"), CASES, ids=IDS)
def test_refined_points_satisfy_the_conditions_by_an_independent_jacobian(grid, axis, parameter):
    """Stationary (|F| <= 1e-9 s), with det J = 0 (fold, <= 1e-9 s²) or tr J = 0 and det J > 0
    (Hopf, <= 1e-9 s): J by finite differences of the (theta, psi) equations of motion, kappa
    from the step lists (not the closed form the refinement uses)."""
    model, _, bd = solved(grid, axis, parameter)
    refined = np.flatnonzero(bd.kind != DEGENERATE)
    assert refined.size > 0
    for i in refined:
        m = at_point(model, bd, i).replace(**{parameter: bd.value[i]})
        theta, psi = bd.theta[i], bd.psi[i]
        f_theta, f_psi = forces(m, theta, psi)
        s = float(abs(m.B0 + m.omega_d) + abs(kappa(m, theta)) + m.Omega)
        assert max(abs(f_theta), abs(f_psi)) <= 1e-9 * s
        jac = numerical_jacobian(m, theta, psi)
        if bd.kind[i] == FOLD:
            assert abs(np.linalg.det(jac)) <= 1e-9 * s**2
        else:
            assert abs(np.trace(jac)) <= 1e-9 * s
            assert np.linalg.det(jac) > 0


@pytest.mark.parametrize(("grid", "axis", "parameter"), CASES, ids=IDS)
def test_refined_values_lie_in_their_interval_and_are_located_to_1e9(grid, axis, parameter):
    """A Hopf point's state (from steady_states) is stable on one side of the value and
    unstable on the other at +-1e-9 max(|p|, step); a fold's extremum of
    H = sin²θ (b²/cos²θ + kappa²) - Omega² (step-list kappa) changes sign there."""
    model, _, bd = solved(grid, axis, parameter)
    for i in range(len(bd)):
        p_a, p_b = grid_step(model, bd, i, axis, parameter)
        assert min(p_a, p_b) <= bd.value[i] <= max(p_a, p_b)
    for i in np.flatnonzero(bd.kind != DEGENERATE):
        p_a, p_b = grid_step(model, bd, i, axis, parameter)
        delta = 1e-9 * max(abs(bd.value[i]), abs(p_b - p_a))
        sides = [at_point(model, bd, i).replace(**{parameter: bd.value[i] + d})
                 for d in (-delta, delta)]
        if bd.kind[i] == HOPF:
            codes = []
            for m in sides:
                s = steady_states(m)
                near = np.nanargmin(np.hypot(s.theta - bd.theta[i],
                                             np.angle(np.exp(1j * (s.psi - bd.psi[i])))))
                codes.append(int(s.stability[near]))
            assert sorted(codes) == [STABLE, UNSTABLE]
        else:
            theta = bd.theta[i] + np.linspace(-1e-3, 1e-3, 2001)
            extrema = []
            for m in sides:
                b = m.B0 + m.omega_d
                h = np.sin(theta) ** 2 * (b**2 / np.cos(theta) ** 2 + kappa(m, theta) ** 2)
                h = h - m.Omega**2
                extrema.append((h.min(), h.max()))
            # two roots near theta on one side (the extremum crosses zero), none on the other
            crossing = [lo < 0 < hi for lo, hi in extrema]
            assert sorted(crossing) == [False, True]


def changes(model: Model, states, axis: int):
    """Per interval along ``axis`` (left point index): does the number of states change, and
    which matched states change stability (codes at both ends), by matching every pair."""
    theta, psi, det, stab = (np.moveaxis(getattr(states, k), axis, 0)
                             for k in ("theta", "psi", "det", "stability"))
    match = match_states(theta[:-1], psi[:-1], det[:-1], theta[1:], psi[1:], det[1:])
    count = np.moveaxis(states.n_states, axis, 0)
    out = {}
    for index in np.ndindex(match.shape[:-1]):
        right = (index[0] + 1, *index[1:])
        kinds = set()
        if count[index] != count[right]:
            kinds.add("count")
        for slot in np.flatnonzero(match[index] >= 0):
            pair = {int(stab[index][slot]), int(stab[right][match[index][slot]])}
            if len(pair) == 2:
                kinds.add("hopf" if pair == {STABLE, UNSTABLE} else "other")
        if kinds:
            grid_index = list(index[1:])
            grid_index.insert(axis, index[0])
            out[tuple(grid_index)] = kinds
    return out


@pytest.mark.parametrize(("grid", "axis", "parameter"), CASES, ids=IDS)
def test_every_change_between_neighbours_has_a_point_of_its_kind(grid, axis, parameter):
    """A change of the number of states has a FOLD, a matched state turning between stable and
    unstable a HOPF point (or two folds: the state met a saddle and another pair was born), in
    the closed interval; DEGENERATE only where it may stand in for them (b = 0 in the interval,
    Omega = 0 or a marginal state at an end)."""
    model, states, bd = solved(grid, axis, parameter)
    found: dict[tuple[int, ...], list[int]] = {}
    for index, kind in zip(map(tuple, bd.index), bd.kind, strict=True):
        found.setdefault(index, []).append(int(kind))
    expected = changes(model, states, axis)
    assert expected, "the grid must show changes"
    b = np.broadcast_to(model.B0 + model.omega_d, states.n_states.shape)
    for index, kinds in expected.items():
        right = tuple(np.add(index, np.eye(len(index), dtype=int)[axis]))
        have = found.get(index, [])
        degenerate = (b[index] * b[right] <= 0
                      or any(np.any((states.theta[i] == 0) | (states.stability[i] == MARGINAL))
                             for i in (index, right)))
        if DEGENERATE in have:
            assert degenerate
            continue
        if "count" in kinds:
            assert FOLD in have, index
        if "hopf" in kinds:
            assert HOPF in have or have.count(FOLD) >= 2, index
        assert "other" not in kinds or degenerate
    assert set(found) <= set(expected)  # and nothing where nothing changes


def test_the_fold_study_has_folds_and_hopf_points_and_the_window_degenerate_places():
    kinds = {grid: set(solved(grid, 1, "Omega")[2].kind.tolist()) for grid in ("window", "folds")}
    assert kinds["folds"] == {FOLD, HOPF}
    assert HOPF in kinds["window"] and DEGENERATE in kinds["window"]


def test_degenerate_points_carry_the_resonance_the_pole_or_the_marginal_state():
    _, _, along_omega_d = solved("window", 0, "omega_d")
    degenerate = along_omega_d.kind == DEGENERATE
    assert np.any(degenerate)
    assert_allclose(along_omega_d.value[degenerate], -1.0, rtol=1e-12)  # b = 0
    assert np.all(np.isnan(along_omega_d.theta[degenerate]))
    _, states, along_omega = solved("window", 1, "Omega")
    degenerate = np.flatnonzero(along_omega.kind == DEGENERATE)
    omega_d, omega = np.linspace(-1.15, -0.9, 41), np.linspace(0.0, 0.1, 21)
    resonance = omega_d[along_omega.index[degenerate, 0]] == -1.0  # b = 0 on the whole line
    assert np.any(resonance) and not np.all(resonance)
    assert_array_equal(along_omega.value[degenerate[~resonance]], 0.0)  # the poles
    assert_array_equal(along_omega.value[degenerate[resonance]],  # the left end
                       omega[along_omega.index[degenerate[resonance], 1]])
    # b = 0 and Omega = |kappa| = 0.05: the merged equator state is marginal
    model = Model(omega_d=-1.0, Omega=np.array([0.03, 0.04, 0.05, 0.06, 0.07]))
    states = steady_states(model)
    assert states.stability[2, 0] == MARGINAL
    bd = boundaries(model, states, 0, "Omega")
    assert_array_equal(bd.kind, [DEGENERATE, DEGENERATE])
    assert_array_equal(bd.index[:, 0], [1, 2])
    assert_array_equal(bd.value, 0.05)
    assert_allclose(bd.theta, np.pi / 2, rtol=1e-15)


def test_constant_kappa_never_folds_and_both_states_reach_tr_zero_on_the_hopf_line():
    for axis, parameter in ((0, "omega_d"), (1, "Omega")):
        model, _, bd = solved("normal", axis, parameter)
        assert FOLD not in bd.kind
        hopf = np.flatnonzero(bd.kind == HOPF)
        assert hopf.size > 0 and hopf.size % 2 == 0
        first, second = hopf[0::2], hopf[1::2]  # ordered by index, value, then theta
        assert_array_equal(bd.index[first], bd.index[second])
        assert_allclose(bd.value[first], bd.value[second], rtol=1e-12)
        assert_allclose(bd.theta[first] + bd.theta[second], np.pi, rtol=1e-12)
        omega_d = np.array([float(at_point(model, bd, i).replace(
            **{parameter: bd.value[i]}).omega_d) for i in hopf])
        assert_allclose(1.0 + omega_d * np.sin(bd.theta[hopf]) ** 2, 0.0, atol=1e-12)


def test_match_states_follows_the_equator_pair_through_resonance():
    """Near b = 0 the equator pair changes hemisphere: its slots swap, the matching does not."""
    model = Model(omega_d=-1.0 + np.array([-1e-6, 1e-6]), Omega=0.005, **MAGNETIC)
    s = steady_states(model)
    assert_array_equal(s.stability[0], s.stability[1])
    assert np.all(np.abs(s.theta[:, 2:] - np.pi / 2) < 1e-3)
    match = match_states(s.theta[0], s.psi[0], s.det[0], s.theta[1], s.psi[1], s.det[1])
    assert_array_equal(match, [0, 1, 3, 2])
    # constant kappa, Omega > |kappa|: the same for the two states of the point
    model = Model(omega_d=-1.0 + np.array([-1e-3, 1e-3]), Omega=0.07)
    s = steady_states(model)
    match = match_states(s.theta[0], s.psi[0], s.det[0], s.theta[1], s.psi[1], s.det[1])
    assert_array_equal(match, [1, 0, -1, -1])


def test_match_states_leaves_the_merging_pair_unmatched():
    """Across a fold the surviving states are matched; the saddle and the node that meet
    are not."""
    model = Model(omega_d=-1.0 + np.array([1e-4, 3e-4]), Omega=0.005, **MAGNETIC)
    s = steady_states(model)
    assert s.n_states.tolist() == [4, 2]
    match = match_states(s.theta[0], s.psi[0], s.det[0], s.theta[1], s.psi[1], s.det[1])
    assert_array_equal(match, [0, -1, -1, 1])
    assert SADDLE in s.stability[0, 1:3]


def test_bad_axis_or_parameter_is_refused():
    model, states, _ = solved("normal", 0, "omega_d")
    with pytest.raises(ValueError, match="axis"):
        boundaries(model, states, 2, "omega_d")
    with pytest.raises(ValueError, match="parameter"):
        boundaries(model, states, 0, "lead_damping")

"""Slow sweeps (docs/theory.md §11): jumps at bifurcations, hysteresis, limit cycles."""

from __future__ import annotations

from functools import cache

import numpy as np
import pytest
from numpy.testing import assert_array_equal

from fmrnoise.physics.bifurcations import DEGENERATE, boundaries
from fmrnoise.physics.model import Model
from fmrnoise.physics.steady_state import STABLE, steady_states
from fmrnoise.physics.sweep import INTEGRATED, LIMIT_CYCLE, sweep

MAGNETIC = {"lead_damping": True, "total_spin": 20.0, "alpha0": 0.02, "mu_l": -3.6,
            "gamma_l_up": 0.9, "gamma_l_down": 0.1, "gamma_r_up": 0.6, "gamma_r_down": 0.6}
#: Lines of the magnetic phase diagram: at Omega = 0.02 bistable, one state, the tongue without
#: a stable state (a limit cycle), one state, bistable; at Omega = 0.08 bistable, then one.
OMEGA_D = np.linspace(-1.15, -0.9, 41) + 0.001
WINDOW = Model(omega_d=OMEGA_D, Omega=np.array([0.02, 0.08])[:, np.newaxis], **MAGNETIC)
#: Constant kappa across the Hopf line B0 + omega_d sin²θ = 0, where the stable state changes
#: hemisphere, along omega_d and along Omega (grid points not too close to it: there the new
#: state relaxes slowly, in a time ~ 1/|tr J|).
GRIDS = {"window": (WINDOW, 1, "omega_d"),
         "normal_omega_d": (Model(omega_d=np.linspace(-3.1, -1.6, 6), Omega=1.0), 0, "omega_d"),
         "normal_omega": (Model(omega_d=-2.5, Omega=np.linspace(0.5, 2.5, 5)), 0, "Omega")}


@cache
def swept(name: str):
    model, axis, parameter = GRIDS[name]
    states = steady_states(model)
    return (model, states, sweep(model, states, axis, parameter),
            boundaries(model, states, axis, parameter))


def lines(name: str):
    """Per line: parameter values, states (n_stable, b) along it, and its boundary points."""
    model, states, result, bd = swept(name)
    _, axis, parameter = GRIDS[name]
    shape = states.n_states.shape
    p = np.moveaxis(np.broadcast_to(getattr(model, parameter), shape), axis, -1)
    b = np.moveaxis(np.broadcast_to(model.B0 + model.omega_d, shape), axis, -1)
    n_stable = np.moveaxis(states.n_stable, axis, -1)
    other = [d for d in range(len(shape)) if d != axis]
    for index in np.ndindex(p.shape[:-1]):
        mine = np.all(bd.index[:, other] == index, axis=-1)
        yield (index, p[index], b[index], n_stable[index], result.theta[index],
               result.slot[index], result.status[index], result.jumped[index],
               bd.value[mine], bd.kind[mine], bd.index[mine, axis])


@pytest.mark.parametrize("name", list(GRIDS))
def test_every_jump_lies_within_one_grid_step_of_a_fold_or_hopf_point(name):
    jumps = 0
    for _, p, b, _, _, _, _, jumped, value, kind, interval in lines(name):
        step = np.abs(np.diff(p)).max()
        for direction, i in zip(*np.nonzero(jumped), strict=True):
            left = i - 1 if direction == 0 else i  # the interval it crossed
            near = np.abs(value - p[i]) <= step * (1 + 1e-12)
            # DEGENERATE stands for them where b = 0 in the interval crossed
            regular = near & (kind != DEGENERATE)
            assert np.any(regular) or (b[left] * b[left + 1] <= 0
                                       and np.any(near & (interval == left))), (direction, i)
            jumps += 1
    assert jumps > 0


@pytest.mark.parametrize("name", list(GRIDS))
def test_up_and_down_agree_outside_bistable_intervals_and_differ_inside_one(name):
    """Where up and down differ, the point is bistable: two stable states, or a limit cycle
    next to the stable state the other sweep is on (docs/theory.md §3)."""
    hysteresis = 0
    for _, _, _, n_stable, theta, slot, status, *_ in lines(name):
        differ = slot[0] != slot[1]
        cycle = np.any(status & LIMIT_CYCLE, axis=0).astype(bool)
        assert np.all(~differ | (n_stable == 2) | ((n_stable == 1) & cycle))
        assert_array_equal(np.isnan(theta), (status & LIMIT_CYCLE).astype(bool))
        hysteresis += np.count_nonzero(differ & (n_stable == 2))
    assert hysteresis > 0 or name != "window"


def test_without_a_stable_state_the_magnet_is_on_a_limit_cycle_and_comes_back():
    (_, _, _, n_stable, theta, slot, status, jumped, *_), _ = lines("window")
    tongue = n_stable == 0
    assert np.any(tongue)
    assert np.all(status[:, tongue] & LIMIT_CYCLE) and np.all(np.isnan(theta[:, tongue]))
    assert np.all(slot[:, tongue] == -1)
    # up: the jump onto the cycle enters the tongue; the way back to a fixed point is no jump
    first, last = np.flatnonzero(tongue)[[0, -1]]
    assert jumped[0, first] and not jumped[0, last + 1] and slot[0, last + 1] >= 0
    assert status[0, last + 1] == INTEGRATED


def test_the_sweep_follows_the_stable_branch_and_the_down_sweep_starts_where_up_ended():
    _, states, result, _ = swept("window")
    assert result.theta.shape == (2, 2, OMEGA_D.size)
    assert_array_equal(result.slot[..., 1, -1], result.slot[..., 0, -1])
    on = result.slot >= 0
    stability = np.take_along_axis(states.stability[:, np.newaxis],
                                   np.maximum(result.slot, 0)[..., np.newaxis], -1)[..., 0]
    assert np.all(stability[on] == STABLE)
    assert result.n_integrations > 0 and result.integration_seconds > 0


def test_a_line_without_jumps_needs_no_integration():
    model = Model(omega_d=np.linspace(-1.3, -0.7, 25), Omega=np.array([0.01, 0.03])[:, None])
    states = steady_states(model)
    result = sweep(model, states, 1, "omega_d")
    assert result.n_integrations == 0 and result.integration_seconds == 0
    assert not np.any(result.jumped) and not np.any(result.status)
    assert_array_equal(result.slot[:, 0], result.slot[:, 1])
    assert_array_equal(result.theta[:, 0], states.stable_theta)

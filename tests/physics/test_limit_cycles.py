"""Points without a stable fixed point: flagged by the steady state, a limit cycle in time."""

import numpy as np
import pytest

import fmrnoise as fn
from fmrnoise.physics.steady_state import NO_STABLE_STATE

# A strongly polarized left lead at large bias with lead damping: the spin torque destabilizes
# both fixed points near resonance (the no-stable-state tongue of the magnetic phase diagram).
TONGUE = fn.Model(omega_d=-1.01, Omega=0.04, alpha0=0.02, total_spin=20.0, mu_l=-3.6,
                  lead_damping=True, gamma_l_up=0.9, gamma_l_down=0.1, gamma_r_up=0.6,
                  gamma_r_down=0.6)


def test_point_without_stable_state_is_flagged_and_reports_no_state_as_stable():
    states = fn.steady_states(TONGUE)
    assert states.n_stable == 0
    assert states.status & NO_STABLE_STATE
    assert np.isnan(states.stable_theta)
    assert states.n_states >= 1 and np.all(states.stability[:states.n_states] != 0)


@pytest.mark.parametrize("theta0", [0.3, 2.0])
def test_point_without_stable_state_ends_on_a_limit_cycle(theta0):
    attractor = fn.settle(TONGUE, theta0, 0.0, 1000.0)
    assert attractor.kind == "limit_cycle"
    assert abs(attractor.mean_phidot - TONGUE.omega_d) > 1e-3  # not synchronous with the drive
    assert attractor.theta_range[1] - attractor.theta_range[0] > 0.1

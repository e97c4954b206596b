"""fmrnoise in a notebook: an FMR line detected by noise, then a magnetic lead
(docs/theory.md §8 R7)."""

import numpy as np

import fmrnoise as fn

# Normal leads, no bias: stable precession angle and noise along a drive-frequency sweep.
model = fn.Model(omega_d=np.array([-1.2, -1.1, -1.0, -0.9, -0.8]), Omega=0.02, T=0.1)
states = fn.steady_states(model)
theta = states.stable_theta  # NaN where a point has no stable state
result = fn.noise(model, theta, model.omega_d)  # stationary states precess at omega_d
print("omega_d   theta      S            S/S_eq")
for row in zip(model.omega_d, theta, result.S, result.S / result.S_eq, strict=True):
    print("{:+.2f}     {:.6f}   {:.9f}  {:.6f}".format(*row))

# A magnetic left lead, a bias and lead damping: the spin torque acts back on the magnet.
magnetic = fn.Model(alpha0=0.03, total_spin=20.0, mu_l=0.2, lead_damping=True,
                    gamma_l_up=0.9, gamma_l_down=0.3, gamma_r_up=0.6, gamma_r_down=0.6)
states = fn.steady_states(magnetic)
print("states:", np.round(states.theta[:states.n_states], 6), "stability:",
      states.stability[:states.n_states], "(0 stable, 1 unstable)")
theta = states.stable_theta
transport = fn.dot_voltage(magnetic, theta, magnetic.omega_d)
print(f"I = {transport.current:.9f}, V_d = {np.round(transport.V_d_spin, 6)}, "
      f"I_s = {transport.spin_current:.9f}, S = {fn.noise(magnetic, theta, -1.0).S:.9f}")

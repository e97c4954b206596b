"""Time integration of the LLG equation: an independent check of the steady states.

The lab-frame Landau-Lifshitz-Gilbert-Slonczewski equation (docs/theory.md §3)

    dm/dt = m x B - alpha(theta) m x dm/dt + (I_s/S)(z - m cos(theta)),
    B(t) = (Omega cos(omega_d t), Omega sin(omega_d t), B0),

is integrated in its explicit form dm/dt = (A - alpha m x A)/(1 + alpha^2), A = m x B + torque
term, with DOP853; or, equivalently, in the frame rotating with the drive, where it is
autonomous (:func:`rotating_rhs`). The result is converted to the rotating frame of the drive:
theta is the polar angle of m and psi = phi - omega_d t, wrapped to (-pi, pi], where phi is the
lab-frame azimuth of m. psi is the lag of m behind the drive field in the sense of the drive's
rotation (the same psi as in ``steady_state``; e.g. docs/theory.md §8 R1, omega_d = -0.5:
psi = +0.0499). Times are in hbar/E0. One model point at a time (every array field of ``model``
must hold a single value).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy.integrate import solve_ivp

from .llg import DampingLaw, LeadKappa, damping, principal_lag, torque
from .model import FloatArray, Model

AttractorKind = Literal["fixed_point", "limit_cycle", "transient"]
Frame = Literal["lab", "rotating"]


@dataclass(frozen=True)
class Trajectory:
    """A solution of the lab-frame LLG equation, sampled on a uniform time grid.

    Attributes
    ----------
    t : (n,) times [hbar/E0].
    m : (n, 3) lab-frame unit magnetization.
    theta : (n,) polar angle of m [rad].
    psi : (n,) rotating-frame lag psi = phi - omega_d t, wrapped to (-pi, pi] [rad].
    phi : (n,) unwrapped lab-frame azimuth of m [rad].
    m_rot : (n, 3) magnetization in the frame rotating with the drive (field along x').
    status : ``solve_ivp`` status (0: reached ``t_end``).
    message : ``solve_ivp`` message.
    """

    t: FloatArray
    m: FloatArray
    theta: FloatArray
    psi: FloatArray
    phi: FloatArray
    m_rot: FloatArray
    status: int
    message: str


@dataclass(frozen=True)
class Attractor:
    """Where a trajectory ends, judged over the final window.

    Attributes
    ----------
    kind : "fixed_point" (m' moves less than ``tol`` over the window), "limit_cycle" (it keeps
        moving at a steady rate: a non-synchronous precession) or "transient" (still converging:
        the rotating-frame speed decays over the window; integrate longer).
    theta : final polar angle [rad] (NaN unless a fixed point).
    psi : final lag psi in (-pi, pi] [rad] (NaN unless a fixed point).
    mean_phidot : mean lab-frame precession rate over the window [E0]; omega_d at a fixed point.
    theta_range : (min, max) of theta over the window [rad].
    spread : largest distance |m'(t) - m'(t_end)| over the window [dimensionless].
    trajectory : the integrated trajectory.
    """

    kind: AttractorKind
    theta: float
    psi: float
    mean_phidot: float
    theta_range: tuple[float, float]
    spread: float
    trajectory: Trajectory


def integrate(model: Model, theta0: float, psi0: float, t_end: float,
              damping_law: DampingLaw | None = None, rtol: float = 1e-10, atol: float = 1e-12,
              n_samples: int | None = None, frame: Frame = "lab") -> Trajectory:
    """Integrate the LLG equation from the rotating-frame state (theta0, psi0).

    Parameters
    ----------
    model : a single model point.
    theta0, psi0 : initial polar angle and lag [rad]; at t = 0 the lab and rotating frames agree.
    t_end : final time [hbar/E0].
    damping_law : optional damping law alpha(theta) replacing the model's (then I_s = 0).
    rtol, atol : DOP853 tolerances.
    n_samples : number of output samples; by default fine enough to unwrap the azimuth.
    frame : "lab" (the lab-frame equation, time-dependent field) or "rotating" (the same
        equation in the frame of the drive, :func:`rotating_rhs`: autonomous and slow, so
        much cheaper; the lab-frame m is then m' rotated by omega_d t).

    Returns
    -------
    Trajectory
    """
    point = _scalar_model(model)
    B0, omega, omega_d = float(point.B0), float(point.Omega), float(point.omega_d)
    if n_samples is None:
        rate = abs(B0) + abs(omega_d) + omega + 1.0
        n_samples = int(np.ceil(t_end * rate / 0.5)) + 1
    rhs = _lab_rhs(point, damping_law) if frame == "lab" else rotating_rhs(point, damping_law)
    m0 = np.array([np.sin(theta0) * np.cos(psi0), np.sin(theta0) * np.sin(psi0), np.cos(theta0)])
    t_eval = np.linspace(0.0, t_end, n_samples)
    sol = solve_ivp(rhs, (0.0, t_end), m0, method="DOP853", t_eval=t_eval, rtol=rtol, atol=atol)
    m = sol.y.T / np.linalg.norm(sol.y.T, axis=-1, keepdims=True)
    if frame == "rotating":
        c, s = np.cos(omega_d * sol.t), np.sin(omega_d * sol.t)
        m = np.stack([m[:, 0] * c - m[:, 1] * s, m[:, 0] * s + m[:, 1] * c, m[:, 2]], axis=-1)
    return _trajectory(sol.t, m, omega_d, sol.status, sol.message)


def rotating_rhs(model: Model, damping_law: DampingLaw | None = None) -> Callable[
        [float, FloatArray], FloatArray]:
    """Right-hand side dm'/dt(t, m') of the LLG equation in the frame rotating with the drive.

    There the field is static, B' = (Omega, 0, B0), and with v the lab-frame velocity in
    rotating coordinates

        dm'/dt = v - omega_d z x m',   v = (A - alpha m' x A)/(1 + alpha^2),
        A = m' x B' + (I_s/S)(z - m' cos(theta)):

    autonomous, Cartesian (regular at the poles, unlike the (theta, psi) form
    ``llg.rotating_frame_rhs``); its fixed points are the stationary states. It is evaluated
    at m'/|m'|, so it stays tangent and |m'| cannot drift away from 1 (the torque term is
    tangent only for a unit vector: evaluated at m' itself, |m'| would grow exponentially
    under a strong torque). With ``lead_damping`` alpha and I_s come from their closed form in
    cos(theta) (:class:`fmrnoise.physics.llg.LeadKappa`, c² = (1 + cos(theta))/2), in Python
    floats.

    Parameters
    ----------
    model : a single model point.
    damping_law : optional damping law alpha(theta) replacing the model's (then I_s = 0).
    """
    point = _scalar_model(model)
    B0, omega, omega_d = float(point.B0), float(point.Omega), float(point.omega_d)
    if damping_law is not None:
        def acting(m: FloatArray, cz: float) -> tuple[float, float]:
            return float(damping_law(np.arctan2(np.hypot(m[0], m[1]), m[2]))), 0.0
    elif point.lead_damping:
        closed = LeadKappa.from_model(point).map(float)
        spin = float(point.total_spin)

        def acting(m: FloatArray, cz: float) -> tuple[float, float]:
            c2, s2 = (1.0 + cz) / 2, (1.0 - cz) / 2
            return closed.damping(c2, s2), closed.torque(c2, s2) / spin
    else:
        alpha0 = float(point.alpha0)

        def acting(m: FloatArray, cz: float) -> tuple[float, float]:
            return alpha0, 0.0

    def rhs(t: float, m: FloatArray) -> FloatArray:
        mx, my, mz = m.tolist()  # Python floats: this runs per integrator stage
        scale = 1.0 / math.sqrt(mx * mx + my * my + mz * mz)
        mx, my, mz = mx * scale, my * scale, mz * scale
        alpha, rate = acting(m, mz)
        ax = my * B0 - rate * mx * mz
        ay = mz * omega - mx * B0 - rate * my * mz
        az = -my * omega + rate * (1.0 - mz * mz)
        norm = 1.0 + alpha * alpha
        return np.array([(ax - alpha * (my * az - mz * ay)) / norm + omega_d * my,
                         (ay - alpha * (mz * ax - mx * az)) / norm - omega_d * mx,
                         (az - alpha * (mx * ay - my * ax)) / norm])

    return rhs


def settle(model: Model, theta0: float, psi0: float, t_end: float,
           damping_law: DampingLaw | None = None, window: float | None = None,
           tol: float = 1e-6, rtol: float = 1e-10, atol: float = 1e-12,
           n_samples: int | None = None) -> Attractor:
    """Integrate from (theta0, psi0) and classify where the trajectory ends.

    Parameters
    ----------
    model : a single model point.
    theta0, psi0 : initial polar angle and lag [rad].
    t_end : final time [hbar/E0]; long enough for the trajectory to settle.
    damping_law : optional damping law alpha(theta) replacing the model's (then I_s = 0).
    window : length of the final window that is judged [hbar/E0]; default t_end / 10. To tell
        a cycle from a slow transient it should span several periods of the motion.
    tol : a fixed point moves less than this over the window (distance of unit vectors).
    rtol, atol, n_samples : passed to ``integrate``.

    Returns
    -------
    Attractor
    """
    traj = integrate(model, theta0, psi0, t_end, damping_law, rtol, atol, n_samples)
    window = t_end / 10 if window is None else window
    last = traj.t >= traj.t[-1] - window
    t, m_rot = traj.t[last], traj.m_rot[last]
    mean_phidot = float((traj.phi[-1] - traj.phi[last][0]) / (t[-1] - t[0]))
    spread = float(np.max(np.linalg.norm(m_rot - m_rot[-1], axis=-1)))
    theta_range = (float(np.min(traj.theta[last])), float(np.max(traj.theta[last])))
    kind = _classify_end(m_rot, spread, tol)
    fixed = kind == "fixed_point"
    return Attractor(kind=kind, theta=float(traj.theta[-1]) if fixed else np.nan,
                     psi=float(traj.psi[-1]) if fixed else np.nan, mean_phidot=mean_phidot,
                     theta_range=theta_range, spread=spread, trajectory=traj)


def _classify_end(m_rot: FloatArray, spread: float, tol: float) -> AttractorKind:
    """Fixed point, limit cycle, or still converging, from the rotating-frame motion."""
    if spread <= tol:
        return "fixed_point"
    step = np.linalg.norm(np.diff(m_rot, axis=0), axis=-1)
    half = step.size // 2
    early, late = np.sum(step[:half]), np.sum(step[half:])
    return "transient" if late < 0.8 * early else "limit_cycle"


def _scalar_model(model: Model) -> Model:
    """The model with every array field reduced to a 0-d array (one point)."""
    def scalar(a: np.ndarray) -> np.ndarray:
        if a.size != 1:
            raise ValueError("dynamics: the model must describe a single point")
        return a.reshape(())
    return model.map_arrays(scalar)


def _lab_rhs(model: Model, law: DampingLaw | None) -> Callable[[float, FloatArray], FloatArray]:
    """Right-hand side dm/dt(t, m) of the lab-frame LLG equation."""
    B0, omega, omega_d = float(model.B0), float(model.Omega), float(model.omega_d)
    spin = float(model.total_spin)
    constant = not model.lead_damping and law is None
    alpha_c = float(model.alpha0)

    def rhs(t: float, m: FloatArray) -> FloatArray:
        mx, my, mz = m
        if constant:
            alpha, torque_rate = alpha_c, 0.0
        else:
            theta = np.arctan2(np.hypot(mx, my), mz)
            alpha = float(damping(model, theta, law))
            torque_rate = float(torque(model, theta, law)) / spin
        cz = mz / np.sqrt(mx * mx + my * my + mz * mz)
        bx, by = omega * np.cos(omega_d * t), omega * np.sin(omega_d * t)
        ax = my * B0 - mz * by - torque_rate * mx * cz
        ay = mz * bx - mx * B0 - torque_rate * my * cz
        az = mx * by - my * bx + torque_rate * (1.0 - mz * cz)
        norm = 1.0 + alpha * alpha
        return np.array([ax - alpha * (my * az - mz * ay), ay - alpha * (mz * ax - mx * az),
                         az - alpha * (mx * ay - my * ax)]) / norm

    return rhs


def _trajectory(t: FloatArray, m: FloatArray, omega_d: float, status: int,
                message: str) -> Trajectory:
    """Convert lab-frame samples to polar angle, unwrapped azimuth and rotating-frame lag."""
    phase = omega_d * t
    c, s = np.cos(phase), np.sin(phase)
    m_rot = np.stack([m[:, 0] * c + m[:, 1] * s, -m[:, 0] * s + m[:, 1] * c, m[:, 2]], axis=-1)
    theta = np.arctan2(np.hypot(m[:, 0], m[:, 1]), m[:, 2])
    phi = np.unwrap(np.arctan2(m[:, 1], m[:, 0]))
    psi = np.arctan2(m_rot[:, 1], m_rot[:, 0])
    psi = principal_lag(psi)
    return Trajectory(t=t, m=m, theta=theta, psi=psi, phi=phi, m_rot=m_rot, status=int(status),
                      message=str(message))

"""The MuJoCo engine: OpenSim's models and muscles on MuJoCo's multibody
dynamics and soft contact, behind the same `osim.engines.Engine` interface.

What runs where (see the package's modules for each part and its measured
agreement with OpenSim):

- MuJoCo integrates the skeleton (`convert`) and the foot contact (`contact`);
- muscles are OpenSim's Thelen 2003 equations (`muscles`, compiled in
  `kernels`) on path geometry fitted to OpenSim's paths (`paths`); their
  forces and the coordinate-limit forces and springs (`forces`) enter MuJoCo
  as generalized forces (``qfrc_applied``), recomputed at every MuJoCo step;
- activation dynamics are integrated here, one Runge-Kutta step per MuJoCo step.

The tendon, three ways (``tendon=``), measured against OpenSim (whose
Thelen tendon is elastic, its fiber length a state):

- ``"equilibrium"`` (default): the elastic tendon always in balance with the
  fiber, which moves at the path's speed. Static forces are OpenSim's
  equilibrium (0.3% of max force RMS at the worst muscle over random poses);
  nothing stiff to integrate. Over 1 s of the benchmark pattern: ARM 0.024 /
  0.002 rad RMS from OpenSim, HUMAN within 0.06 rad (ankles 0.04).
- ``"rigid"``: the tendon at its slack length. Long tendons (the calf, the
  hamstrings) then put every stretch into the fiber: 17-35% of max force off
  at full activation in ordinary poses, passive forces hundreds of times max
  force at extreme ones; HUMAN ankles 0.18 rad RMS off over the pattern.
- ``"compliant"``: OpenSim's own state equations (numpy, `muscles`). The fiber
  dynamics are stiff (|lambda| to 1.8e4/s) and the tendon a stiff spring on
  light segments: at 5 ms steps most HUMAN episodes end in a simulation
  error. It needs sub-millisecond steps, which is OpenSim's own cost.

A control step is ``step_size / timestep`` MuJoCo steps. Each MuJoCo step
evaluates the forces at the current state, runs ``mj_forward`` and then the
integrator alone (``mj_implicit``), so that after a control step every
reading (accelerations and contact forces included) belongs to the state it
ends in, and a snapshot (positions, velocities, activations and the
constraint solver's warm start) replays bit for bit.

Stiff forces on light segments: a rigid tendon's force-velocity slope is a
stiff damper (the foot about the ankle: rates of thousands per second), and
the joint stops and the prosthetic ankle's spring are stiff springs on a
light foot (the prosthesis diverged within 0.25 s at explicit 5 ms steps).
Their diagonal in joint space is handed to MuJoCo as joint damping, which its
implicit integrators treat implicitly: a damper's force is added back to the
applied forces, so the force is unchanged and its integration stable; a
spring's stiffness K enters as damping h K, the implicit Euler step of the
spring (q' = q + h v'), which damps what an explicit step would amplify.
"""

from __future__ import annotations

import os
from typing import NamedTuple

import mujoco
import numpy as np

from osim.checks import check_action, positive_number
from osim.engines.base import (MAX_SPEED, Engine, ModelSpec, Scene, SimState, SimulationError,
                               obstacle_rows, warn_once)
from osim.engines.mujoco import kernels
from osim.engines.mujoco.build import MujocoBuild, build


INTEGRATORS = {
    "implicitfast": mujoco.mjtIntegrator.mjINT_IMPLICITFAST,
    "implicit": mujoco.mjtIntegrator.mjINT_IMPLICIT,
    "euler": mujoco.mjtIntegrator.mjINT_EULER,
}
# "equilibrium": the elastic tendon always in balance with the fiber, which moves
#   at the path's speed (`kernels.equilibrium_tendon`);
# "rigid": the tendon held at its slack length (activation the only state);
# "compliant": OpenSim's Thelen muscle (elastic tendon, fiber length a state).
TENDONS = ("equilibrium", "rigid", "compliant")
DEFAULT_TENDON = "equilibrium"
OPENSIM_INTEGRATORS = ("rk-merson", "rk-feldberg", "rk3", "rk2", "semi-explicit-euler",
                       "explicit-euler", "verlet", "cpodes")


class Preset(NamedTuple):
    """MuJoCo settings: the integrator (a key of `INTEGRATORS`) and its step (s)."""

    integrator: str
    timestep: float


# The presets share the OpenSim engine's names so that `preset=` means the same
# trade-off on both engines. The contact's stiffness is tied to the timestep
# (see `contact`): smaller steps, stiffer (closer to Hunt-Crossley) contact.
PRESETS = {
    "accurate": Preset("implicitfast", 0.001),
    "default": Preset("implicitfast", 0.005),
    "fast": Preset("implicitfast", 0.01),
}


class MuJoCoEngine(Engine):
    """An OpenSim model converted to MuJoCo, driven by one excitation per muscle.

    Args:
        model: an ``opensim.Model`` (read, not changed) or the path of an
            ``.osim`` file made of the elements the converter supports.
        step_size: control step in seconds; excitations are held over a step.
        preset: ``"accurate"`` (1 ms MuJoCo steps), ``"default"`` (5 ms) or
            ``"fast"`` (10 ms: one MuJoCo step per control step).
        integrator: a key of `INTEGRATORS`; default from the preset.
        timestep: MuJoCo's step (s), rounded down to divide ``step_size``;
            default from the preset, capped by ``max_step_size``.
        accuracy, restart_each_step, verbose: OpenSim's settings; accepted so
            that one env configuration runs on both engines. MuJoCo steps at a
            fixed timestep and always replays a snapshot bit for bit.
        visualize: open MuJoCo's viewer when a display exists.
        tendon: ``"equilibrium"`` (default: the elastic tendon in balance with
            the fiber at every step), ``"rigid"`` (no tendon stretch) or
            ``"compliant"`` (OpenSim's fiber-length state, in numpy: slower, and
            unstable at 5 ms steps); see the module's docstring.
        use_cache: keep fitted muscle paths on disk (see `build.path_cache_dir`).
    """

    name = "mujoco"

    @classmethod
    def from_spec(cls, spec: ModelSpec, *, muscle_model: str = "thelen2003",
                  **settings) -> MuJoCoEngine:
        from osim.engines.opensim.engine import model_from_spec

        if muscle_model != "thelen2003":
            raise ValueError(f"the MuJoCo engine runs Thelen 2003 muscles only, not {muscle_model!r}")
        return cls(model_from_spec(spec, muscle_model), **settings)  # __init__ takes its own copy

    def __init__(self, model, *, step_size: float = 0.01, preset: str = "default",
                 integrator: str | None = None, timestep: float | None = None,
                 accuracy: float | None = None, max_step_size: float | None = None,
                 restart_each_step: bool = True, visualize: bool = False,
                 verbose: bool = False, tendon: str = DEFAULT_TENDON, use_cache: bool = True):
        from osim.engines.opensim.engine import load_model

        if preset not in PRESETS:
            raise ValueError(f"unknown preset {preset!r}; choose one of {sorted(PRESETS)}")
        chosen = PRESETS[preset]
        self.preset = preset
        self.integrator = integrator or chosen.integrator
        if self.integrator in OPENSIM_INTEGRATORS:
            raise ValueError(f"integrator {self.integrator!r} is OpenSim's; the MuJoCo engine's "
                             f"are {sorted(INTEGRATORS)}")
        if self.integrator not in INTEGRATORS:
            raise ValueError(f"unknown integrator {self.integrator!r}; choose one of {sorted(INTEGRATORS)}")
        if tendon not in TENDONS:
            raise ValueError(f"unknown tendon {tendon!r}; choose one of {list(TENDONS)}")
        self.tendon = tendon
        if accuracy is not None:
            positive_number("accuracy", accuracy)
        self.step_size = positive_number("step_size", step_size)
        wanted = positive_number("timestep", timestep) if timestep is not None else chosen.timestep
        if max_step_size is not None:
            wanted = min(wanted, positive_number("max_step_size", max_step_size))
        self.substeps = max(1, int(np.ceil(self.step_size / wanted - 1e-9)))
        self.timestep = self.step_size / self.substeps

        self.opensim_model = load_model(model)  # our copy: the scene reads its geometry
        try:
            self.opensim_model.finalizeConnections()  # a copy's frames are not yet connected
        except Exception as err:  # noqa: BLE001  (OpenSim's errors arrive as RuntimeError)
            raise ValueError(f"OpenSim could not connect model "
                             f"{self.opensim_model.getName()!r}: {err}") from None
        self.built: MujocoBuild = build(self.opensim_model, self.timestep, use_cache=use_cache)
        b = self.built
        self.mj_model = b.mj_model
        self.mj_model.opt.integrator = INTEGRATORS[self.integrator]
        self.data = mujoco.MjData(self.mj_model)
        self._scratch = mujoco.MjData(self.mj_model)  # marker_position_at
        self.coordinate_names = list(b.coordinate_names)
        self.body_names = list(b.body_names)
        self.marker_names = list(b.marker_names)
        self.muscle_names = list(b.muscles.names)
        self._index()

        self._paths = kernels.CompiledPaths(b.paths)  # b.paths.evaluate, compiled
        self._muscle_table = kernels.muscle_table(b.muscles)
        self._limit_table, self._spring_table = kernels.force_tables(b.coordinate_forces)
        n = self.num_muscles
        self._rigid = _MuscleReadings(np.zeros(n), np.zeros(n), np.zeros(n), np.zeros(n))
        self._muscle_damping = np.zeros(n)
        self._generalized = np.zeros(len(self.coordinate_names))
        self._joint_damping = np.zeros(len(self.coordinate_names))
        self._joint_stiffness = np.zeros(len(self.coordinate_names))
        self._built_max_force = b.muscles.max_isometric_force.copy()
        self._obstacles: tuple = ()
        self._obstacle_slots = self._find_obstacle_slots()
        self._scene_layout = None
        self.viewer = self._open_viewer(visualize)

        self.excitations = np.zeros(self.num_muscles)
        self.activations = b.default_activations.copy()
        self.fiber_lengths_state = np.zeros(self.num_muscles)  # a state of compliant tendons only
        self.step_count = 0
        self.reset()

    # ------------------------------------------------------------------ set-up
    def _index(self) -> None:
        """Address arrays between OpenSim's names and MuJoCo's vectors."""
        sk, m = self.built.skeleton, self.mj_model
        coordinates = [sk.coordinates[name] for name in self.coordinate_names]
        self._free = np.array([i for i, c in enumerate(coordinates) if not c.locked], dtype=np.intp)
        self._qpos_address = np.array([coordinates[i].qpos_address for i in self._free], dtype=np.intp)
        self._dof_address = np.array([coordinates[i].dof_address for i in self._free], dtype=np.intp)
        self._scale = np.array([coordinates[i].scale for i in self._free])
        self._scale2 = self._scale ** 2
        self._default_q = np.array([c.default_value for c in coordinates])
        self._body_ids = np.array([m.body(sk.bodies[name]).id for name in self.body_names], dtype=np.intp)
        self._site_ids = {name: m.site(sk.markers[name]).id for name in self.marker_names}
        self._body_mass = m.body_mass[self._body_ids].copy()
        self._total_mass = float(self._body_mass.sum())
        self._n = len(self.coordinate_names)

    def _open_viewer(self, visualize: bool):
        if not visualize:
            return None
        if not os.environ.get("DISPLAY"):
            warn_once("visualize=True but no display is available (DISPLAY is unset): running headless")
            return None
        try:
            import mujoco.viewer

            return mujoco.viewer.launch_passive(self.mj_model, self.data)
        except Exception as err:  # noqa: BLE001  (any viewer failure: carry on headless)
            warn_once(f"MuJoCo's viewer failed ({err}): running headless")
            return None

    # ------------------------------------------------------------- stepping
    @property
    def time(self) -> float:
        return float(self.data.time)

    def reset(self, coordinates: dict[str, float] | None = None,
              speeds: dict[str, float] | None = None) -> None:
        """Back to time 0 at the default pose (or the given one), at rest unless
        ``speeds`` are given, activations at the muscles' defaults."""
        sk = self.built.skeleton
        for name in list(coordinates or {}) + list(speeds or {}):
            if name not in sk.coordinates:
                raise ValueError(f"no coordinate {name!r} in the model")
        mujoco.mj_resetData(self.mj_model, self.data)
        pose = {k: float(v) for k, v in (coordinates or {}).items()
                if not sk.coordinates[k].locked}
        sk.set_qpos(self.data.qpos, pose)
        sk.set_qvel(self.data.qvel, {k: float(v) for k, v in (speeds or {}).items()
                                     if not sk.coordinates[k].locked}, pose)
        self.activations = self.built.default_activations.copy()
        if self.tendon == "compliant":  # fibers at rest, balancing their tendons
            lengths, _ = self._paths.evaluate(self._q())
            self.fiber_lengths_state = self.built.muscles.equilibrium(self.activations, lengths)

        self.set_excitations(np.zeros(self.num_muscles))
        self.step_count = 0
        self._speeds_checked = False
        self._settle()
        self._show()

    def set_excitations(self, excitations) -> np.ndarray:
        values = np.minimum(np.maximum(check_action(excitations, self.num_muscles, "excitations"),
                                       0.0), 1.0)
        self.excitations = values
        return values

    def step(self, excitations) -> None:
        """Hold ``excitations`` for one control step (``substeps`` MuJoCo steps).

        Raises:
            ValueError: excitations of the wrong shape, or NaN/inf.
            SimulationError: the state diverged; the state is left as it was.
        """
        u = self.set_excitations(excitations)
        before = self.get_state()
        if not self._speeds_checked:  # a state set from outside (reset, set_state)
            self._check_speeds(self.data.qvel, "at")
        m, d = self.mj_model, self.data
        integrate = mujoco.mj_Euler if self.integrator == "euler" else mujoco.mj_implicit
        h = self.timestep
        with np.errstate(all="ignore"):
            for _ in range(self.substeps):
                integrate(m, d)
                q = self._q()
                paths = self._paths.evaluate(q)
                if self.tendon == "compliant":
                    self.fiber_lengths_state = self._advance_fibers(paths[0], u, h)
                self.activations = self._advance_activations(self.activations, u, h)
                self._settle(q, paths)
        bad = not (np.isfinite(d.qpos).all() and np.isfinite(d.qvel).all())
        if bad or np.abs(d.qvel).max(initial=0.0) > MAX_SPEED:
            qvel = d.qvel.copy()
            self.set_state(before)  # the step never happened
            if bad:
                raise SimulationError(f"non-finite state after t={self.time + self.step_size:.3f}s")
            self._raise_diverged(qvel, "after")
        self._speeds_checked = True
        self.step_count += 1
        self._show()

    def _advance_activations(self, a, u, dt):
        """Activation after ``dt`` at constant excitation ``u``: Thelen's
        first-order law by one classical Runge-Kutta step (its fastest time
        constant, 5 ms, is within the method's stable range at 5 ms steps)."""
        out = np.empty_like(a)
        kernels.rk4_activations(self._muscle_table, a, u, dt, out)
        return out

    def _check_speeds(self, qvel, when: str) -> None:
        if qvel.size and np.abs(qvel).max() > MAX_SPEED:
            self._raise_diverged(qvel, when)

    def _raise_diverged(self, qvel, when: str) -> None:
        speeds = np.abs(qvel[self._dof_address] / self._scale)
        name = self.coordinate_names[self._free[int(np.argmax(speeds))]]
        raise SimulationError(f"simulation diverged {when} t={self.time:.3f}s: {name} moves at "
                              f"{speeds.max():.3g} (rad or m)/s, beyond {MAX_SPEED:g}")

    def _settle(self, q=None, paths=None) -> None:
        """Forces at the current state, then ``mj_forward``: every reading and
        the next integration step use them. ``q``, ``paths``: the coordinates and
        the fitted lengths and moment arms at the current pose, if at hand."""
        if q is None:
            q = self._q()
        qdot = self._qdot()
        self._coordinates = q  # what coordinate_values() returns until the state changes
        b = self.built
        lengths, moment_arms = paths if paths is not None else self._paths.evaluate(q)
        if self.tendon != "compliant":
            # Muscles, their damping along the joints and the coordinate forces, compiled.
            muscle = self._rigid
            kernels.substep_forces(self._muscle_table, self.activations, lengths, moment_arms, q, qdot,
                                   self._limit_table, self._spring_table, *muscle,
                                   self._muscle_damping, self._generalized, self._joint_damping,
                                   self._joint_stiffness, self.tendon == "equilibrium")
            tau, added_back = self._generalized, self._joint_damping  # see the module's docstring
            damping = added_back + self.timestep * self._joint_stiffness
        else:
            dynamics = b.muscles.compliant_tendon(self.activations, self.fiber_lengths_state,
                                                  self.excitations, lengths)
            muscle = _MuscleReadings(self.fiber_lengths_state, dynamics.fiber_velocity,
                                     dynamics.fiber_force, dynamics.tendon_force)
            # The tendon's stiffness stays explicit: handing it to MuJoCo as implicit
            # damping (h K) damped the ARM's swing to 0.14 rad RMS off OpenSim's.
            damping = added_back = np.zeros(self._n)
            tau = muscle.tendon_force @ moment_arms
            if len(b.coordinate_forces):
                tau += b.coordinate_forces.generalized(q, qdot, self._n)
        free, dofs = self._free, self._dof_address
        m, d = self.mj_model, self.data
        m.dof_damping[dofs] = damping[free] / self._scale2  # the converter sets no joint damping
        d.qfrc_applied[dofs] = (tau[free] + added_back[free] * qdot[free]) / self._scale
        self._lengths, self._muscle = lengths, muscle
        self._accelerations_ready = False
        self._body_velocities = None
        mujoco.mj_forward(m, d)

    def _advance_fibers(self, lengths, u, h, relative_step=1e-7):
        """Fiber lengths after ``h`` at the musculotendon ``lengths`` reached:
        exponential Euler, exact for the linearised fiber dynamics, so stable
        however stiff (|d velocity / d length| reaches 1e4/s)."""
        muscles, lf = self.built.muscles, self.fiber_lengths_state
        a = self.activations
        velocity = muscles.compliant_tendon(a, lf, u, lengths).fiber_velocity
        delta = relative_step * muscles.optimal_fiber_length
        rate = (muscles.compliant_tendon(a, lf + delta, u, lengths).fiber_velocity - velocity) / delta
        z = np.minimum(rate * h, 0.0)  # growth is not integrated exponentially
        small = np.abs(z) < 1e-8
        factor = np.where(small, 1.0 + 0.5 * z, np.expm1(z) / np.where(small, 1.0, z))
        new = lf + h * factor * velocity
        return np.maximum(new, muscles.minimum_fiber_length)

    def _q(self) -> np.ndarray:
        q = self._default_q.copy()
        q[self._free] = self.data.qpos[self._qpos_address] / self._scale
        return q

    def _qdot(self) -> np.ndarray:
        qdot = np.zeros(self._n)
        qdot[self._free] = self.data.qvel[self._dof_address] / self._scale
        return qdot

    def _show(self) -> None:
        if self.viewer is not None:
            self.viewer.sync()

    # --------------------------------------------------------- save/restore
    def get_state(self) -> SimState:
        d = self.data
        y = np.concatenate([d.qpos, d.qvel, self.activations, self.fiber_lengths_state,
                            d.qacc_warmstart])
        return SimState(float(d.time), y, self.excitations.copy(), self.step_count)

    def set_state(self, snapshot: SimState) -> None:
        m, d = self.mj_model, self.data
        y = np.asarray(snapshot.y, dtype=float)
        sizes = (m.nq, m.nv, self.num_muscles, self.num_muscles, m.nv)
        if y.shape != (sum(sizes),):
            raise ValueError(f"a state of {y.shape} values; this engine's has {sum(sizes)} "
                             "(a snapshot of another model or engine?)")
        parts = np.split(y, np.cumsum(sizes)[:-1])
        d.time = snapshot.time
        d.qpos[:], d.qvel[:], d.qacc_warmstart[:] = parts[0], parts[1], parts[4]
        self.activations = parts[2].copy()
        self.fiber_lengths_state = parts[3].copy()
        self.set_excitations(snapshot.excitations)
        self.step_count = snapshot.step_count
        self._speeds_checked = False
        self._settle()
        self._show()

    # ------------------------------------------------------- model changes
    def _apply_model_changes(self) -> None:
        self._settle()  # the forces at the current state, with the changed model

    def muscle_strengths(self) -> np.ndarray:
        return self.built.muscles.max_isometric_force / self._built_max_force

    def _set_muscle_strength(self, strength: dict[str, float]) -> bool:
        forces = self.built.muscles.max_isometric_force
        changed = False
        for name, factor in strength.items():
            if name not in self.muscle_names:
                raise ValueError(f"no muscle {name!r} in the model")
            i = self.muscle_names.index(name)
            value = self._built_max_force[i] * float(factor)
            if forces[i] != value:
                forces[i] = value
                changed = True
        self._muscle_table[kernels.FMAX] = forces
        return changed

    def _find_obstacle_slots(self) -> list[list[tuple[str, float]]]:
        """Per obstacle slot: (geom name, z of the foot sphere it meets)."""
        from osim.models.builder import parse_obstacle_name

        sk = self.built.skeleton
        mujoco.mj_kinematics(self.mj_model, self._scratch)
        slots: dict[int, list] = {}
        for name in sk.spheres:
            parsed = parse_obstacle_name(name)
            if parsed is None:
                continue
            foot = self._scratch.geom_xpos[self.mj_model.geom(sk.spheres[parsed[1]].geom).id]
            slots.setdefault(parsed[0], []).append((name, float(foot[2])))
        return [slots[i] for i in sorted(slots)]

    def _place_obstacles(self, rows) -> bool:
        from osim.engines.mujoco.contact import configure_contacts
        from osim.models.builder import OBSTACLE_PARKED

        rows = obstacle_rows(rows, len(self._obstacle_slots))
        if rows == self._obstacles:
            return False
        m, sk = self.mj_model, self.built.skeleton
        for i, slot in enumerate(self._obstacle_slots):
            x, y, r = rows[i] if i < len(rows) else OBSTACLE_PARKED
            for name, z in slot:
                g = m.geom(sk.spheres[name].geom).id
                m.geom_pos[g] = (x, y, z)
                m.geom_size[g, 0] = r
                m.geom_rbound[g] = r
                m.geom_aabb[g, 3:] = r
                sk.spheres[name].radius = r
                sk.spheres[name].center = np.array([x, y, z])
        # Contact parameters depend on the sphere's radius: fit them again.
        self.built.contacts = configure_contacts(sk, m)
        self._obstacles = rows
        return True

    # ------------------------------------------------------ model structure
    def default_coordinates(self) -> dict[str, float]:
        sk = self.built.skeleton
        return {name: sk.coordinates[name].default_value for name in self.coordinate_names
                if not sk.coordinates[name].locked}

    def coordinate_types(self) -> list[str]:
        return list(self.built.coordinate_types)

    def joint_coordinates(self) -> dict[str, list[str]]:
        return {k: list(v) for k, v in self.built.joint_coordinates.items()}

    def body_masses(self) -> np.ndarray:
        return self._body_mass.copy()

    def max_isometric_forces(self) -> np.ndarray:
        return self.built.muscles.max_isometric_force.copy()

    def optimal_fiber_lengths(self) -> np.ndarray:
        return self.built.muscles.optimal_fiber_length.copy()

    # ------------------------------------------------------------- readings
    def coordinate_values(self) -> np.ndarray:
        return self._coordinates.copy()

    def coordinate_speeds(self) -> np.ndarray:
        return self._qdot()

    def coordinate_accelerations(self) -> np.ndarray:
        qacc = np.zeros(self._n)
        qacc[self._free] = self.data.qacc[self._dof_address] / self._scale
        return qacc

    def body_positions(self) -> np.ndarray:
        return self.data.xpos[self._body_ids].copy()

    def body_position(self, name: str) -> np.ndarray:
        return self.data.xpos[self._body_ids[self.body_names.index(name)]].copy()

    def _point_velocities(self, points: np.ndarray, bodies: np.ndarray) -> np.ndarray:
        """Linear velocities of body-fixed ``points`` (ground frame) on MuJoCo ``bodies``."""
        d, m = self.data, self.mj_model
        cvel = d.cvel[bodies]
        offset = points - d.subtree_com[m.body_rootid[bodies]]
        return cvel[:, 3:] + _cross(cvel[:, :3], offset)

    def _point_accelerations(self, points: np.ndarray, bodies: np.ndarray) -> np.ndarray:
        """Classical accelerations of body-fixed ``points`` on MuJoCo ``bodies``."""
        self._ensure_accelerations()
        d, m = self.data, self.mj_model
        cacc = d.cacc[bodies]
        offset = points - d.subtree_com[m.body_rootid[bodies]]
        velocity = self._point_velocities(points, bodies)
        # MuJoCo's cacc counts gravity as an upward acceleration of the world.
        return (cacc[:, 3:] + _cross(cacc[:, :3], offset)
                + _cross(d.cvel[bodies, :3], velocity) + m.opt.gravity)

    def _ensure_accelerations(self) -> None:
        if not self._accelerations_ready:
            mujoco.mj_rnePostConstraint(self.mj_model, self.data)
            self._accelerations_ready = True

    def body_velocities(self) -> np.ndarray:
        if self._body_velocities is None:  # observations and rewards both ask: once per state
            self._body_velocities = self._point_velocities(self.data.xpos[self._body_ids],
                                                           self._body_ids)
        return self._body_velocities.copy()

    def body_accelerations(self) -> np.ndarray:
        return self._point_accelerations(self.data.xpos[self._body_ids], self._body_ids)

    def body_orientations(self) -> np.ndarray:
        r = self.data.xmat[self._body_ids].reshape(-1, 3, 3)
        # R = Rx(a) Ry(b) Rz(c), body-fixed X-Y-Z (Simbody's convertRotationToBodyFixedXYZ)
        b = np.arcsin(np.clip(r[:, 0, 2], -1.0, 1.0))
        a = np.arctan2(-r[:, 1, 2], r[:, 2, 2])
        c = np.arctan2(-r[:, 0, 1], r[:, 0, 0])
        return np.stack([a, b, c], axis=1)

    def body_angular_velocities(self) -> np.ndarray:
        return self.data.cvel[self._body_ids, :3].copy()

    def body_angular_accelerations(self) -> np.ndarray:
        self._ensure_accelerations()
        return self.data.cacc[self._body_ids, :3].copy()

    def marker_position(self, name: str) -> np.ndarray:
        if name not in self._site_ids:
            raise ValueError(f"no marker {name!r} in the model")
        return self.data.site_xpos[self._site_ids[name]].copy()

    def marker_position_at(self, name: str, coordinates: dict[str, float]) -> np.ndarray:
        if name not in self._site_ids:
            raise ValueError(f"no marker {name!r} in the model")
        sk, scratch = self.built.skeleton, self._scratch
        scratch.qpos[:] = self.data.qpos
        current = sk.coordinates_from_qpos(self.data.qpos)
        pose = {k: v for k, v in (current | dict(coordinates)).items() if not sk.coordinates[k].locked}
        sk.set_qpos(scratch.qpos, pose)
        mujoco.mj_kinematics(self.mj_model, scratch)
        return scratch.site_xpos[self._site_ids[name]].copy()

    def _marker_kinematics(self):
        sites = np.array(list(self._site_ids.values()), dtype=np.intp)
        bodies = self.mj_model.site_bodyid[sites]
        points = self.data.site_xpos[sites]
        return points, self._point_velocities(points, bodies), self._point_accelerations(points, bodies)

    def center_of_mass_position(self) -> np.ndarray:
        return self._body_mass @ self.data.xipos[self._body_ids] / self._total_mass

    def center_of_mass_velocity(self) -> np.ndarray:
        mujoco.mj_subtreeVel(self.mj_model, self.data)  # the world's subtree: the whole model
        return self.data.subtree_linvel[0].copy()

    def center_of_mass_acceleration(self) -> np.ndarray:
        a = self._point_accelerations(self.data.xipos[self._body_ids], self._body_ids)
        return self._body_mass @ a / self._total_mass

    def ground_reaction_forces(self) -> dict[str, np.ndarray]:
        return self.built.contacts.ground_reaction_forces(self.mj_model, self.data)

    def coordinate_limit_forces(self, names) -> np.ndarray:
        forces = self.built.coordinate_forces
        for name in names:
            if name not in forces.names or forces.kinds[forces.names.index(name)] != "limit":
                raise ValueError(f"{name!r} is not a CoordinateLimitForce of the model")
        values = forces.forces(self._q(), self._qdot())
        return np.array([values[forces.names.index(name)] for name in names])

    def muscle_activations(self) -> np.ndarray:
        return self.built.muscles.clamp_activation(self.activations)

    def fiber_lengths(self) -> np.ndarray:
        return self._muscle.fiber_length.copy()

    def fiber_velocities(self) -> np.ndarray:
        return self._muscle.fiber_velocity.copy()

    def fiber_forces(self) -> np.ndarray:
        return self._muscle.fiber_force.copy()

    def tendon_forces(self) -> np.ndarray:
        """Each muscle's tension along its path (N)."""
        return self._muscle.tendon_force.copy()

    def musculotendon_lengths(self) -> np.ndarray:
        return self._lengths.copy()

    def state_dict(self) -> dict:
        """Everything, in the 2017-2019 osim-rl ``get_state_desc()`` layout,
        from the engine's arrays. ``forces``: each muscle's tension, each
        coordinate force's value (and a limit's stored energy), and per contact
        force the force and torque on the ground, then on each body it touches
        (torques about each body's origin, ground frame), as OpenSim records them."""
        q, qdot, qacc = self.coordinate_values(), self.coordinate_speeds(), self.coordinate_accelerations()
        index = {name: i for i, name in enumerate(self.coordinate_names)}
        desc: dict = {key: {} for key in (
            "joint_pos", "joint_vel", "joint_acc", "body_pos", "body_vel", "body_acc",
            "body_pos_rot", "body_vel_rot", "body_acc_rot", "forces", "muscles", "markers")}
        for joint, names in self.built.joint_coordinates.items():
            desc["joint_pos"][joint] = [float(q[index[n]]) for n in names]
            desc["joint_vel"][joint] = [float(qdot[index[n]]) for n in names]
            desc["joint_acc"][joint] = [float(qacc[index[n]]) for n in names]
        readings = zip(self.body_names, self.body_positions(), self.body_orientations(),
                       self.body_velocities(), self.body_angular_velocities(),
                       self.body_accelerations(), self.body_angular_accelerations())
        for name, pos, rot, vel, vel_rot, acc, acc_rot in readings:
            desc["body_pos"][name], desc["body_pos_rot"][name] = list(pos), list(rot)
            desc["body_vel"][name], desc["body_vel_rot"][name] = list(vel), list(vel_rot)
            desc["body_acc"][name], desc["body_acc_rot"][name] = list(acc), list(acc_rot)
        desc["forces"] = self._force_records(q, qdot)
        for i, name in enumerate(self.muscle_names):
            desc["muscles"][name] = {
                "activation": float(self.muscle_activations()[i]),
                "fiber_length": float(self._muscle.fiber_length[i]),
                "fiber_velocity": float(self._muscle.fiber_velocity[i]),
                "fiber_force": float(self._muscle.fiber_force[i]),
            }
        points, velocities, accelerations = self._marker_kinematics()
        for name, p, v, a in zip(self._site_ids, points, velocities, accelerations):
            desc["markers"][name] = {"pos": list(p), "vel": list(v), "acc": list(a)}
        desc["misc"] = {
            "mass_center_pos": list(self.center_of_mass_position()),
            "mass_center_vel": list(self.center_of_mass_velocity()),
            "mass_center_acc": list(self.center_of_mass_acceleration()),
        }
        return desc

    def _force_records(self, q, qdot) -> dict[str, list[float]]:
        records: dict[str, list[float]] = {}
        tension = self._muscle.tendon_force
        for i, name in enumerate(self.muscle_names):
            records[name] = [float(tension[i])]
        coordinate_forces = self.built.coordinate_forces
        values = coordinate_forces.forces(q, qdot)
        energy = coordinate_forces.potential_energy(q)
        for i, name in enumerate(coordinate_forces.names):
            records[name] = ([float(values[i]), float(energy[i])]
                             if coordinate_forces.kinds[i] == "limit" else [float(values[i])])
        records.update(self._contact_records())
        return {name: records[name] for name in self.built.record_labels if name in records}

    def _contact_records(self) -> dict[str, list[float]]:
        """Per contact force: force and torque on ground, then on each body it touches."""
        m, d, sk = self.mj_model, self.data, self.built.skeleton
        records = {}
        for contact in sk.contacts:
            bodies = list(dict.fromkeys(
                "ground" if sk.spheres.get(g) is None or sk.spheres[g].body == "world"
                else sk.spheres[g].body for g in contact.geometry))
            bodies = ["ground"] + [b for b in bodies if b != "ground"]
            wrench = {b: np.zeros(6) for b in bodies}
            geoms = {m.geom(sk.spheres[g].geom if g in sk.spheres else sk.planes[g].geom).id
                     for g in contact.geometry}
            for k in range(d.ncon):
                c = d.contact[k]
                if c.geom1 not in geoms or c.geom2 not in geoms or c.efc_address < 0:
                    continue
                local = d.efc_force[c.efc_address:c.efc_address + 3]
                on_geom2 = local @ c.frame.reshape(3, 3)  # geom1's force on geom2
                for g, force in ((c.geom2, on_geom2), (c.geom1, -on_geom2)):
                    body_id = m.geom_bodyid[g]
                    name = "ground" if body_id == 0 else m.body(body_id).name
                    origin = d.xpos[body_id]
                    wrench[name][:3] += force
                    wrench[name][3:] += np.cross(c.pos - origin, force)
            values = []
            for b in bodies:
                values += [*wrench[b][:3], *wrench[b][3:]]
            records[contact.force] = [float(v) for v in values]
        return records

    # -------------------------------------------------------------- drawing
    def scene(self, default_pose: bool = False) -> Scene:
        from osim.engines.mujoco.scene import SceneLayout, draw

        if self._scene_layout is None:
            self._scene_layout = SceneLayout.of(self.opensim_model, self.built.skeleton, self.mj_model)
        if not default_pose:
            return draw(self._scene_layout, self.mj_model, self.data, self.muscle_activations())
        scratch = self._scratch
        scratch.qpos[:] = 0.0
        mujoco.mj_resetData(self.mj_model, scratch)
        self.built.skeleton.set_qpos(scratch.qpos)
        mujoco.mj_kinematics(self.mj_model, scratch)
        return draw(self._scene_layout, self.mj_model, scratch, np.zeros(self.num_muscles))

    def close(self) -> None:
        if self.viewer is not None:
            self.viewer.close()
            self.viewer = None


def _cross(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise cross products of (n, 3) arrays (np.cross costs 10x more on a few rows)."""
    a0, a1, a2 = a[:, 0], a[:, 1], a[:, 2]
    b0, b1, b2 = b[:, 0], b[:, 1], b[:, 2]
    return np.stack([a1 * b2 - a2 * b1, a2 * b0 - a0 * b2, a0 * b1 - a1 * b0], axis=1)


class _MuscleReadings(NamedTuple):
    fiber_length: np.ndarray
    fiber_velocity: np.ndarray
    fiber_force: np.ndarray
    tendon_force: np.ndarray




__all__ = ["DEFAULT_TENDON", "INTEGRATORS", "MuJoCoEngine", "PRESETS", "Preset", "TENDONS"]

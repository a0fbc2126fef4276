"""One OpenSim model under muscle control, integrated in fixed control steps.

`OpenSimEngine` owns the OpenSim ``Model``, its ``State`` and one reused
``Manager``. It knows nothing of tasks, rewards or Gymnasium: it sets muscle
excitations, integrates, saves and restores states, and reads what a task may
want to observe, as numpy arrays wherever the engine allows (the
`osim.engines.Engine` interface).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import NamedTuple

import numpy as np
import opensim

from osim.checks import check_action, positive_number
from osim.engines.base import (MAX_SPEED, Engine, ModelSpec, Scene, SimState, SimulationError,
                               obstacle_rows, warn_once)
from osim.engines.opensim.logging import quiet_opensim

# Integrators a user can choose, by the names we accept.
INTEGRATORS = {
    "rk-merson": opensim.Manager.IntegratorMethod_RungeKuttaMerson,
    "rk-feldberg": opensim.Manager.IntegratorMethod_RungeKuttaFeldberg,
    "rk3": opensim.Manager.IntegratorMethod_RungeKutta3,
    "rk2": opensim.Manager.IntegratorMethod_RungeKutta2,
    "semi-explicit-euler": opensim.Manager.IntegratorMethod_SemiExplicitEuler2,
    "explicit-euler": opensim.Manager.IntegratorMethod_ExplicitEuler,
    "verlet": opensim.Manager.IntegratorMethod_Verlet,
    "cpodes": opensim.Manager.IntegratorMethod_CPodes,
}


class Preset(NamedTuple):
    """Integrator settings: method (a key of `INTEGRATORS`), accuracy, and an
    optional cap on the integrator's internal step (seconds)."""

    integrator: str
    accuracy: float
    max_step_size: float | None = None


# Named integrator settings. Every step restarts the integrator (see
# `OpenSimEngine`), so these hold for replays too. How many derivative evaluations
# a 10 ms step needs is set by stiffness (foot contact, mostly its friction), not by the
# accuracy: below ~1e-4 accuracy costs little, while a cap on the internal step
# keeps the explicit integrators off the stiff edge (fewer rejected steps).
#   accurate  the 2017-2019 osim-rl setting (RK-Merson, 5e-5), for comparison.
#             No bound: on the ARM it settles on another branch of the
#             trajectory (1e-2 rad RMS off the reference over 1 s).
#   default   RK-Merson at 1e-5, internal steps <= 2 ms: about the original's
#             steps/s, a smaller error than the original everywhere (HUMAN
#             2e-7, ARM 4e-7, Prosthetics 2e-7 rad). RK3 at 3e-5 was ~15%
#             faster on HUMAN but, like the original, lands 1e-2 rad off on
#             the ARM without joint stops (its elbow hyperextends).
#   fast      semi-explicit Euler at 1e-2, internal steps <= 1 ms: ~2.5-3x the
#             original's steps/s on HUMAN and Prosthetics, ~2e-4 rad (without
#             the cap: up to 1.3e-3 on Prosthetics and 6e-3 on the ARM); 3e-3
#             on the ARM without joint stops.
# Tried and not better on HUMAN: RK2, RK3, RK-Feldberg, Verlet, explicit Euler
# (2.5e-3 rad), fixed steps (unstable above 1 ms), CPodes (implicit; restarting
# rebuilds its Jacobian, and even running on it is no faster than "fast").
PRESETS = {
    "accurate": Preset("rk-merson", 5e-5),
    "default": Preset("rk-merson", 1e-5, 2e-3),
    "fast": Preset("semi-explicit-euler", 1e-2, 1e-3),
}
# Documented error bounds (rad or m): the coordinate RMS error against an
# accuracy-1e-8 run, at any step of 1 s of smooth excitations (the pattern of
# benchmarks/speed.py) on the ARM (with joint stops, as the Arm task builds it;
# without them "fast" reaches 3e-3), HUMAN and Prosthetics models. Checked by
# tests/test_presets.py on shorter runs. "accurate" documents none (see above).
PRESET_ERROR_BOUNDS = {"default": 1e-5, "fast": 1e-3}


# Force elements whose first three record values are the force on the ground.
CONTACT_FORCES = ("HuntCrossleyForce", "ElasticFoundationForce")
# Smallest internal integrator step, s (see `OpenSimEngine._new_manager`).
MIN_STEP_SIZE = 1e-7


def model_from_spec(spec: ModelSpec, muscle_model: str = "thelen2003") -> opensim.Model | str:
    """The OpenSim model a spec names: built from its tables, or a user file's
    path (loaded by `OpenSimEngine` as it is, with its own muscles)."""
    if spec.path is not None:
        return str(spec.path)
    from osim.models import build_model

    return build_model(spec.name, muscle_model=muscle_model, **spec.options)


def load_model(model: opensim.Model | str | os.PathLike) -> opensim.Model:
    """A private copy of ``model``, or the model read from an ``.osim`` path."""
    if isinstance(model, opensim.Model):
        return opensim.Model(model)
    path = Path(model)
    if not path.is_file():
        raise FileNotFoundError(f"model file not found: {path}")
    try:
        loaded = opensim.Model(str(path))
    except Exception as err:  # noqa: BLE001  (the engine's parse errors arrive as RuntimeError)
        raise ValueError(f"could not load OpenSim model {path}: {_first_line(err)}") from None
    return loaded


def _first_line(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    return text[-1] if text else type(err).__name__


class OpenSimEngine(Engine):
    """An OpenSim model driven by one excitation per muscle, stepped at a fixed rate.

    Args:
        model: an ``opensim.Model`` (copied) or the path of an ``.osim`` file.
        step_size: control step in seconds; excitations are held over a step.
        integrator: a key of `INTEGRATORS`; default from the "default" preset.
        accuracy: integrator accuracy; default from the preset.
        max_step_size: cap on the integrator's internal step (s); default from
            the preset when ``integrator`` is not given, else no cap.
        preset: name in `PRESETS` (``"accurate"``, ``"default"``, ``"fast"``):
            integrator settings, each overridden by the arguments above.
        restart_each_step: start the integrator afresh at every step (default).
            ``False`` lets it run on from one step to the next, keeping its step
            size: 1.1x (default preset) to 1.3x (fast) the steps/s on HUMAN, but
            the next state then also depends on the integrator's history, so a
            restored snapshot replays only to within the integrator's accuracy.
        visualize: open the Simbody visualizer when a display exists.
        verbose: let OpenSim print its log lines.

    By default every step starts the integrator afresh from the current state,
    so the next state depends only on the state and the excitations: a restored
    snapshot replays the same trajectory bit for bit.
    """

    name = "opensim"

    @classmethod
    def from_spec(cls, spec: ModelSpec, *, muscle_model: str = "thelen2003",
                  **settings) -> OpenSimEngine:
        return cls(model_from_spec(spec, muscle_model), **settings)

    def __init__(
        self,
        model: opensim.Model | str | os.PathLike,
        *,
        step_size: float = 0.01,
        integrator: str | None = None,
        accuracy: float | None = None,
        max_step_size: float | None = None,
        preset: str = "default",
        restart_each_step: bool = True,
        visualize: bool = False,
        verbose: bool = False,
    ):
        quiet_opensim(verbose)
        if preset not in PRESETS:
            raise ValueError(f"unknown preset {preset!r}; choose one of {sorted(PRESETS)}")
        chosen = PRESETS[preset]
        self.preset = preset
        self.integrator = integrator or chosen.integrator
        if self.integrator not in INTEGRATORS:
            raise ValueError(
                f"unknown integrator {self.integrator!r}; choose one of {sorted(INTEGRATORS)}"
            )
        self.accuracy = positive_number(
            "accuracy", accuracy if accuracy is not None else chosen.accuracy)
        if max_step_size is None and integrator is None:
            max_step_size = chosen.max_step_size
        self.max_step_size = (None if max_step_size is None
                              else positive_number("max_step_size", max_step_size))
        self.step_size = positive_number("step_size", step_size)

        self.model = load_model(model)
        self.muscles = list(self.model.getMuscles())
        self.muscle_names = [m.getName() for m in self.muscles]
        if not self.muscles:
            raise ValueError(f"model {self.model.getName()!r} has no muscles to control")
        self._add_controller()
        self.visualize = self._setup_visualizer(visualize)
        self._initial_state = opensim.State(self._init_system())
        self._find_control_functions()

        self.coordinates = list(self.model.getCoordinateSet())
        self.coordinate_names = [c.getName() for c in self.coordinates]
        self.bodies = list(self.model.getBodySet())
        self.body_names = [b.getName() for b in self.bodies]
        self.markers = list(self.model.getMarkerSet())
        self.marker_names = [m.getName() for m in self.markers]
        self._index_state_variables()

        self.restart_each_step = bool(restart_each_step)
        self._manager = self._new_manager()
        self._checked_state: opensim.State | None = None  # the last state step() produced
        self._running_from: tuple[opensim.State, float, np.ndarray] | None = None

        self.excitations = np.zeros(len(self.muscles))
        self.step_count = 0
        self.state = opensim.State(self._initial_state)
        self.reset()

        # What adjust_model changes, as built.
        self._built_max_force = self.max_isometric_forces()
        self._obstacle_slots = self._find_obstacle_slots()
        self._obstacles: tuple = ()  # rows placed; the slots are built parked
        self._limit_forces: dict[str, opensim.CoordinateLimitForce] = {}
        self._contact_forces = [f for f in self.model.getForceSet()
                                if f.getConcreteClassName() in CONTACT_FORCES]
        self._scene_geometry = None  # read on the first scene()

    def reinitialize(self) -> None:
        """Rebuild the engine's system after a model property change (a muscle's
        max isometric force, a contact geometry's radius or location), keeping
        the controller and the current state (time, Y, excitations, step count).

        Costs one ``initSystem`` (about 15 ms on HUMAN); the topology (bodies,
        coordinates, muscles) must be unchanged.
        """
        snapshot = self.get_state()
        self._initial_state = opensim.State(self._init_system())
        self._find_control_functions()
        self._index_state_variables()
        self._manager = self._new_manager()
        self._running_from = None
        self.set_state(snapshot)

    # ------------------------------------------------------------------ set-up
    def _add_controller(self) -> None:
        """One constant function per muscle, rewritten each step."""
        self._controller = opensim.PrescribedController()
        self._controller.setName("osim_rl_excitations")
        for muscle in self.muscles:
            function = opensim.Constant(0.0)
            function.setName(muscle.getName())
            self._controller.addActuator(muscle)
            self._controller.prescribeControlForActuator(muscle.getName(), function)
        self.model.addController(self._controller)

    def _find_control_functions(self) -> None:
        # The controller does not keep its functions in actuator order: find each
        # muscle's function by the name we gave it.
        functions = self._controller.get_ControlFunctions()
        by_name = {functions.get(i).getName(): opensim.Constant.safeDownCast(functions.get(i))
                   for i in range(functions.getSize())}
        self._control_functions = [by_name[name] for name in self.muscle_names]

    def _new_manager(self) -> opensim.Manager:
        manager = opensim.Manager(self.model)
        manager.setIntegratorMethod(INTEGRATORS[self.integrator])
        manager.setIntegratorAccuracy(self.accuracy)
        if self.max_step_size is not None:
            manager.setIntegratorMaximumStepSize(self.max_step_size)
        # A floor far below the ~0.5-1 ms steps that foot contact needs: a
        # state no integrator can follow (a body pushed deep into the ground) then
        # costs a second, not minutes, per step.
        manager.setIntegratorMinimumStepSize(MIN_STEP_SIZE)
        # Recording every state was the original project's leak and slowdown.
        manager.setWriteToStorage(False)
        manager.setPerformAnalyses(False)
        manager.setRecordStatesTrajectory(False)
        return manager

    def _setup_visualizer(self, visualize: bool) -> bool:
        if not visualize:
            return False
        if not os.environ.get("DISPLAY"):
            warn_once("visualize=True but no display is available (DISPLAY is unset): running headless")
            return False
        self.model.setUseVisualizer(True)
        return True

    def _init_system(self) -> opensim.State:
        try:
            return self.model.initSystem()
        except Exception as err:  # noqa: BLE001  (any engine failure: see below)
            if self.visualize:  # a display that the visualizer cannot use: carry on headless
                warn_once(f"the Simbody visualizer failed ({_first_line(err)}): running headless")
                self.visualize = False
                self.model.setUseVisualizer(False)
                return self._init_system()
            raise ValueError(
                f"OpenSim could not initialize model {self.model.getName()!r}: {_first_line(err)}"
            ) from None

    def _index_state_variables(self) -> None:
        """Map state-variable names to positions in the engine's Y vector.

        Reading ``state.getY()`` once as numpy is far cheaper than one call per
        variable, but Y is ordered by the engine's mobilizers, not by name: we
        find the permutation once by writing distinct values and reading Y.
        """
        names = self.model.getStateVariableNames()
        self.state_variable_names = [names.get(i) for i in range(names.getSize())]
        probe = opensim.State(self._initial_state)
        for coordinate in self.model.getCoordinateSet():
            coordinate.setLocked(probe, False)  # a locked one ignores writes; probe only
        marks = opensim.Vector(len(self.state_variable_names), 0.0)
        for i in range(marks.size()):
            marks.set(i, float(i + 1))
        self.model.setStateVariableValues(probe, marks)
        y = probe.getY().to_numpy()
        where = {round(v) - 1: j for j, v in enumerate(y) if v >= 1}
        self._y_index = {name: where[i] for i, name in enumerate(self.state_variable_names)}

        def indices(suffix: str, owners: list[str], prefix_of) -> np.ndarray:
            return np.array([self._y_index[f"{prefix_of(o)}/{suffix}"] for o in owners], dtype=int)

        coord_paths = {c.getName(): c.getAbsolutePathString() for c in self.coordinates}
        muscle_paths = {m.getName(): m.getAbsolutePathString() for m in self.muscles}
        self._q_idx = indices("value", self.coordinate_names, coord_paths.get)
        self._u_idx = indices("speed", self.coordinate_names, coord_paths.get)
        self._activation_idx = self._optional_indices("activation", muscle_paths)
        # The engine reports activation clamped to [minimum_activation, 1]; the raw
        # state can undershoot slightly between integrator steps.
        self._min_activation = np.array([
            m.get_minimum_activation() if hasattr(m, "get_minimum_activation") else 0.0
            for m in (_concrete(mu) for mu in self.muscles)])
        self._fiber_length_idx = self._optional_indices("fiber_length", muscle_paths)

    def _optional_indices(self, suffix: str, paths: dict[str, str]) -> np.ndarray | None:
        """Y indices of a muscle state, or None if some muscle lacks it (e.g. rigid tendon)."""
        keys = [f"{paths[name]}/{suffix}" for name in self.muscle_names]
        if all(k in self._y_index for k in keys):
            return np.array([self._y_index[k] for k in keys], dtype=int)
        return None

    # ------------------------------------------------------------- stepping
    @property
    def time(self) -> float:
        return self.state.getTime()

    @property
    def integrator_settings(self) -> Preset:
        """The settings in use, whether from a preset or given one by one."""
        return Preset(self.integrator, self.accuracy, self.max_step_size)

    def reset(self, coordinates: dict[str, float] | None = None,
              speeds: dict[str, float] | None = None) -> None:
        """Back to the model's default pose (or the given one), muscles in equilibrium."""
        self.state = opensim.State(self._initial_state)
        self.state.setTime(0.0)
        for name, value in (coordinates or {}).items():
            self.model.getCoordinateSet().get(name).setValue(self.state, float(value), False)
        for name, value in (speeds or {}).items():
            self.model.getCoordinateSet().get(name).setSpeedValue(self.state, float(value))
        if coordinates:
            self.model.assemble(self.state)
        self.set_excitations(np.zeros(self.num_muscles))
        try:
            self.model.equilibrateMuscles(self.state)
        except Exception as err:  # noqa: BLE001
            raise SimulationError(f"muscle equilibrium failed at reset: {_first_line(err)}") from None
        self.step_count = 0
        self._show()

    def set_excitations(self, excitations) -> np.ndarray:
        """Hold these excitations (clipped to [0, 1]) until they are set again."""
        values = np.clip(check_action(excitations, self.num_muscles, "excitations"), 0.0, 1.0)
        for function, value in zip(self._control_functions, values):
            function.setValue(float(value))
        self.excitations = values
        return values

    def step(self, excitations) -> None:
        """Hold ``excitations`` for one control step and integrate.

        Raises:
            ValueError: excitations of the wrong shape, or NaN/inf.
            SimulationError: the integrator failed; the state is left as it was.
        """
        self.set_excitations(excitations)
        target_time = (self.step_count + 1) * self.step_size
        if self.state is not self._checked_state:  # set from outside (reset, set_state)
            self._check_speeds(self.state.getY().to_numpy(), "at")
        try:
            if not self._integrator_is_at_current_state():
                self._manager.initialize(self.state)
            self._running_from = None  # until this step has succeeded
            new_state = self._manager.integrate(target_time)
        except Exception as err:  # noqa: BLE001  (any integrator failure)
            # self.state is our own copy: a failed integration never touched it
            raise SimulationError(f"integration failed at t={self.time:.3f}s: "
                                  f"{_first_line(err)}") from None
        y = new_state.getY().to_numpy()
        if not np.all(np.isfinite(y)):
            raise SimulationError(f"non-finite state after t={target_time:.3f}s")
        self._check_speeds(y, "after")
        self.state = self._checked_state = opensim.State(new_state)  # ours, not the manager's
        if not self.restart_each_step:
            self._running_from = (self.state, target_time, y.copy())
        self.step_count += 1
        self._show()

    def _check_speeds(self, y: np.ndarray, when: str) -> None:
        speeds = np.abs(y[self._u_idx])
        if speeds.size and speeds.max() > MAX_SPEED:
            name = self.coordinate_names[int(np.argmax(speeds))]
            raise SimulationError(
                f"simulation diverged {when} t={self.time:.3f}s: {name} moves at "
                f"{speeds.max():.3g} (rad or m)/s, beyond {MAX_SPEED:g}")

    def _integrator_is_at_current_state(self) -> bool:
        """With ``restart_each_step=False``: may the integrator run on from where it
        stopped? Not if the state was replaced (reset, set_state) or edited since."""
        if self._running_from is None:
            return False
        state, time, y = self._running_from
        return (state is self.state and self.state.getTime() == time
                and np.array_equal(self.state.getY().to_numpy(), y))

    def _show(self) -> None:
        if self.visualize:
            self.model.getVisualizer().show(self.state)

    # --------------------------------------------------------- save/restore
    def get_state(self) -> SimState:
        return SimState(self.time, self.state.getY().to_numpy().copy(),
                        self.excitations.copy(), self.step_count)

    def set_state(self, snapshot: SimState) -> None:
        state = opensim.State(self._initial_state)
        state.setTime(snapshot.time)
        state.setY(opensim.Vector.createFromMat(np.asarray(snapshot.y, dtype=np.float64)))
        self.state = state
        self.set_excitations(snapshot.excitations)
        self.step_count = snapshot.step_count
        self.model.realizeVelocity(self.state)
        self._show()

    # ------------------------------------------------------------- readings
    def _y(self) -> np.ndarray:
        return self.state.getY().to_numpy()

    def coordinate_values(self) -> np.ndarray:
        """Generalized coordinates (rad or m) in `coordinate_names` order."""
        return self._y()[self._q_idx]

    def coordinate_speeds(self) -> np.ndarray:
        return self._y()[self._u_idx]

    def coordinate_accelerations(self) -> np.ndarray:
        self.model.realizeAcceleration(self.state)
        return np.array([c.getAccelerationValue(self.state) for c in self.coordinates])

    def muscle_activations(self) -> np.ndarray:
        if self._activation_idx is not None:
            return np.clip(self._y()[self._activation_idx], self._min_activation, 1.0)
        self.model.realizeDynamics(self.state)
        return np.array([m.getActivation(self.state) for m in self.muscles])

    def fiber_lengths(self) -> np.ndarray:
        if self._fiber_length_idx is not None:
            return self._y()[self._fiber_length_idx]
        self.model.realizeVelocity(self.state)
        return np.array([m.getFiberLength(self.state) for m in self.muscles])

    def fiber_velocities(self) -> np.ndarray:
        self.model.realizeVelocity(self.state)
        return np.array([m.getFiberVelocity(self.state) for m in self.muscles])

    def fiber_forces(self) -> np.ndarray:
        self.model.realizeDynamics(self.state)
        return np.array([m.getFiberForce(self.state) for m in self.muscles])

    def body_positions(self) -> np.ndarray:
        """(n_bodies, 3) body-frame origins in ground, in `body_names` order."""
        self.model.realizePosition(self.state)
        return np.array([b.getPositionInGround(self.state).to_numpy() for b in self.bodies])

    def body_position(self, name: str) -> np.ndarray:
        self.model.realizePosition(self.state)
        return self.model.getBodySet().get(name).getPositionInGround(self.state).to_numpy()

    def body_velocities(self) -> np.ndarray:
        """(n_bodies, 3) linear velocities of the body-frame origins in ground."""
        self.model.realizeVelocity(self.state)
        return np.array([b.getLinearVelocityInGround(self.state).to_numpy() for b in self.bodies])

    def marker_position(self, name: str) -> np.ndarray:
        self.model.realizePosition(self.state)
        return self.model.getMarkerSet().get(name).getLocationInGround(self.state).to_numpy()

    def marker_position_at(self, name: str, coordinates: dict[str, float]) -> np.ndarray:
        """Where marker ``name`` would be in the given pose (the current state is untouched)."""
        scratch = opensim.State(self._initial_state)
        for coordinate, value in coordinates.items():
            self.model.getCoordinateSet().get(coordinate).setValue(scratch, float(value), False)
        self.model.realizePosition(scratch)
        return self.model.getMarkerSet().get(name).getLocationInGround(scratch).to_numpy()

    def center_of_mass_position(self) -> np.ndarray:
        self.model.realizePosition(self.state)
        return self.model.calcMassCenterPosition(self.state).to_numpy()

    def center_of_mass_velocity(self) -> np.ndarray:
        self.model.realizeVelocity(self.state)
        return self.model.calcMassCenterVelocity(self.state).to_numpy()

    def center_of_mass_acceleration(self) -> np.ndarray:
        self.model.realizeAcceleration(self.state)
        return self.model.calcMassCenterAcceleration(self.state).to_numpy()

    def joint_coordinates(self) -> dict[str, list[str]]:
        """Each joint's coordinate names, in the joint's order (model order of joints)."""
        return {joint.getName(): [joint.get_coordinates(i).getName()
                                  for i in range(joint.numCoordinates())]
                for joint in self.model.getJointSet()}

    def coordinate_limit_forces(self, names) -> np.ndarray:
        """Generalized forces (N m or N) of the named ``CoordinateLimitForce``s
        (ligaments, joint stops), in the order given."""
        cache = self._limit_forces
        for name in names:
            if name not in cache:
                forces = self.model.getForceSet()
                force = (opensim.CoordinateLimitForce.safeDownCast(forces.get(name))
                         if forces.contains(name) else None)
                if force is None:
                    raise ValueError(f"{name!r} is not a CoordinateLimitForce of the model")
                cache[name] = force
        self.model.realizeVelocity(self.state)
        return np.array([cache[name].calcLimitForce(self.state) for name in names])

    def state_dict(self) -> dict:
        """Everything, in the 2017-2019 osim-rl ``get_state_desc()`` layout.

        Slow (one engine call per element); tasks read the arrays above instead.
        """
        return full_state_dict(self.model, self.state)

    def body_accelerations(self) -> np.ndarray:
        self.model.realizeAcceleration(self.state)
        return np.array([b.getAccelerationInGround(self.state).get(1).to_numpy()
                         for b in self.bodies])

    def body_orientations(self) -> np.ndarray:
        self.model.realizePosition(self.state)
        return np.array([b.getTransformInGround(self.state).R()
                         .convertRotationToBodyFixedXYZ().to_numpy() for b in self.bodies])

    def body_angular_velocities(self) -> np.ndarray:
        self.model.realizeVelocity(self.state)
        return np.array([b.getVelocityInGround(self.state).get(0).to_numpy()
                         for b in self.bodies])

    def body_angular_accelerations(self) -> np.ndarray:
        self.model.realizeAcceleration(self.state)
        return np.array([b.getAccelerationInGround(self.state).get(0).to_numpy()
                         for b in self.bodies])

    def ground_reaction_forces(self) -> dict[str, np.ndarray]:
        self.model.realizeDynamics(self.state)
        forces = {}
        for force, ground in zip(self._contact_forces, self._ground_columns()):
            values = force.getRecordValues(self.state)
            # recorded per body, the ground's among them: the model feels the opposite
            forces[force.getName()] = -np.array([values.get(i) for i in range(ground, ground + 3)])
        return forces

    def _ground_columns(self) -> list[int]:
        """Where each contact force records its force on the ground: its bodies
        come in the order of its geometries (an obstacle's force lists the foot first)."""
        if getattr(self, "_ground_column_cache", None) is None:
            ground = self.model.getGround().getName()
            columns = []
            for force in self._contact_forces:
                labels = force.getRecordLabels()
                names = [labels.get(i) for i in range(labels.getSize())]
                columns.append(names.index(f"{force.getName()}.{ground}.force.X"))
            self._ground_column_cache = columns
        return self._ground_column_cache

    def musculotendon_lengths(self) -> np.ndarray:
        self.model.realizePosition(self.state)
        return np.array([m.getLength(self.state) for m in self.muscles])

    def body_masses(self) -> np.ndarray:
        return np.array([b.getMass() for b in self.bodies])

    def max_isometric_forces(self) -> np.ndarray:
        return np.array([m.getMaxIsometricForce() for m in self.muscles])

    def optimal_fiber_lengths(self) -> np.ndarray:
        return np.array([m.getOptimalFiberLength() for m in self.muscles])

    # ------------------------------------------------------ model structure
    def default_coordinates(self) -> dict[str, float]:
        return {c.getName(): c.getDefaultValue() for c in self.coordinates
                if not c.getDefaultLocked()}

    def coordinate_types(self) -> list[str]:
        kinds = {opensim.Coordinate.Rotational: "rotational",
                 opensim.Coordinate.Translational: "translational",
                 opensim.Coordinate.Coupled: "coupled"}
        return [kinds[c.getMotionType()] for c in self.coordinates]

    # -------------------------------------------------------- model changes
    def _apply_model_changes(self) -> None:
        self.reinitialize()  # properties changed: the system must be rebuilt

    def muscle_strengths(self) -> np.ndarray:
        return self.max_isometric_forces() / self._built_max_force

    def _find_obstacle_slots(self) -> list[list[tuple[str, float]]]:
        """Per obstacle slot: (geometry name, z of the foot sphere it meets)."""
        from osim.models.builder import parse_obstacle_name

        self.model.realizePosition(self.state)
        geometry = self.model.getContactGeometrySet()
        slots: dict[int, list] = {}
        for g in geometry:
            parsed = parse_obstacle_name(g.getName())
            if parsed is None:
                continue
            foot = geometry.get(parsed[1])
            # Planar model: a foot sphere's z in ground is the same in every pose.
            z = float(foot.getFrame().findStationLocationInGround(
                self.state, foot.get_location()).get(2))
            slots.setdefault(parsed[0], []).append((g.getName(), z))
        return [slots[i] for i in sorted(slots)]

    def _place_obstacles(self, rows) -> bool:
        from osim.models.builder import OBSTACLE_PARKED

        rows = obstacle_rows(rows, len(self._obstacle_slots))
        if rows == self._obstacles:
            return False
        geometry = self.model.getContactGeometrySet()
        for i, slot in enumerate(self._obstacle_slots):
            x, y, r = rows[i] if i < len(rows) else OBSTACLE_PARKED
            for name, z in slot:
                sphere = opensim.ContactSphere.safeDownCast(geometry.get(name))
                sphere.set_location(opensim.Vec3(x, y, z))
                sphere.setRadius(r)
        self._obstacles = rows
        return True

    def _set_muscle_strength(self, strength: dict[str, float]) -> bool:
        muscles = self.model.updMuscles()
        changed = False
        for name, factor in strength.items():
            if name not in self.muscle_names:
                raise ValueError(f"no muscle {name!r} in the model")
            force = self._built_max_force[self.muscle_names.index(name)] * float(factor)
            muscle = muscles.get(name)
            if muscle.getMaxIsometricForce() != force:
                muscle.setMaxIsometricForce(force)
                changed = True
        return changed

    # -------------------------------------------------------------- drawing
    def scene(self, default_pose: bool = False) -> Scene:
        from osim.engines.opensim.scene import ModelGeometry, read_scene

        if self._scene_geometry is None:
            self._scene_geometry = ModelGeometry.of(self.model)
        if not default_pose:
            return read_scene(self._scene_geometry, self.model, self.state,
                              self.muscle_activations())
        scratch = opensim.State(self.state)
        for coordinate in self.coordinates:
            if not coordinate.getLocked(scratch):
                coordinate.setValue(scratch, coordinate.getDefaultValue(), False)
        return read_scene(self._scene_geometry, self.model, scratch, np.zeros(self.num_muscles))

def full_state_dict(model: opensim.Model, s: opensim.State) -> dict:
    """Everything, in the 2017-2019 osim-rl ``get_state_desc()`` layout.

    Slow (one engine call per element); tasks read `OpenSimEngine` arrays instead.
    """
    model.realizeAcceleration(s)
    desc: dict = {key: {} for key in (
        "joint_pos", "joint_vel", "joint_acc", "body_pos", "body_vel", "body_acc",
        "body_pos_rot", "body_vel_rot", "body_acc_rot", "forces", "muscles", "markers")}
    for joint in model.getJointSet():
        coords = [joint.get_coordinates(i) for i in range(joint.numCoordinates())]
        name = joint.getName()
        desc["joint_pos"][name] = [c.getValue(s) for c in coords]
        desc["joint_vel"][name] = [c.getSpeedValue(s) for c in coords]
        desc["joint_acc"][name] = [c.getAccelerationValue(s) for c in coords]
    for body in model.getBodySet():
        name = body.getName()
        transform = body.getTransformInGround(s)
        velocity = body.getVelocityInGround(s)
        acceleration = body.getAccelerationInGround(s)
        desc["body_pos"][name] = list(transform.p().to_numpy())
        desc["body_pos_rot"][name] = list(transform.R().convertRotationToBodyFixedXYZ().to_numpy())
        desc["body_vel"][name] = list(velocity.get(1).to_numpy())
        desc["body_vel_rot"][name] = list(velocity.get(0).to_numpy())
        desc["body_acc"][name] = list(acceleration.get(1).to_numpy())
        desc["body_acc_rot"][name] = list(acceleration.get(0).to_numpy())
    for force in model.getForceSet():
        values = force.getRecordValues(s)
        desc["forces"][force.getName()] = [values.get(i) for i in range(values.size())]
    for muscle in model.getMuscles():
        desc["muscles"][muscle.getName()] = {
            "activation": muscle.getActivation(s),
            "fiber_length": muscle.getFiberLength(s),
            "fiber_velocity": muscle.getFiberVelocity(s),
            "fiber_force": muscle.getFiberForce(s),
        }
    for marker in model.getMarkerSet():
        desc["markers"][marker.getName()] = {
            "pos": list(marker.getLocationInGround(s).to_numpy()),
            "vel": list(marker.getVelocityInGround(s).to_numpy()),
            "acc": list(marker.getAccelerationInGround(s).to_numpy()),
        }
    desc["misc"] = {
        "mass_center_pos": list(model.calcMassCenterPosition(s).to_numpy()),
        "mass_center_vel": list(model.calcMassCenterVelocity(s).to_numpy()),
        "mass_center_acc": list(model.calcMassCenterAcceleration(s).to_numpy()),
    }
    return desc



def _concrete(muscle: opensim.Muscle):
    """The muscle as its own class (Thelen2003Muscle, ...), to reach its properties."""
    cls = getattr(opensim, muscle.getConcreteClassName(), None)
    return cls.safeDownCast(muscle) if cls is not None and hasattr(cls, "safeDownCast") else muscle


__all__ = [
    "INTEGRATORS",
    "PRESETS",
    "PRESET_ERROR_BOUNDS",
    "OpenSimEngine",
    "Preset",
    "full_state_dict",
    "load_model",
    "model_from_spec",
]

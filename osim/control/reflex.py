"""A reflex-based walking controller after Song & Geyer (2015), as adapted for
the Learn-to-Move 2019 challenge: a supraspinal layer that sets targets and
picks the swing leg, and a spinal layer per leg (a stance/swing state machine
and reflex laws per muscle). No neural delays: every law is evaluated once per
control step from the current state.

The controller reads its sensors from the engine (joint angles and speeds,
pelvis orientation and velocity, vertical ground reaction force per foot in
body weights, normalised fiber forces of RF, VAS, GAS and SOL), so it drives
any model with the nine sagittal leg muscles (and, in 3D, HAB/HAD):
`osim.tasks.L2M2019` and the planar HUMAN tasks.

Parameters are data: ``physical = raw * scale + offset`` with the raw values
(``raw = 1`` is nominal) in ``osim/control/params/<name>.json``, which also
states their provenance.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import numpy as np

DEG = math.pi / 180.0
PRESTIMULATION = 0.01
CONTACT_LOAD = 0.1  # body weights on a foot that count as contact

# (name, scale, offset) of each parameter, in the order of the raw vectors.
SPEC_2D: tuple[tuple[str, float, float], ...] = (
    ("theta_tgt", 10 * DEG, 0.0),
    ("c0", 20 * DEG, 55 * DEG),
    ("cv", 2 * DEG, 0.0),
    ("alpha_delta", 5 * DEG, 0.0),
    ("knee_sw_tgt", 20 * DEG, 120 * DEG),
    ("knee_tgt", 15 * DEG, 160 * DEG),
    ("knee_off_st", 10 * DEG, 165 * DEG),
    ("ankle_tgt", 20 * DEG, 60 * DEG),
    ("HFL_3_PG", 2.0, 0.0),
    ("HFL_3_DG", 1.0, 0.0),
    ("HFL_6_PG", 1.0, 0.0),
    ("HFL_6_DG", 0.1, 0.0),
    ("HFL_10_PG", 1.0, 0.0),
    ("GLU_3_PG", 2.0, 0.0),
    ("GLU_3_DG", 0.5, 0.0),
    ("GLU_6_PG", 1.0, 0.0),
    ("GLU_6_DG", 0.1, 0.0),
    ("GLU_10_PG", 0.5, 0.0),
    ("HAM_3_GLU", 1.0, 0.0),
    ("HAM_9_PG", 2.0, 0.0),
    ("RF_1_FG", 0.3, 0.0),
    ("RF_8_DG_knee", 0.1, 0.0),
    ("VAS_1_FG", 1.0, 0.0),
    ("VAS_2_PG", 2.0, 0.0),
    ("VAS_10_PG", 0.3, 0.0),
    ("BFSH_2_PG", 2.0, 0.0),
    ("BFSH_7_DG_alpha", 0.2, 0.0),
    ("BFSH_7_PG", 2.0, 0.0),
    ("BFSH_8_DG", 1.0, 0.0),
    ("BFSH_8_PG", 1.0, 0.0),
    ("BFSH_9_G_HAM", 2.0, 0.0),
    ("BFSH_9_HAM0", 0.3, 0.0),
    ("BFSH_10_PG", 2.0, 0.0),
    ("GAS_2_FG", 1.2, 0.0),
    ("SOL_1_FG", 1.2, 0.0),
    ("TA_5_PG", 2.0, 0.0),
    ("TA_5_G_SOL", 0.5, 0.0),
)
SPEC_3D = SPEC_2D + (
    ("theta_tgt_f", 5 * DEG, 0.0),
    ("c0_f", 20 * DEG, 60 * DEG),
    ("cv_f", 10 * DEG, 0.0),
    ("HAB_3_PG", 10.0, 0.0),
    ("HAB_3_DG", 1.0, 0.0),
    ("HAB_6_PG", 2.0, 0.0),
    ("HAD_3_PG", 2.0, 0.0),
    ("HAD_3_DG", 0.3, 0.0),
    ("HAD_6_PG", 2.0, 0.0),
)

# The controller's muscles and the model's muscle of each (per side: "<name>_r").
MUSCLES = {"HAB": "abd", "HAD": "add", "HFL": "iliopsoas", "GLU": "glut_max",
           "HAM": "hamstrings", "RF": "rect_fem", "VAS": "vasti", "BFSH": "bifemsh",
           "GAS": "gastroc", "SOL": "soleus", "TA": "tib_ant"}
# 2D: the hip abductors and adductors get constant stimulations (equal forces).
PLANAR_HAB = 0.1
PLANAR_HAD = 0.1 * 3931.8 / 4460.290481


@dataclass
class ReflexParameters:
    """Named physical parameters and where their raw values come from."""

    name: str
    raw: np.ndarray
    provenance: str
    values: dict[str, float] = field(init=False)

    def __post_init__(self):
        self.raw = np.asarray(self.raw, dtype=float)
        spec = {len(SPEC_2D): SPEC_2D, len(SPEC_3D): SPEC_3D}.get(self.raw.size)
        if spec is None:
            raise ValueError(f"reflex parameters {self.name!r}: expected {len(SPEC_2D)} (2D) or "
                             f"{len(SPEC_3D)} (3D) raw values, got {self.raw.size}")
        if not np.all(np.isfinite(self.raw)):
            raise ValueError(f"reflex parameters {self.name!r} contain NaN or inf")
        self.values = {n: r * scale + offset for (n, scale, offset), r in zip(spec, self.raw)}
        # As in the original controller, BFSH_8_PG takes raw value #28 (BFSH_8_DG's),
        # not its own #29: the published parameter sets were tuned that way.
        self.values["BFSH_8_PG"] = self.raw[28] * 1.0

    @property
    def is_3d(self) -> bool:
        return self.raw.size == len(SPEC_3D)

    @classmethod
    def load(cls, name: str) -> ReflexParameters:
        """A parameter table shipped in ``osim/control/params`` (``name.json``)."""
        path = resources.files("osim.control") / "params" / f"{name}.json"
        if not path.is_file():
            shipped = sorted(p.name.removesuffix(".json")
                             for p in (resources.files("osim.control") / "params").iterdir()
                             if p.name.endswith(".json"))
            raise ValueError(f"no reflex parameter table {name!r}; shipped: {shipped}")
        data = json.loads(path.read_text())
        return cls(name, data["raw"], data["provenance"])


@dataclass
class Sensors:
    """What the reflexes read, in the L2M2019 observation's conventions (angles
    in rad, + = pitched forward / hip extended / knee extended / plantarflexed)."""

    pitch: float
    pitch_rate: float
    roll: float
    roll_rate: float
    v_forward: float
    v_left: float
    # per leg, "r" and "l"
    load: dict[str, float]  # vertical ground reaction force, body weights
    hip: dict[str, float]
    hip_abd: dict[str, float]
    knee: dict[str, float]
    ankle: dict[str, float]
    d_hip: dict[str, float]
    d_hip_abd: dict[str, float]
    d_knee: dict[str, float]
    force: dict[str, dict[str, float]]  # side -> RF/VAS/GAS/SOL fiber force / max isometric


class EngineSensors:
    """Reads `Sensors` from a running engine (the HUMAN and 3D gait models)."""

    def __init__(self, sim):
        names = sim.coordinate_names
        self.q = {n: i for i, n in enumerate(names)}
        missing = [f"{c}_{s}" for s in "rl" for c in ("hip_flexion", "knee_angle", "ankle_angle")
                   if f"{c}_{s}" not in self.q] + [c for c in ("pelvis_tilt",) if c not in self.q]
        if missing:
            raise ValueError(f"the reflex controller needs the coordinates {missing}")
        self.muscle = {n: i for i, n in enumerate(sim.muscle_names)}
        needed = [f"{MUSCLES[m]}_{s}" for s in "rl" for m in ("RF", "VAS", "GAS", "SOL")]
        absent = [n for n in needed if n not in self.muscle]
        if absent:
            raise ValueError(f"the reflex controller needs the muscles {absent}")
        self.body_weight = float(sim.body_masses().sum()) * 9.80665
        self.max_force = sim.max_isometric_forces()
        self.pelvis = sim.body_names.index("pelvis")
        forces = sim.ground_reaction_forces()
        if not {"foot_r", "foot_l"} <= set(forces):
            raise ValueError(f"the reflex controller needs the contact forces foot_r and foot_l, "
                             f"the model has {sorted(forces)}")

    def read(self, sim) -> Sensors:
        q, u = sim.coordinate_values(), sim.coordinate_speeds()

        def coordinate(name: str, values: np.ndarray) -> float:
            return float(values[self.q[name]]) if name in self.q else 0.0

        yaw = coordinate("pelvis_rotation", q)
        velocity = sim.body_velocities()[self.pelvis]
        # ground X forward, Z right; turned into the pelvis heading frame
        forward = velocity[0] * math.cos(yaw) - velocity[2] * math.sin(yaw)
        right = velocity[0] * math.sin(yaw) + velocity[2] * math.cos(yaw)
        grf = sim.ground_reaction_forces()
        fiber = sim.fiber_forces() / self.max_force
        legs: dict[str, dict[str, Any]] = {key: {} for key in (
            "load", "hip", "hip_abd", "knee", "ankle", "d_hip", "d_hip_abd", "d_knee", "force")}
        for s in "rl":
            legs["load"][s] = float(grf[f"foot_{s}"][1]) / self.body_weight
            legs["hip"][s] = -coordinate(f"hip_flexion_{s}", q)
            legs["hip_abd"][s] = -coordinate(f"hip_adduction_{s}", q)
            legs["knee"][s] = coordinate(f"knee_angle_{s}", q)
            legs["ankle"][s] = -coordinate(f"ankle_angle_{s}", q)
            legs["d_hip"][s] = -coordinate(f"hip_flexion_{s}", u)
            legs["d_hip_abd"][s] = -coordinate(f"hip_adduction_{s}", u)
            legs["d_knee"][s] = coordinate(f"knee_angle_{s}", u)
            legs["force"][s] = {m: float(fiber[self.muscle[f"{MUSCLES[m]}_{s}"]])
                                for m in ("RF", "VAS", "GAS", "SOL")}
        return Sensors(pitch=-coordinate("pelvis_tilt", q),
                       pitch_rate=-coordinate("pelvis_tilt", u),
                       roll=coordinate("pelvis_list", q), roll_rate=coordinate("pelvis_list", u),
                       v_forward=float(forward), v_left=float(-right), **legs)


_FLAGS = ("ST", "ST_csw", "ST_sw0", "ST_st", "SW", "SW_flexk", "SW_holdk", "SW_stop", "SW_hold")


class ReflexController:
    """The two layers, with the state machine's flags per leg.

    ``step(sensors)`` returns the stimulation of each controller muscle per side
    (``{"r": {"HFL": ..., ...}, "l": {...}}``), in [0.01, 1]; `reset` puts the
    right leg in stance and the left in swing, as the original.
    """

    def __init__(self, parameters: ReflexParameters, planar: bool):
        self.parameters = parameters
        self.planar = planar
        self.reset()

    def reset(self) -> None:
        self.flags = {s: dict.fromkeys(_FLAGS, False) for s in "rl"}
        self.flags["r"]["ST"] = True
        self.flags["l"]["SW"] = self.flags["l"]["SW_flexk"] = True
        self.in_contact = {"r": True, "l": False}

    def step(self, s: Sensors) -> dict[str, dict[str, float]]:
        p = self.parameters.values
        other = {"r": "l", "l": "r"}
        contact = {side: s.load[side] > CONTACT_LOAD for side in "rl"}
        # -- supraspinal: targets, and which leg should start its swing
        alpha = {side: (s.hip[side] + math.pi) - 0.5 * (s.knee[side] + math.pi) for side in "rl"}
        alpha_tgt = p["c0"] - p["cv"] * s.v_forward - s.pitch
        swing_init = {"r": False, "l": False}
        if contact["r"] and contact["l"]:
            lead = "r" if alpha["r"] - alpha_tgt > alpha["l"] - alpha_tgt else "l"
            swing_init[lead] = True
        stimulation = {}
        for side in "rl":
            sign = 1.0 if side == "r" else -1.0
            f = self.flags[side]
            c_side = other[side]
            load, load_c = s.load[side], s.load[c_side]
            phi_hip = s.hip[side] + math.pi
            phi_knee = s.knee[side] + math.pi
            phi_ankle = s.ankle[side] + 0.5 * math.pi
            d_knee = s.d_knee[side]
            d_alpha = s.d_hip[side] - 0.5 * d_knee
            hip_tgt = alpha_tgt + 0.5 * p["knee_tgt"]
            # -- spinal: the phase machine
            if not self.in_contact[side] and contact[side]:  # touch-down
                f.update(dict.fromkeys(_FLAGS, False), ST=True)
            if f["ST"]:
                f["ST_csw"] = not contact[c_side]
                f["ST_sw0"] = swing_init[side]
                f["ST_st"] = not f["ST_sw0"]
            if self.in_contact[side] and not contact[side]:  # lift-off
                f.update(ST=False, ST_csw=False, ST_sw0=False, ST_st=False, SW=True,
                         SW_flexk=True)
            if f["SW"]:
                if f["SW_flexk"]:
                    if phi_knee < p["knee_sw_tgt"]:
                        f["SW_flexk"], f["SW_holdk"] = False, True
                else:
                    if f["SW_holdk"] and alpha[side] < alpha_tgt:
                        f["SW_holdk"] = False
                    if alpha[side] < alpha_tgt + p["alpha_delta"]:
                        f["SW_stop"] = True
                    if f["SW_stop"] and d_alpha > 0:
                        f["SW_hold"] = True
            self.in_contact[side] = contact[side]
            # -- the reflex laws ([x]+ = max(x, 0))
            ST, SW = float(f["ST"]), float(f["SW"])
            ST_sw0, ST_st = float(f["ST_sw0"]), float(f["ST_st"])
            SW_flexk, SW_holdk = float(f["SW_flexk"]), float(f["SW_holdk"])
            SW_stop, SW_hold = float(f["SW_stop"]), float(f["SW_hold"])
            G_st = ST_st + ST_sw0 * (1.0 - load_c)
            G_sw = ST_sw0 * load_c + SW
            theta, d_theta = s.pitch, s.pitch_rate
            force = s.force[side]
            pos = _positive
            out = {}
            out["HFL"] = (PRESTIMULATION
                          + ST * load * pos(-p["HFL_3_PG"] * (theta - p["theta_tgt"])
                                            - p["HFL_3_DG"] * d_theta)
                          + G_sw * pos(p["HFL_6_PG"] * (alpha[side] - alpha_tgt)
                                       + p["HFL_6_DG"] * d_alpha)
                          + SW_hold * pos(p["HFL_10_PG"] * (phi_hip - hip_tgt)))
            s_glu_3 = ST * load * pos(p["GLU_3_PG"] * (theta - p["theta_tgt"])
                                      + p["GLU_3_DG"] * d_theta)
            out["GLU"] = (PRESTIMULATION + s_glu_3
                          + G_sw * pos(-p["GLU_6_PG"] * (alpha[side] - alpha_tgt)
                                       - p["GLU_6_DG"] * d_alpha)
                          + SW_hold * pos(-p["GLU_10_PG"] * (phi_hip - hip_tgt)))
            s_ham_9 = SW_stop * pos(-p["HAM_9_PG"] * (alpha[side] - alpha_tgt - p["alpha_delta"]))
            out["HAM"] = PRESTIMULATION + p["HAM_3_GLU"] * s_glu_3 + s_ham_9
            out["RF"] = (PRESTIMULATION + G_st * pos(p["RF_1_FG"] * force["RF"])
                         + SW_holdk * pos(-p["RF_8_DG_knee"] * d_knee))
            out["VAS"] = (PRESTIMULATION + G_st * pos(p["VAS_1_FG"] * force["VAS"])
                          - G_st * pos(p["VAS_2_PG"] * (phi_knee - p["knee_off_st"]))
                          + SW_hold * pos(-p["VAS_10_PG"] * (phi_knee - p["knee_tgt"])))
            # the M8 term mixes a knee speed with an angle offset, as the original
            out["BFSH"] = (PRESTIMULATION
                           + G_st * pos(p["BFSH_2_PG"] * (phi_knee - p["knee_off_st"]))
                           + (ST_sw0 * load_c + SW_flexk)
                           * pos(-p["BFSH_7_DG_alpha"] * d_alpha
                                 + p["BFSH_7_PG"] * (phi_knee - p["knee_sw_tgt"]))
                           + SW_holdk * pos(p["BFSH_8_DG"] * (d_knee - p["knee_off_st"])
                                            * p["BFSH_8_PG"] * (alpha[side] - alpha_tgt))
                           + pos(p["BFSH_9_G_HAM"] * (s_ham_9 - p["BFSH_9_HAM0"]))
                           + SW_hold * pos(p["BFSH_10_PG"] * (phi_knee - p["knee_tgt"])))
            out["GAS"] = PRESTIMULATION + ST * pos(p["GAS_2_FG"] * force["GAS"])
            s_sol_1 = ST * pos(p["SOL_1_FG"] * force["SOL"])
            out["SOL"] = PRESTIMULATION + s_sol_1
            out["TA"] = (PRESTIMULATION + pos(p["TA_5_PG"] * (phi_ankle - p["ankle_tgt"]))
                         - ST * pos(p["TA_5_G_SOL"] * s_sol_1))
            if self.planar:
                out["HAB"], out["HAD"] = PLANAR_HAB, PLANAR_HAD
            else:
                theta_f, d_theta_f = sign * s.roll, sign * s.roll_rate
                # [sic] the original reads the abduction speed here, not the angle
                alpha_f = 0.5 * math.pi - s.d_hip_abd[side]
                alpha_tgt_f = p["c0_f"] + sign * p["cv_f"] * s.v_left - sign * s.roll
                out["HAB"] = (ST * load * pos(-p["HAB_3_PG"] * (theta_f - p["theta_tgt_f"])
                                              - p["HAB_3_DG"] * d_theta_f)
                              + G_sw * pos(p["HAB_6_PG"] * (alpha_f - alpha_tgt_f)))
                out["HAD"] = (ST * load * pos(p["HAD_3_PG"] * (theta_f - p["theta_tgt_f"])
                                              + p["HAD_3_DG"] * d_theta_f)
                              + G_sw * pos(-p["HAD_6_PG"] * (alpha_f - alpha_tgt_f)))
            stimulation[side] = {m: min(max(v, PRESTIMULATION), 1.0) for m, v in out.items()}
        return stimulation


def _positive(x: float) -> float:
    return x if x > 0.0 else 0.0

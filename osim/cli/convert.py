"""``osim-rl convert``: an OpenSim model as MuJoCo files (MJCF, muscle paths, muscle parameters)."""

from __future__ import annotations

import argparse
import os
import sys

from osim.cli.args import positive_float


def _convert(args: argparse.Namespace) -> int:
    from osim.engines.mujoco.export import export_mujoco, parity_report

    try:
        result = export_mujoco(args.model, args.out, timestep=args.timestep)
        report = parity_report(result.source.model, result.build) if args.report else None
    except (ValueError, FileNotFoundError, IsADirectoryError, PermissionError) as err:
        # An element the converter refuses, or a bad path: one line, no traceback.
        if os.environ.get("OSIM_RL_DEBUG"):
            raise
        print(f"osim-rl convert: error: {err}", file=sys.stderr)
        return 2
    if report is not None:
        print(report, end="\n\n")
    built = result.build
    print(f"wrote {', '.join(map(str, result.files))} ({built.name}: {len(built.body_names)} "
          f"bodies, {len(built.coordinate_names)} coordinates, {built.muscles.count} muscles, "
          f"{len(built.contacts.pairs)} contact pairs)")
    return 0


def add_parser(commands) -> None:
    from osim.engines.mujoco.convert import DEFAULT_TIMESTEP
    from osim.models import MODELS

    convert = commands.add_parser(
        "convert", help="convert an OpenSim model to MuJoCo (MJCF and muscle files)",
        description="Convert an OpenSim model for MuJoCo: OUT.xml, the skeleton with its "
                    "contact parameters (loads with mujoco.MjModel.from_xml_path); "
                    "OUT.paths.npz, the fitted muscle paths; OUT.muscles.json, the muscles' "
                    "Thelen 2003 parameters. Muscles are not MuJoCo actuators: osim-rl's "
                    "MuJoCo engine applies their forces.")
    convert.add_argument("model", metavar="MODEL",
                         help=f"an .osim file or a built-in model ({', '.join(MODELS)})")
    convert.add_argument("out", metavar="OUT.xml", help="the MJCF file to write (overwritten)")
    convert.add_argument("--report", action="store_true",
                         help="print how closely the conversion follows OpenSim")
    convert.add_argument("--timestep", type=positive_float, default=DEFAULT_TIMESTEP, metavar="S",
                         help=f"MuJoCo's timestep, which the contact parameters depend on "
                              f"(default {DEFAULT_TIMESTEP:g} s, the engine's default preset)")
    convert.set_defaults(run=_convert)

"""Keep OpenSim quiet unless asked: no per-step ``[info]`` lines, no ``opensim.log``."""

import opensim

_file_sink_removed = False


def quiet_opensim(verbose: bool = False) -> None:
    """Silence OpenSim's log (``verbose=False``) or let it print warnings and info.

    OpenSim's logger is process-wide; the file sink it would open in the
    current directory is removed once and never re-added.
    """
    global _file_sink_removed
    if not _file_sink_removed:
        opensim.Logger.removeFileSink()
        _file_sink_removed = True
    opensim.Logger.setLevelString("info" if verbose else "off")

"""Seeing the model move: frames, videos and plots.

* `osim.render.scene`: `SceneRenderer`, frames of a simulation as RGB arrays
  (what ``env.render()`` returns with ``render_mode="rgb_array"``);
* `osim.render.video`: `save_video` (.mp4, .gif) and `record_episode`;
* `osim.render.plots`: learning curves and episode traces as PNG files.

Frames need Pillow, videos imageio (+ imageio-ffmpeg for .mp4), plots matplotlib.
"""

from __future__ import annotations

import numbers

# Views of `osim.render.scene.SceneRenderer`, kept here so that envs check
# their arguments without importing the drawing libraries.
CAMERAS = ("side", "front", "top")


def check_view(width, height, camera) -> None:
    """Raise ``ValueError`` for a frame size or camera the renderer cannot draw."""
    if camera not in CAMERAS:
        raise ValueError(f"unknown camera {camera!r}; choose one of {list(CAMERAS)}")
    for name, value in (("width", width), ("height", height)):
        if (isinstance(value, bool) or not isinstance(value, numbers.Integral)
                or not 16 <= value <= 4096):
            raise ValueError(f"{name} must be an int in [16, 4096] pixels, got {value!r}")

"""Seeing the model move: frames, videos and plots."""

"""Files shipped with GroundLens (icons, the demo, model weights), read through importlib.resources."""

"""SMPL-X motion: the MotionClip type, body models and procedural motion generators."""

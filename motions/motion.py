"""MotionClip: SMPL-X parameters per frame, in the Z-up world (see motions.conventions)."""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from worldclips.motions.conventions import NUM_BETAS, NUM_BODY_JOINTS, NUM_EXPRESSION, NUM_HAND_JOINTS

# Per-frame parameter name -> shape after the frame axis.
FRAME_PARAMETERS: dict[str, tuple[int, ...]] = {
    "global_orient": (3,),
    "body_pose": (NUM_BODY_JOINTS, 3),
    "left_hand_pose": (NUM_HAND_JOINTS, 3),
    "right_hand_pose": (NUM_HAND_JOINTS, 3),
    "jaw_pose": (3,),
    "leye_pose": (3,),
    "reye_pose": (3,),
    "expression": (NUM_EXPRESSION,),
    "transl": (3,),
}


@dataclass(frozen=True, eq=False)
class MotionClip:
    """SMPL-X parameters of one person over T frames; arrays are float32, validated on creation.

    fps: frames per second (> 0).
    betas: (10,) shape coefficients.
    global_orient: (T, 3) axis-angle of the pelvis, including the native-to-Z-up rotation.
    body_pose: (T, 21, 3) axis-angle per body joint (SMPL-X order, pelvis excluded).
    left_hand_pose, right_hand_pose: (T, 15, 3) axis-angle relative to the flat hand.
    jaw_pose, leye_pose, reye_pose: (T, 3) axis-angle.
    expression: (T, 10) expression coefficients.
    transl: (T, 3) metres; the pelvis lands at transl + rest pelvis position.
    """

    fps: float
    betas: np.ndarray
    global_orient: np.ndarray
    body_pose: np.ndarray
    left_hand_pose: np.ndarray
    right_hand_pose: np.ndarray
    jaw_pose: np.ndarray
    leye_pose: np.ndarray
    reye_pose: np.ndarray
    expression: np.ndarray
    transl: np.ndarray

    def __post_init__(self) -> None:
        if not (np.isfinite(self.fps) and self.fps > 0):
            raise ValueError(f"MotionClip.fps: expected a positive number, got {self.fps!r}")
        betas = np.asarray(self.betas, dtype=np.float32)
        if betas.shape != (NUM_BETAS,):
            raise ValueError(f"MotionClip.betas: expected shape ({NUM_BETAS},), got {betas.shape}")
        object.__setattr__(self, "betas", betas)
        frames = np.asarray(self.global_orient).shape[0] if np.ndim(self.global_orient) else 0
        if frames < 1:
            raise ValueError("MotionClip.global_orient: expected at least one frame")
        for name, tail in FRAME_PARAMETERS.items():
            value = np.asarray(getattr(self, name), dtype=np.float32)
            if value.shape != (frames, *tail):
                raise ValueError(f"MotionClip.{name}: expected shape {(frames, *tail)}, got {value.shape}")
            object.__setattr__(self, name, value)
        for field in fields(self):
            value = getattr(self, field.name)
            if isinstance(value, np.ndarray):
                if not np.all(np.isfinite(value)):
                    raise ValueError(f"MotionClip.{field.name}: contains NaN or infinite values")
                value.setflags(write=False)

    @property
    def num_frames(self) -> int:
        return int(self.global_orient.shape[0])

    @property
    def hand_pose(self) -> np.ndarray:
        """(T, 30, 3) left then right hand pose."""
        return np.concatenate([self.left_hand_pose, self.right_hand_pose], axis=1)

    @classmethod
    def rest(cls, frames: int, fps: float, betas: np.ndarray | None = None) -> "MotionClip":
        """All-zero parameters (a native-frame T-pose at the origin) for ``frames`` frames."""
        values = {name: np.zeros((frames, *tail), np.float32) for name, tail in FRAME_PARAMETERS.items()}
        return cls(fps=fps, betas=np.zeros(NUM_BETAS) if betas is None else betas, **values)

    def frame_arrays(self) -> dict[str, np.ndarray]:
        """Per-frame parameter arrays by name, in FRAME_PARAMETERS order."""
        return {name: getattr(self, name) for name in FRAME_PARAMETERS}

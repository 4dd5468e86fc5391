"""The licensed SMPL-X body through the ``smplx`` package (optional, needs SMPLX_NEUTRAL.npz).

The model file is not shipped: users download it from https://smpl-x.is.tue.mpg.de and point
``--smplx-model-dir`` (or ``smplx_model_dir`` in the config) at it. ``smplx`` loads the npz
with pickled objects allowed, so only trusted model files may be used.

All 55 joints are exact. The mesh is handed to the renderer as per-frame vertices, because the
pose-corrective blend shapes of SMPL-X are not a plain linear blend.
"""

from __future__ import annotations

import importlib
from pathlib import Path

import numpy as np

from worldclips.motions.body import PosedBody, Skeleton, VertexAnimatedMesh, measure_heel_lift
from worldclips.motions.body_regions import vertex_regions
from worldclips.motions.conventions import NUM_BETAS, NUM_JOINTS, SMPLX_JOINT_NAMES, joint_index
from worldclips.motions.motion import FRAME_PARAMETERS, MotionClip

MODEL_FILENAME = "SMPLX_NEUTRAL.npz"
DOWNLOAD_HINT = "download the SMPL-X model (npz) from https://smpl-x.is.tue.mpg.de"


class SmplxModelNotFound(FileNotFoundError):
    """The SMPL-X model directory does not hold SMPLX_NEUTRAL.npz."""


def resolve_model_file(model_dir: str | Path) -> Path:
    """Find SMPLX_NEUTRAL.npz in ``model_dir`` or ``model_dir/smplx`` (the smplx.create layout)."""
    model_dir = Path(model_dir).expanduser()
    if not model_dir.is_dir():
        raise SmplxModelNotFound(f"smplx_model_dir: {model_dir} is not a directory ({DOWNLOAD_HINT})")
    for candidate in (model_dir / MODEL_FILENAME, model_dir / "smplx" / MODEL_FILENAME):
        if candidate.is_file():
            return candidate
    raise SmplxModelNotFound(
        f"smplx_model_dir: no {MODEL_FILENAME} in {model_dir} or {model_dir / 'smplx'} ({DOWNLOAD_HINT})"
    )


def _importable(name: str) -> bool:
    try:
        importlib.import_module(name)
    except ImportError:
        return False
    return True


class SmplxBody:
    """Body model backed by the licensed SMPL-X neutral model (use_pca=False, flat_hand_mean=True)."""

    name = "smplx"

    def __init__(self, model_dir: str | Path) -> None:
        self.model_file = resolve_model_file(model_dir)
        missing = [name for name in ("torch", "smplx") if not _importable(name)]
        if missing:
            raise ValueError(f"smplx_model_dir: the SMPL-X body needs {' and '.join(missing)}: pip install 'worldclips[smplx]'")
        self._layers: dict[int, object] = {}

    def _layer(self, batch_size: int):
        if batch_size not in self._layers:
            import smplx  # torch is imported lazily: only this backend needs it

            try:
                self._layers[batch_size] = smplx.SMPLX(
                    model_path=str(self.model_file),
                    gender="neutral",
                    use_pca=False,
                    flat_hand_mean=True,
                    num_betas=NUM_BETAS,
                    num_expression_coeffs=10,
                    use_face_contour=False,
                    batch_size=batch_size,
                )
            except Exception as error:  # a corrupt or foreign file: say which one
                raise ValueError(f"{self.model_file}: not a usable SMPL-X model file ({error})") from error
        return self._layers[batch_size]

    def _forward(self, betas: np.ndarray, params: dict[str, np.ndarray]):
        import torch

        frames = next(iter(params.values())).shape[0]
        layer = self._layer(frames)
        tensors = {k: torch.from_numpy(np.array(v, dtype=np.float32).reshape(frames, -1)) for k, v in params.items()}
        beta_tensor = torch.as_tensor(np.broadcast_to(betas, (frames, NUM_BETAS)).copy(), dtype=torch.float32)
        with torch.no_grad():
            output = layer(betas=beta_tensor, return_verts=True, **tensors)
        return output.vertices.numpy(), output.joints[:, :NUM_JOINTS].numpy().astype(np.float64), layer.faces

    def skeleton(self, betas: np.ndarray) -> Skeleton:
        rest = MotionClip.rest(1, 30.0, betas)
        vertices, joints, _ = self._forward(rest.betas, rest.frame_arrays())
        sole = float(vertices[0, :, 1].min())
        return Skeleton(
            rest_joints=joints[0], joints_valid=np.ones(NUM_JOINTS, dtype=bool), sole_height=sole,
            heel_lift=measure_heel_lift(vertices[0].astype(np.float64), joints[0], sole),
        )  # fmt: skip

    def pose(self, motion: MotionClip) -> PosedBody:
        params = {name: getattr(motion, name) for name in FRAME_PARAMETERS}
        vertices, joints, faces = self._forward(motion.betas, params)
        mesh = VertexAnimatedMesh(frame_vertices=vertices.astype(np.float32), faces=np.asarray(faces, dtype=np.uint32))
        return PosedBody(joints=joints, joints_valid=np.ones(NUM_JOINTS, dtype=bool), mesh=mesh,
                         vertex_regions=self._vertex_regions(motion.betas))  # fmt: skip

    def _vertex_regions(self, betas: np.ndarray) -> np.ndarray:
        """(V,) body regions from SMPL-X's own linear-blend weights, on this identity's rest pose."""
        rest = MotionClip.rest(1, 30.0, betas)
        vertices, joints, _ = self._forward(rest.betas, rest.frame_arrays())
        weights = self._layer(1).lbs_weights.detach().numpy()  # (V, 55 + face joints)
        indices = np.broadcast_to(np.arange(weights.shape[1]), weights.shape)
        names = tuple(SMPLX_JOINT_NAMES) + tuple(f"head_{i}" for i in range(weights.shape[1] - len(SMPLX_JOINT_NAMES)))
        return vertex_regions(vertices[0], indices, weights, names, joints[0, joint_index("head")])

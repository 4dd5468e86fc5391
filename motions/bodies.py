"""The one body-model factory: mannequin-x by default, the licensed SMPL-X model when a folder is given."""

from __future__ import annotations

from pathlib import Path

from worldclips.motions.body import BodyModel


def make_body_model(smplx_model_dir: str | Path | None = None) -> BodyModel:
    """mannequin-x (no model files) unless ``smplx_model_dir`` names the licensed SMPL-X model."""
    if smplx_model_dir:
        from worldclips.motions.smplx_body import SmplxBody

        return SmplxBody(smplx_model_dir)
    from worldclips.motions.mannequin_body import MannequinBody

    return MannequinBody()

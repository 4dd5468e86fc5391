"""Optional text conditioning: a caption per clip, written from its meta.json, encoded by a local
T5-family encoder (the Wan layout: ``BASE/text_encoder`` and ``BASE/tokenizer``). Without a text
encoder the model gets a null embedding (zeros) instead.

Encoded captions follow the Wan pipelines: ``max_length`` tokens, hidden states past each
caption's own length set to zero. Shape (B, max_length, encoder width = transformer text_dim).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import torch

from worldclips.shards.format.meta_schema import parsed


MOTION_WORDS = {
    "walk": "walking", "run": "running", "jump": "jumping", "sit": "sitting down", "reach": "reaching out",
    "carry": "carrying something", "wave": "waving", "turn": "turning on the spot", "dance": "dancing",
    "sequence": "going from one action to the next", "idle": "standing", "file": "moving",
}  # fmt: skip
PLACES = {"grass": "on a lawn", "dirt": "on a dirt field", "asphalt": "on an asphalt lot",
          "concrete": "on a concrete plaza", "tiles": "on a paved square", "planks": "on a wooden floor",
          "carpet": "on a carpet"}  # fmt: skip
FLOORS = {"planks": "a wooden", "tiles": "a tiled", "carpet": "a carpeted"}


def caption(meta: dict) -> str:
    """A plain description of the clip from its meta.json (no model needed): who does what and
    wears what, the place and the sky (photographic look), the props and the camera."""
    params = meta.get("scenario_params") or {}
    spec = parsed(meta, "spec") or {}  # JSON text (shards.format.meta_schema), or an object in older datasets
    look = meta.get("look") or {}
    kinds = params.get("people_motion") or []
    outfits = [row.get("outfit", "") for row in look.get("outfits") or []]
    if outfits and len(outfits) == len(kinds) and all(outfits):
        people = "; ".join(f"one in {outfit} {MOTION_WORDS.get(kind, 'moving')}" for outfit, kind in zip(outfits, kinds))
    else:
        motions = Counter(MOTION_WORDS.get(kind, "moving") for kind in kinds)
        people = ", ".join(f"{n} {word}" for word, n in sorted(motions.items()))
    parts = [f"{params.get('num_people', len(kinds))} people ({people})" if kinds else "an empty scene"]
    room = spec.get("room")
    if isinstance(room, dict):  # indoors (scenes.rooms): the floor, the windows, the ceiling lights
        floor = FLOORS.get((spec.get("ground") or {}).get("pattern"), "a")
        windows = len(room.get("windows") or [])
        parts[0] += f" in a room with {floor} floor, {windows} window{'s' if windows != 1 else ''} and ceiling lights"
    elif look.get("name") == "photo":
        place = PLACES.get((spec.get("ground") or {}).get("pattern"), "outdoors")
        turbidity = ((spec.get("look") or {}).get("turbidity")) or 3.0
        parts[0] += f" {place} under a {'clear' if turbidity < 2.6 else 'hazy'} daylight sky"
    props = ", ".join(sorted(set(params.get("prop_categories") or []) | set(params.get("dynamic_prop_categories") or [])))
    if props:
        count = int(params.get("num_props", 0)) + int(params.get("num_dynamic_props", 0))
        parts.append(f"among {count} props ({props})")
    if params.get("camera_family"):
        parts.append(f"{params['camera_family'].replace('_', ' ')} camera")
    return f"{meta.get('scenario', 'default')} scene: " + ", ".join(parts)


class TextEncoder:
    """Frozen tokenizer + encoder loaded from a local folder; call with a list of captions."""

    def __init__(self, base: Path, max_length: int, device: torch.device, dtype: torch.dtype = torch.float32):
        from transformers import AutoTokenizer, UMT5EncoderModel

        base = Path(base)
        for part in ("text_encoder", "tokenizer"):
            if not (base / part).is_dir():
                raise FileNotFoundError(f"--base: {base / part} is missing (model.text_encoder needs a text encoder)")
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(base / "tokenizer", local_files_only=True)
            self.encoder = UMT5EncoderModel.from_pretrained(base / "text_encoder", local_files_only=True, dtype=dtype)
        except (OSError, ValueError) as error:
            raise ValueError(f"--base: cannot load the text encoder in {base} ({str(error).splitlines()[0]})") from None
        self.encoder.requires_grad_(False).train(False).to(device)
        self.max_length, self.device = max_length, device
        self.width = self.encoder.config.d_model

    @torch.no_grad()
    def __call__(self, captions: list[str]) -> torch.Tensor:
        tokens = self.tokenizer(captions, padding="max_length", max_length=self.max_length, truncation=True,
                                add_special_tokens=True, return_attention_mask=True, return_tensors="pt")  # fmt: skip
        ids, mask = tokens.input_ids.to(self.device), tokens.attention_mask.to(self.device)
        hidden = self.encoder(ids, attention_mask=mask).last_hidden_state.float()
        return hidden * mask[..., None].to(hidden.dtype)

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


def caption(meta: dict) -> str:
    """A plain description of the clip from its scenario parameters (no model needed)."""
    params = meta.get("scenario_params") or {}
    motions = Counter(params.get("people_motion") or [])
    people = ", ".join(f"{n} {'walking' if m == 'walk' else 'standing'}" for m, n in sorted(motions.items()))
    props = ", ".join(sorted(set(params.get("prop_categories") or [])))
    parts = [f"{params.get('num_people', 0)} people ({people})" if people else "an empty scene"]
    if props:
        parts.append(f"among {params.get('num_props', 0)} props ({props})")
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

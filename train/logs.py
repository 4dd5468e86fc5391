"""Console and TensorBoard logging of training scalars (rank 0 only)."""

from __future__ import annotations

import sys
from pathlib import Path


class TrainLog:
    """One console line per call and TensorBoard scalars under RUN_DIR/tb (when enabled)."""

    def __init__(self, run_dir: Path | None, enabled: bool = True, tensorboard: bool = True, stream=None):
        self.enabled, self.writer = enabled, None
        self.stream = stream if stream is not None else sys.stdout
        if enabled and tensorboard and run_dir is not None:
            from torch.utils.tensorboard import SummaryWriter

            self.writer = SummaryWriter(log_dir=str(Path(run_dir) / "tb"))

    def scalars(self, step: int, total: int, values: dict[str, float]) -> None:
        if not self.enabled:
            return
        parts = [f"step {step}/{total}"]
        for name, value in values.items():
            parts.append(f"{name} {value:.3e}" if name == "lr" else f"{name} {value:.4g}")
        print(" | ".join(parts), file=self.stream, flush=True)
        if self.writer is not None:
            for name, value in values.items():
                self.writer.add_scalar(f"train/{name}", value, step)

    def message(self, text: str) -> None:
        if self.enabled:
            print(text, file=self.stream, flush=True)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()

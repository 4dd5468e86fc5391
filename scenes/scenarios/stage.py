"""What a scenario layout works with (Context) and what it places (Stage)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from worldclips.scenes.interaction_spec import AttachmentSpec, PassedPropSpec
from worldclips.scenes.physics_spec import PhysicsSettings
from worldclips.scenes.scenarios import cameras
from worldclips.scenes.scenarios.dists import Draws
from worldclips.scenes.scenarios.schema import Scenario
from worldclips.scenes.spec import CameraPath, CharacterSpec, DynamicPropSpec, PhysicsScenario, PropSpec


@dataclass(frozen=True, eq=False)
class Stage:
    """What a layout placed.

    tracks: per character (centres (T, 2), radius), the space its body sweeps; placed: (xy (2,),
    radius) of static props; focus: (3,) world point the camera looks at; front: azimuth (rad)
    of the side the camera prefers, seen from the focus; main: index of the main character (or
    None); roles: role -> name of the characters and objects properties refer to; camera: a path
    the layout drew itself (None: the sampler draws one); physics, simulation: of physics setups.
    """

    characters: list[CharacterSpec]
    tracks: list[tuple[np.ndarray, float]]
    focus: np.ndarray
    front: float
    props: list[PropSpec] = field(default_factory=list)
    placed: list[tuple[np.ndarray, float]] = field(default_factory=list)
    dynamic_props: list[DynamicPropSpec] = field(default_factory=list)
    passes: list[PassedPropSpec] = field(default_factory=list)
    attachments: list[AttachmentSpec] = field(default_factory=list)
    main: int | None = 0
    roles: dict[str, str] = field(default_factory=dict)
    camera: CameraPath | None = None
    fov_deg: float | None = None
    physics: PhysicsScenario | None = None
    simulation: PhysicsSettings = PhysicsSettings()


@dataclass(eq=False)
class Context:
    """What a layout draws with: the performance's draws, the camera's generator, the clip's timing."""

    scenario: Scenario
    draws: Draws
    camera_rng: np.random.Generator
    fps: float
    frames: int
    width: int
    height: int
    split: str

    @property
    def rng(self) -> np.random.Generator:
        return self.draws.rng

    @property
    def duration(self) -> float:
        return max((self.frames - 1) / self.fps, 1.0 / self.fps)

    def frame(self) -> tuple[np.ndarray, float]:
        """The layout's frame in the world: an origin near the world origin and a heading."""
        return self.rng.uniform(-0.5, 0.5, size=2), float(self.rng.uniform(-np.pi, np.pi))

    def camera(self, stage: Stage, clutter=()) -> tuple[CameraPath, float]:
        """(path, fov_deg) drawn from the scenario's camera distributions for ``stage``."""
        return cameras.sample_camera(self.camera_rng, self.scenario.camera, stage, self.frames, clutter)

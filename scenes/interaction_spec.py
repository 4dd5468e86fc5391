"""Interactions between characters that are resolved kinematically on the posed bodies (spec v4).

- ``PassedPropSpec``: a ball passed between hands. It sits in a hand, leaves it at a release
  frame on the ballistic arc (g = 9.81) that meets another character's hand ``flight_s`` seconds
  later, stays in that hand, and so on (scenes.passes). Not simulated: the arcs are exact and
  the ball never collides with anything.
- ``AttachmentSpec``: one character's body follows another's hand for a while, e.g. a dancer
  lifted by a partner (scenes.attachments).

Plain frozen dataclasses, JSON round-trippable with scenes.serialization; names refer to
characters of the clip (checked by ClipSpec).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from worldclips.scenes.scene import Material

HAND_SIDES = ("left", "right")
ATTACH_SIDES = ("left", "right", "both")
ATTACH_AXES = ("z", "xyz")


def _name(where: str, value) -> None:
    if not isinstance(value, str) or not value:
        raise ValueError(f"{where}: expected a character's name, got {value!r}")


@dataclass(frozen=True)
class PassSpec:
    """One throw: at frame ``release`` the prop leaves its holder's hand on the ballistic arc that
    reaches ``character``'s ``side`` hand point after ``flight_s`` seconds, and stays in that hand."""

    release: int
    character: str
    side: str
    flight_s: float

    def __post_init__(self) -> None:
        if isinstance(self.release, bool) or not isinstance(self.release, int) or self.release < 1:
            raise ValueError(f"PassSpec.release: expected a frame >= 1, got {self.release!r}")
        _name("PassSpec.character", self.character)
        if self.side not in HAND_SIDES:
            raise ValueError(f"PassSpec.side: expected one of {HAND_SIDES}, got {self.side!r}")
        if not (isinstance(self.flight_s, (int, float)) and 0.1 <= self.flight_s <= 3.0):
            raise ValueError(f"PassSpec.flight_s: expected 0.1..3 s, got {self.flight_s!r}")


@dataclass(frozen=True)
class PassedPropSpec:
    """A ball passed between hands (scenes.passes).

    radius (m) and mass (kg) of the ball; it starts in ``holder``'s ``side`` hand, out of the palm
    by its radius (scenes.hands.grip_offset), and follows ``passes`` in order: each release
    comes after the previous throw has arrived.
    """

    name: str
    radius: float
    mass: float
    material: Material
    holder: str
    side: str
    passes: tuple[PassSpec, ...] = ()
    category: str = "ball"

    def __post_init__(self) -> None:
        if self.category != "ball":
            raise ValueError(f"PassedPropSpec.category: only 'ball' is passed, got {self.category!r}")
        if not (isinstance(self.radius, (int, float)) and 0.02 <= self.radius <= 0.3):
            raise ValueError(f"PassedPropSpec.radius: expected 0.02..0.3 m, got {self.radius!r}")
        if not (isinstance(self.mass, (int, float)) and 0.01 <= self.mass <= 5.0):
            raise ValueError(f"PassedPropSpec.mass: expected 0.01..5 kg, got {self.mass!r}")
        _name("PassedPropSpec.holder", self.holder)
        if self.side not in HAND_SIDES:
            raise ValueError(f"PassedPropSpec.side: expected one of {HAND_SIDES}, got {self.side!r}")
        releases = [throw.release for throw in self.passes]
        if releases != sorted(set(releases)):
            raise ValueError(f"PassedPropSpec.passes: expected increasing release frames, got {releases}")

    def check_timing(self, fps: float) -> None:
        """Each release comes after the previous throw's arrival (needs the clip's fps)."""
        arrival = -math.inf
        for index, throw in enumerate(self.passes):
            if throw.release / fps < arrival - 1e-9:
                raise ValueError(f"PassedPropSpec.passes[{index}].release: frame {throw.release} comes before the previous throw arrives")
            arrival = throw.release / fps + throw.flight_s

    def characters(self) -> set[str]:
        return {self.holder, *(throw.character for throw in self.passes)}


@dataclass(frozen=True)
class AttachmentSpec:
    """From ``start`` to ``end`` seconds ``character``'s body follows ``to``'s hand(s): its pelvis
    (and the whole body with it) moves by the hand's displacement since ``start``, only upwards
    and downwards with axes "z", in all directions with "xyz". The weight of the attachment eases
    in over ``ramp_s`` seconds after ``start`` and out before ``end``; side "both" follows the
    midpoint of the two hands. Foot contacts are cleared while the body is lifted."""

    character: str
    to: str
    side: str
    start: float
    end: float
    ramp_s: float = 0.2
    axes: str = "z"

    def __post_init__(self) -> None:
        _name("AttachmentSpec.character", self.character)
        _name("AttachmentSpec.to", self.to)
        if self.character == self.to:
            raise ValueError(f"AttachmentSpec.to: a character cannot follow its own hand ({self.to!r})")
        if self.side not in ATTACH_SIDES:
            raise ValueError(f"AttachmentSpec.side: expected one of {ATTACH_SIDES}, got {self.side!r}")
        if self.axes not in ATTACH_AXES:
            raise ValueError(f"AttachmentSpec.axes: expected one of {ATTACH_AXES}, got {self.axes!r}")
        if not (0.0 <= self.start < self.end):
            raise ValueError(f"AttachmentSpec.start/end: expected 0 <= start < end seconds, got {self.start}, {self.end}")
        if not (0.0 < self.ramp_s <= (self.end - self.start) / 2):
            raise ValueError(f"AttachmentSpec.ramp_s: expected 0 < ramp_s <= (end - start) / 2, got {self.ramp_s}")

"""Contact sheets of motions: a few frames of one character, rendered with the raster backend.

Used by ``tools/motion_previews.py`` (the images in docs/motions.md) and handy while developing a
generator: ``sheet(generated, betas, props)`` returns a PIL image, frames side by side, with the
feet's contact labels drawn as dots under each frame (filled: in contact).
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw

from worldclips.motions.conventions import intrinsics, look_at_cam_from_world, make_transform, rotation_z
from worldclips.motions.generated import GeneratedMotion
from worldclips.motions.mannequin_body import MannequinBody
from worldclips.scenes import meshes
from worldclips.scenes.scene import CameraTrack, Character, Lighting, Material, Scene, SceneObject

GROUND = Material(base_color=(0.45, 0.45, 0.42), pattern="checker", pattern_color=(0.3, 0.3, 0.28), pattern_scale=2.0)
BODY = Material(base_color=(0.75, 0.55, 0.35), roughness=0.6)
PROP = Material(base_color=(0.25, 0.4, 0.7), roughness=0.5)
LIGHT = Lighting(sun_direction=(0.4, -0.5, 0.77), sun_color=(2.6, 2.5, 2.4), sky_color=(0.35, 0.42, 0.55), ground_color=(0.22, 0.2, 0.17))
CONTACT_COLORS = ((230, 60, 60), (240, 160, 40), (60, 120, 230), (60, 200, 230))  # left heel, left toe, right heel, right toe


def render_frames(
    generated: GeneratedMotion,
    props: list[tuple[str, str, tuple, np.ndarray]],
    frames: list[int],
    size: tuple[int, int],
    eye: np.ndarray,
    target: np.ndarray,
    renderer=None,
) -> np.ndarray:
    """(N, H, W, 3) uint8 frames; props: (name, category, size, (T, 4, 4) world_from_object)."""
    from worldclips.render.raster import RasterRenderer

    motion = generated.motion
    posed = MannequinBody().pose(motion)
    frames_total = motion.num_frames
    width, height = size
    ground = SceneObject(1, "ground", "ground", False, meshes.ground(30.0), GROUND, np.broadcast_to(np.eye(4), (frames_total, 4, 4)).copy())
    objects = [ground] + [
        SceneObject(3 + i, name, category, True, meshes.prop_mesh(category, prop_size), PROP, poses)
        for i, (name, category, prop_size, poses) in enumerate(props)
    ]
    cam = look_at_cam_from_world(np.broadcast_to(eye, (frames_total, 3)), np.broadcast_to(target, (frames_total, 3)))
    # eye, target: (3,) or (T, 3)
    K = np.broadcast_to(intrinsics(width / (2 * np.tan(np.radians(25))), width, height), (frames_total, 3, 3)).copy()
    scene = Scene(
        width=width, height=height, fps=motion.fps, num_frames=frames_total,
        camera=CameraTrack(K=K, cam_from_world=cam, near=0.05, far=100.0, family="static"),
        lighting=LIGHT, objects=tuple(objects), characters=(Character(2, "person", motion, posed, BODY),),
        background_color=(0.6, 0.72, 0.88),
    )  # fmt: skip
    own = renderer is None
    renderer = renderer or RasterRenderer(width, height, supersample=3)
    try:
        return renderer.render(scene).rgb[frames]
    finally:
        if own:
            renderer.release()


def static_prop(position, yaw: float, frames: int) -> np.ndarray:
    """(T, 4, 4) poses of a prop standing still on the ground."""
    return np.broadcast_to(make_transform(rotation_z(yaw), np.array([*position, 0.0])), (frames, 4, 4)).copy()


def sheet(
    generated: GeneratedMotion,
    props: list = (),
    count: int = 6,
    size: tuple[int, int] = (160, 200),
    view: tuple[float, float, float] = (-90.0, 3.2, 1.2),
    title: str = "",
    renderer=None,
    track: bool = False,
) -> Image.Image:
    """Frames spread over the motion, side by side, with contact dots; ``view`` is (azimuth deg
    in the world, distance m, camera height m); ``track`` follows the pelvis."""
    motion = generated.motion
    frames = np.linspace(0, motion.num_frames - 1, count).round().astype(int).tolist()
    pelvis = motion.transl.astype(np.float64)
    if track:
        centre = np.concatenate([pelvis[:, :2], np.full((len(pelvis), 1), 0.8)], axis=1)
    else:
        centre = np.array([*np.mean(pelvis[:, :2], axis=0), 0.8])
    azimuth = np.radians(view[0])
    eye = centre + np.array([view[1] * np.cos(azimuth), view[1] * np.sin(azimuth), view[2] - 0.8])
    images = render_frames(generated, list(props), frames, size, eye, centre, renderer)
    width, height = size
    bar = 14
    top = 16 if title else 0
    out = Image.new("RGB", (width * count, height + bar + top), (250, 250, 250))
    draw = ImageDraw.Draw(out)
    if title:
        draw.text((4, 2), title, fill=(20, 20, 20))
    for i, (frame, image) in enumerate(zip(frames, images)):
        out.paste(Image.fromarray(image), (i * width, top))
        draw.text((i * width + 3, top + 2), f"t={frame / motion.fps:.2f}s", fill=(255, 255, 255))
        for k in range(4):
            x, y = i * width + width // 2 - 27 + 18 * k, top + height + bar // 2
            fill = CONTACT_COLORS[k] if generated.contact[frame, k] else None
            draw.ellipse((x - 4, y - 4, x + 4, y + 4), outline=CONTACT_COLORS[k], fill=fill)
    return out

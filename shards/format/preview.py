"""``worldclips preview``: an mp4 and a PNG contact sheet per clip, four panels side by side:
RGB | depth colour map | segmentation | skeleton overlay (joints2d on RGB, hollow = occluded),
then one panel per optional layer the clip has: normals (camera frame, (n + 1) / 2 as RGB),
forward optical flow (hue = direction, saturation = speed, grey = occluded) and point tracks
(dots on RGB with a short trail, hollow = hidden).
"""

from __future__ import annotations

import colorsys
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from worldclips.motions.conventions import SMPLX_PARENTS
from worldclips.shards.format.reader import DecodedSample, iter_samples
from worldclips.shards.format.video import encode_mp4

SHEET_FRAMES = 6
BODY_JOINTS = 22  # pelvis .. wrists; face and finger joints are not drawn


def turbo(x: np.ndarray) -> np.ndarray:
    """Google's Turbo colour map, polynomial approximation: x in [0, 1] -> (..., 3) uint8."""
    x = np.clip(x, 0.0, 1.0)[..., None]
    r = (0.13572138, 4.61539260, -42.66032258, 132.13108234, -152.94239396, 59.28637943)
    g = (0.09140261, 2.19418839, 4.84296658, -14.18503333, 4.27729857, 2.82956604)
    b = (0.10667330, 12.64194608, -60.58204836, 110.36276771, -89.90310912, 27.34824973)
    channels = [sum(c * x**i for i, c in enumerate(coeffs)) for coeffs in (r, g, b)]
    return (np.clip(np.concatenate(channels, axis=-1), 0, 1) * 255).astype(np.uint8)


def depth_colors(depth: np.ndarray) -> np.ndarray:
    """(T, H, W) metres -> (T, H, W, 3) uint8, near = warm, per-clip range, black where no surface."""
    valid = depth > 0
    if not valid.any():
        return np.zeros((*depth.shape, 3), np.uint8)
    inverse = np.where(valid, 1.0 / np.where(valid, depth, 1.0), 0.0)
    low, high = np.percentile(inverse[valid], [1, 99])
    colors = turbo((inverse - low) / max(high - low, 1e-9))
    colors[~valid] = 0
    return colors


def instance_colors(segmentation: np.ndarray) -> np.ndarray:
    """(T, H, W) ids -> (T, H, W, 3) uint8, a distinct hue per id (golden-ratio spacing), black for 0."""
    ids = np.unique(segmentation)
    palette = np.zeros((int(ids.max()) + 1, 3), np.uint8)
    for i in ids[ids > 0]:
        palette[i] = [int(255 * c) for c in colorsys.hsv_to_rgb((i * 0.618034) % 1.0, 0.65, 0.95)]
    return palette[segmentation]


def outlined_frames_sheet(rgb: np.ndarray, segmentation: np.ndarray, frames: np.ndarray, outlined: list[int], caption: str) -> Image.Image:
    """A sheet: a caption line, then the chosen frames (rgb (T, H, W, 3) uint8) side by side with
    the instances ``outlined`` (ids) edged in yellow, and the same frames' segmentation below."""
    height, width = segmentation.shape[1:]
    caption_height = 16
    sheet = Image.new("RGB", (width * len(frames), caption_height + 2 * height), (20, 20, 20))
    ImageDraw.Draw(sheet).text((4, 2), caption, fill=(235, 235, 235))
    colors = instance_colors(segmentation[frames])
    for column, t in enumerate(frames):
        tile_rgb = rgb[t].copy()
        mask = np.isin(segmentation[t], outlined)
        edge = mask & ~(np.roll(mask, 1, 0) & np.roll(mask, -1, 0) & np.roll(mask, 1, 1) & np.roll(mask, -1, 1))
        tile_rgb[edge] = (255, 230, 40)
        tile = Image.fromarray(tile_rgb)
        ImageDraw.Draw(tile).text((3, 2), f"t={t}", fill=(255, 255, 255))
        sheet.paste(tile, (column * width, caption_height))
        sheet.paste(Image.fromarray(colors[column]), (column * width, caption_height + height))
    return sheet


def skeleton_overlay(rgb: np.ndarray, pose: dict[str, np.ndarray]) -> np.ndarray:
    """(T, H, W, 3) frames with every person's joints2d drawn on them."""
    frames = []
    height = rgb.shape[1]
    radius = max(1, height // 128)
    for t, frame in enumerate(rgb):
        image = Image.fromarray(frame)
        draw = ImageDraw.Draw(image)
        for person in range(pose["joints2d"].shape[0]):
            color = tuple(int(255 * c) for c in colorsys.hsv_to_rgb((person * 0.27 + 0.1) % 1.0, 0.9, 1.0))
            uv = pose["joints2d"][person, t]
            visible = pose["joints_visible"][person, t]
            valid = pose["joints_valid"][person]
            for child, parent in enumerate(SMPLX_PARENTS[:BODY_JOINTS]):
                if parent >= 0 and valid[child] and valid[parent] and (uv[[child, parent]] >= 0).all():
                    draw.line([tuple(uv[parent]), tuple(uv[child])], fill=color, width=max(1, radius))
            for joint in np.nonzero(valid[:BODY_JOINTS])[0]:
                u, v = uv[joint]
                if u < 0 and v < 0:
                    continue
                box = [u - radius, v - radius, u + radius, v + radius]
                draw.ellipse(box, fill=color if visible[joint] else None, outline=(255, 255, 255) if visible[joint] else color)
        frames.append(np.asarray(image))
    return np.stack(frames)


def normal_colors(normals: np.ndarray) -> np.ndarray:
    """(T, H, W, 3) camera-frame normals -> uint8 RGB (n + 1) / 2, black where no surface."""
    values = normals.astype(np.float32)
    colors = ((values + 1.0) * 127.5).clip(0, 255).astype(np.uint8)
    colors[np.all(values == 0, axis=-1)] = 0
    return colors


def flow_colors(flow: np.ndarray, occluded: np.ndarray) -> np.ndarray:
    """(T, H, W, 2) flow -> uint8 RGB: hue = direction, saturation = speed (per clip, 99th
    percentile = full), occluded pixels grey."""
    speed = np.linalg.norm(flow, axis=-1)
    scale = max(float(np.percentile(speed, 99)), 1e-6)
    hue = (np.arctan2(flow[..., 1], flow[..., 0]) / (2 * np.pi)) % 1.0
    saturation = np.clip(speed / scale, 0, 1)
    h6 = hue * 6.0
    channel = lambda offset: np.clip(np.abs((h6 + offset) % 6.0 - 3.0) - 1.0, 0, 1)  # noqa: E731
    rgb = np.stack([channel(0.0), channel(4.0), channel(2.0)], axis=-1)
    colors = ((1.0 - saturation[..., None] * (1.0 - rgb)) * 255).astype(np.uint8)
    colors[occluded] = 96
    return colors


def tracks_overlay(rgb: np.ndarray, tracks: dict[str, np.ndarray], trail: int = 6) -> np.ndarray:
    """(T, H, W, 3) frames with the point tracks drawn: a dot per point (hollow while hidden) and
    its last ``trail`` positions, a colour per point."""
    frames = []
    radius = max(1, rgb.shape[1] // 160)
    colors = [tuple(int(255 * c) for c in colorsys.hsv_to_rgb((n * 0.618034) % 1.0, 0.8, 1.0))
              for n in range(len(tracks["tracks"]))]  # fmt: skip
    for t, frame in enumerate(rgb):
        image = Image.fromarray(frame)
        draw = ImageDraw.Draw(image)
        for n, path in enumerate(tracks["tracks"]):
            visible = tracks["visible"][n]
            if not visible[max(0, t - trail) : t + 1].any():
                continue
            points = [tuple(path[k]) for k in range(max(0, t - trail), t + 1)]
            if len(points) > 1:
                draw.line(points, fill=colors[n], width=1)
            u, v = path[t]
            box = [u - radius, v - radius, u + radius, v + radius]
            draw.ellipse(box, fill=colors[n] if visible[t] else None, outline=colors[n])
        frames.append(np.asarray(image))
    return np.stack(frames)


def panels(sample: DecodedSample) -> np.ndarray:
    """(T, H, kW, 3) uint8: RGB | depth | segmentation | skeleton, then normals | flow | tracks
    for the optional layers the sample has."""
    strips = [sample.rgb, depth_colors(sample.depth), instance_colors(sample.segmentation), skeleton_overlay(sample.rgb, sample.pose)]
    layers = sample.layers or {}
    if "normals" in layers:
        strips.append(normal_colors(layers["normals"]))
    if "flow" in layers:
        strips.append(flow_colors(layers["flow"]["forward"], layers["flow"]["occluded_forward"]))
    if "tracks" in layers:
        strips.append(tracks_overlay(sample.rgb, layers["tracks"]))
    return np.concatenate(strips, axis=2)


def panel_names(sample: DecodedSample) -> str:
    """The panels' names, left to right, for captions."""
    names = ["RGB", "depth", "segmentation", "skeleton"]
    return " | ".join(names + [name for name in ("normals", "flow", "tracks") if name in (sample.layers or {})])


def contact_sheet(sample: DecodedSample, strip: np.ndarray) -> Image.Image:
    """A PNG-ready sheet: SHEET_FRAMES evenly spaced frames, one row each, with a caption."""
    count = strip.shape[0]
    rows = np.unique(np.linspace(0, count - 1, min(SHEET_FRAMES, count)).round().astype(int))
    caption_height = 18
    sheet = Image.new("RGB", (strip.shape[2], caption_height + strip.shape[1] * len(rows)), (20, 20, 20))
    params = sample.meta.get("scenario_params", {})
    dynamic = f"+{params['num_dynamic_props']} dynamic" if params.get("num_dynamic_props") else ""
    caption = (
        f"{sample.key}  {sample.meta.get('scenario', 'default')}  camera={params.get('camera_family')}  "
        f"people={params.get('num_people')}  props={params.get('num_props')}{dynamic}  frames={count}@{sample.meta.get('fps')}fps  "
        + panel_names(sample)
    )
    ImageDraw.Draw(sheet).text((4, 3), caption, fill=(235, 235, 235))
    for row, t in enumerate(rows):
        tile = Image.fromarray(strip[t])
        ImageDraw.Draw(tile).text((3, 2), f"t={t}", fill=(255, 255, 255))
        sheet.paste(tile, (0, caption_height + row * strip.shape[1]))
    return sheet


def _even(frames: np.ndarray) -> np.ndarray:
    """Pad to even height and width (edge replicate) so the preview plays in every player."""
    pad_h, pad_w = frames.shape[1] % 2, frames.shape[2] % 2
    return np.pad(frames, ((0, 0), (0, pad_h), (0, pad_w), (0, 0)), mode="edge") if pad_h or pad_w else frames


def write_previews(dataset: str | Path, out: str | Path, max_clips: int | None = None) -> list[Path]:
    """Write ``<out>/<key>.mp4`` and ``<out>/<key>.png`` for the first ``max_clips`` clips."""
    out = Path(out)
    written = []
    for index, sample in enumerate(iter_samples(dataset)):
        if max_clips is not None and index >= max_clips:
            break
        out.mkdir(parents=True, exist_ok=True)  # only once there is something to write
        strip = panels(sample)
        video = out / f"{sample.key}.mp4"
        video.write_bytes(encode_mp4(_even(strip), float(sample.meta["fps"])))
        sheet = out / f"{sample.key}.png"
        contact_sheet(sample, strip).save(sheet)
        written += [video, sheet]
    return written

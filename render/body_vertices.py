"""Per-frame world vertices of character bodies on the GPU, as interleaved (position, normal) buffers.

SkinnedVertices skins on the GPU: rest vertices, joint indices and weights and every frame's bone
matrices are uploaded once; each frame one transform-feedback pass writes the skinned world
positions and normals (the same linear blend as ``SkinnedMesh.vertices``, normals blended with
the same matrices). AnimatedVertices writes stored per-frame vertices and CPU normals.
Both buffers hold 6 float32 per vertex and are drawn like static meshes in world space.

With ``neighbours`` (the surface layers: normals, optical flow) the same vertices of frames t + 1
and t - 1 (clamped to the clip) are kept in two more buffers each frame, ``next_buffer`` and
``prev_buffer`` (format ``neighbour_format``), so that every pixel knows where its surface point
moves.

With ``shadow_proxy`` a vertex-clustered copy of the body (a few thousand triangles instead of
tens of thousands) is posed the same way for the sun shadow pass only, where triangle count is
what costs on a CPU rasterizer; colour, depth and segmentation always use the full mesh.
"""

from __future__ import annotations

import moderngl
import numpy as np

from worldclips.motions.body import SkinnedMesh, VertexAnimatedMesh
from worldclips.render import glsl, mesh_data, uniforms
from worldclips.render.programs import Programs

VERTEX_FORMAT = "3f 3f"  # position, normal
POSITION_ONLY_FORMAT = "3f 12x"
SHADOW_PROXY_CELL_M = 0.03  # clustering cell: ~7k triangles for a 24k-vertex body


def _frames(array: np.ndarray, frames: int, what: str) -> np.ndarray:
    if len(array) < frames:
        raise ValueError(f"{what}: has {len(array)} frames, the scene has {frames}")
    return array[:frames]


class SkinnedVertices:
    """GPU linear-blend skinning of one SkinnedMesh by transform feedback."""

    def __init__(
        self,
        ctx: moderngl.Context,
        programs: Programs,
        mesh: SkinnedMesh,
        frames: int,
        alignment: int,
        name: str,
        shadow_proxy: bool = False,
        neighbours: bool = False,
    ) -> None:
        rest = np.ascontiguousarray(mesh.rest_vertices, dtype=np.float32)
        joints = np.ascontiguousarray(mesh.joint_indices, dtype=np.int32)
        weights = np.ascontiguousarray(mesh.joint_weights, dtype=np.float32)
        bones = _frames(np.asarray(mesh.bone_matrices), frames, f"{name}: bone_matrices")
        if rest.ndim != 2 or rest.shape[1] != 3 or joints.shape != (len(rest), 4) or weights.shape != (len(rest), 4):
            raise ValueError(f"{name}: expected (V, 3) rest vertices and (V, 4) joint indices and weights")
        if joints.size and (joints.min() < 0 or joints.max() >= bones.shape[1]):
            raise ValueError(f"{name}: joint indices outside the {bones.shape[1]} bones")
        self.num_vertices = len(rest)
        capacity = uniforms.bone_capacity(bones.shape[1])
        self._stride = uniforms.bone_stride(capacity, alignment)
        normals = mesh_data.VertexNormals(mesh.faces, len(rest))(rest)
        self._bones = ctx.buffer(uniforms.bone_blocks(bones, capacity, self._stride).tobytes())
        self._resources: list = [self._bones]
        program = programs.skinning(capacity)
        self.buffer, self._vao = self._skinning_pass(ctx, program, rest, normals, joints, weights)
        self.num_frames = int(frames)
        self.next_buffer = self.prev_buffer = None
        self.neighbour_format = POSITION_ONLY_FORMAT
        if neighbours:
            self.next_buffer, self.prev_buffer = (self._keep(ctx.buffer(reserve=len(rest) * 24)) for _ in range(2))
        self.shadow_buffer, self.shadow_format, self.shadow_faces = self.buffer, POSITION_ONLY_FORMAT, None
        self._shadow_vao = None
        if shadow_proxy:
            keep, self.shadow_faces = mesh_data.shadow_proxy(rest, mesh.faces, SHADOW_PROXY_CELL_M)
            self.shadow_buffer, self._shadow_vao = self._skinning_pass(
                ctx, program, rest[keep], normals[keep], joints[keep], weights[keep]
            )
        self.uv_source = (rest, 1)  # bind pose, native Y-up
        self._current = -1

    def _skinning_pass(self, ctx, program, rest, normals, joints, weights):
        """Buffers and a transform-feedback vertex array skinning these vertices into a new buffer."""
        inputs = [ctx.buffer(np.ascontiguousarray(a).tobytes()) for a in (rest, normals, joints, weights)]
        output = ctx.buffer(reserve=len(rest) * 24)
        content = [
            (inputs[0], "3f", "in_position"),
            (inputs[1], "3f", "in_normal"),
            (inputs[2], "4i", "in_joints"),
            (inputs[3], "4f", "in_weights"),
        ]
        vao = ctx.vertex_array(program, content)
        self._resources += [*inputs, output, vao]
        return output, vao

    def _keep(self, resource):
        self._resources.append(resource)
        return resource

    def update(self, frame: int) -> None:
        """Skin frame `frame` into self.buffer (a complete framebuffer must be bound)."""
        if frame == self._current:
            return
        if self.next_buffer is not None:
            for buffer, neighbour in ((self.next_buffer, frame + 1), (self.prev_buffer, frame - 1)):
                self._skin(min(max(neighbour, 0), self.num_frames - 1), self._vao, buffer)
        self._skin(frame, self._vao, self.buffer)
        if self._shadow_vao is not None:
            self._shadow_vao.transform(self.shadow_buffer, moderngl.POINTS)
        self._current = frame

    def _skin(self, frame: int, vao, buffer) -> None:
        self._bones.bind_to_uniform_block(glsl.BONES_BINDING, offset=frame * self._stride, size=self._stride)
        vao.transform(buffer, moderngl.POINTS)

    def release(self) -> None:
        for resource in reversed(self._resources):
            resource.release()
        self._resources.clear()


class AnimatedVertices:
    """Stored per-frame world vertices of a VertexAnimatedMesh, with normals computed on the CPU."""

    def __init__(
        self, ctx: moderngl.Context, mesh: VertexAnimatedMesh, frames: int, name: str, shadow_proxy: bool = False,
        neighbours: bool = False,
    ) -> None:
        stored = np.asarray(mesh.frame_vertices)
        self._frames = np.ascontiguousarray(_frames(stored, frames, f"{name}: frame_vertices"), dtype=np.float32)
        if self._frames.ndim != 3 or self._frames.shape[2] != 3:
            raise ValueError(f"{name}: expected (T, V, 3) frame vertices, got {self._frames.shape}")
        self.num_vertices = self._frames.shape[1]
        self._normals = mesh_data.VertexNormals(mesh.faces, self.num_vertices)
        self._interleaved = np.empty((self.num_vertices, 6), dtype=np.float32)
        self.buffer = ctx.buffer(reserve=self.num_vertices * 24, dynamic=True)
        self.next_buffer = self.prev_buffer = None
        self.neighbour_format = "3f"
        if neighbours:
            self.next_buffer, self.prev_buffer = (ctx.buffer(reserve=self.num_vertices * 12, dynamic=True) for _ in range(2))
        self.uv_source = (self._frames[0], 2)  # first frame, world Z-up
        self.shadow_buffer, self.shadow_format, self.shadow_faces = self.buffer, POSITION_ONLY_FORMAT, None
        self._proxy_frames = None
        if shadow_proxy:
            keep, self.shadow_faces = mesh_data.shadow_proxy(self._frames[0], mesh.faces, SHADOW_PROXY_CELL_M)
            self._proxy_frames = np.ascontiguousarray(self._frames[:, keep])
            self.shadow_buffer = ctx.buffer(reserve=self._proxy_frames[0].nbytes, dynamic=True)
            self.shadow_format = "3f"
        self._current = -1

    def update(self, frame: int) -> None:
        if frame == self._current:
            return
        self._interleaved[:, :3] = self._frames[frame]
        self._interleaved[:, 3:] = self._normals(self._frames[frame])
        self.buffer.write(self._interleaved)
        if self._proxy_frames is not None:
            self.shadow_buffer.write(self._proxy_frames[frame])
        if self.next_buffer is not None:
            last = len(self._frames) - 1
            self.next_buffer.write(self._frames[min(frame + 1, last)])
            self.prev_buffer.write(self._frames[max(frame - 1, 0)])
        self._current = frame

    def release(self) -> None:
        if self.shadow_buffer is not self.buffer:
            self.shadow_buffer.release()
        for buffer in (self.next_buffer, self.prev_buffer):
            if buffer is not None:
                buffer.release()
        self.buffer.release()

"""The install owns one name: the wheel holds only worldclips/..., and user files named like the
stages (render.py, train.py...) do not shadow them."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STAGES = ("motions", "scenes", "render", "shards", "train")


def test_wheel_holds_only_the_worldclips_name(tmp_path):
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--quiet", "-w", str(tmp_path), str(ROOT)],
        check=True, capture_output=True, cwd=tmp_path,
    )  # fmt: skip
    (wheel,) = tmp_path.glob("worldclips-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    tops = {name.split("/")[0] for name in names}
    assert {t for t in tops if not t.endswith(".dist-info")} == {"worldclips"}, sorted(tops)
    for stage in STAGES:
        assert f"worldclips/{stage}/__init__.py" in names
    assert "worldclips/shards/format/validate.py" in names and "worldclips/shards/job/farm.py" in names
    assert any(n.startswith("worldclips/scenes/scenarios/presets/") and n.endswith(".yaml") for n in names)
    assert "worldclips/render/cycles/worker.py" in names
    top_level = [n for n in names if n.endswith("top_level.txt")]
    if top_level:
        assert zipfile.ZipFile(wheel).read(top_level[0]).decode().split() == ["worldclips"]


def _clashing_folder(tmp_path: Path) -> Path:
    """A user's folder whose own modules carry the stages' names (and fail loudly if imported)."""
    folder = tmp_path / "user_project"
    folder.mkdir()
    for stage in STAGES:
        (folder / f"{stage}.py").write_text(f"raise SystemExit('the user\\'s own {stage}.py was imported')\n")
    return folder


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], cwd=cwd, capture_output=True, text=True, timeout=300)


def test_cli_runs_from_a_folder_with_clashing_module_names(tmp_path):
    folder = _clashing_folder(tmp_path)
    for args in (["-m", "worldclips", "--help"], ["-m", "worldclips", "train", "--help"],
                 ["-m", "worldclips", "generate", "--help"], ["-m", "worldclips", "scenarios", "list"]):
        result = _run(args, folder)
        assert result.returncode == 0, (args, result.stderr[-2000:])
        assert "was imported" not in result.stdout + result.stderr
    listed = _run(["-m", "worldclips", "scenarios", "list"], folder).stdout
    assert "occlusion_pass" in listed


def test_stage_modules_import_under_the_namespace_and_not_at_top_level(tmp_path):
    folder = _clashing_folder(tmp_path)
    code = (
        "import importlib, importlib.util, sys\n"
        "import worldclips.shards.format.validate, worldclips.scenes.sampling, worldclips.render.backends\n"
        "import worldclips.train.config\n"
        "sys.path = [p for p in sys.path if p not in ('', '.')]\n"
        f"print([n for n in {STAGES!r} if importlib.util.find_spec(n) is not None])\n"
    )
    result = _run(["-c", code], folder)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "[]"  # nothing installed a top-level `render`, `train`...


BLOCK_TRAIN_EXTRA = (  # as if the extras were not installed: importing them fails
    "import sys\n"
    "class NotInstalled:\n"
    "    def find_spec(self, name, path=None, target=None):\n"
    "        if name.split('.')[0] in ('torch', 'diffusers', 'transformers', 'peft', 'safetensors', 'smplx', 'tensorboard'):\n"
    "            raise ModuleNotFoundError(f'No module named {name!r}')\n"
    "sys.meta_path.insert(0, NotInstalled())\n"
    "from worldclips.cli import main\n"
)


def test_generate_validate_preview_need_no_trainer_libraries(tmp_path):
    """`pip install worldclips` (no extras) renders, validates and previews; train says which extra it needs."""
    out, preview, models = tmp_path / "data", tmp_path / "preview", tmp_path / "models"
    models.mkdir()
    (models / "SMPLX_NEUTRAL.npz").write_bytes(b"not read: the missing extra is reported first")
    code = BLOCK_TRAIN_EXTRA + (
        f"assert main(['generate', '--out', {str(out)!r}, '--clips', '1', '--frames', '3', '--size', '32x24', '--quiet', '--no-ray']) == 0\n"
        f"assert main(['validate', {str(out)!r}]) == 0\n"
        f"assert main(['preview', {str(out)!r}, '--out', {str(preview)!r}]) == 0\n"
        f"assert main(['train', '--data', {str(out)!r}, '--out', {str(tmp_path / 'run')!r}]) == 1\n"
        f"assert main(['generate', '--out', {str(tmp_path / 'x')!r}, '--smplx-model-dir', {str(models)!r}, '--quiet']) == 2\n"
        "print('loaded:', sorted(m for m in ('torch', 'diffusers') if sys.modules.get(m) is not None))\n"
    )
    result = _run(["-c", code], tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "loaded: []" in result.stdout
    lines = result.stderr.strip().splitlines()
    assert any("worldclips train needs the trainer's libraries" in line and "worldclips[train]" in line for line in lines)
    assert any("smplx_model_dir" in line and "worldclips[smplx]" in line for line in lines), lines
    assert sorted(p.suffix for p in preview.iterdir()) == [".mp4", ".png"]


def test_validate_and_preview_do_not_import_the_job():
    code = (
        "import sys\n"
        "import worldclips.shards.format.validate, worldclips.shards.format.preview\n"
        "print(sorted(m for m in sys.modules if m.startswith('worldclips.shards.job') or m in ('ray', 'torch')))\n"
    )
    result = _run(["-c", code], ROOT)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "[]"

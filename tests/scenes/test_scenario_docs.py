"""docs/scenarios.md and the preset pages: a page per preset that matches the preset, and the
page's example scenarios, written to files as a researcher would, generate verified clips."""

import json
import re
import sys
import tarfile
from pathlib import Path

import pytest

from worldclips.scenes.scenarios.loader import ScenarioError, load_scenario, preset_names
from worldclips.shards.format.meta_schema import expanded
from worldclips.scenes.scenarios.mixture import load_mixture
from worldclips.shards.job.config import resolve_config
from worldclips.shards.job.generate import generate

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "scenarios.md"
sys.path.insert(0, str(ROOT / "tools"))

from scenario_pages import page  # noqa: E402


def _examples() -> dict[str, str]:
    """The doc's YAML blocks that start with ``# file: PATH``, by path."""
    blocks = re.findall(r"```yaml\n(# file: (\S+)\n.*?)```", DOC.read_text(), flags=re.S)
    return {path: text for text, path in blocks}


def _write_examples(directory: Path) -> dict[str, Path]:
    written = {}
    for name, text in _examples().items():
        path = directory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        written[name] = path
    return written


@pytest.mark.parametrize("name", preset_names())
def test_every_preset_has_an_up_to_date_page_with_a_preview(name):
    page_path = ROOT / "docs" / "scenarios" / f"{name}.md"
    assert page_path.read_text() == page(name), f"{page_path} is stale: run python tools/scenario_pages.py"
    assert (ROOT / "docs" / "images" / f"scenario-{name}.png").stat().st_size > 5000
    _, scenario = load_scenario(name)
    text = page_path.read_text()
    for check in scenario.properties:
        assert f"`check: {check.check}`" in text
    assert f"[{name}](scenarios/{name}.md)" in DOC.read_text()


def test_the_doc_documents_every_check_and_layout_kind():
    from worldclips.scenes.scenarios.checks import CHECK_KINDS
    from worldclips.scenes.scenarios.layout_schema import LAYOUT_KINDS

    text = DOC.read_text()
    for kind in CHECK_KINDS:
        assert f"| `{kind}` |" in text, kind
    for kind in LAYOUT_KINDS:
        assert f"| `{kind}` |" in text, kind


def test_the_error_examples_are_what_the_loader_says(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    shown = re.findall(r"^my\.yaml.*$", DOC.read_text(), flags=re.M)
    files = [
        "layout:\n  kind: ball_pass\n  distance_m: [3.8, 3.2]\n",
        "layout:\n  kind: ball_pass\nproperties:\n  - {check: occluded, object: piano}\n",
        "extends: occlusion_pass\ncamera:\n  family: crane\n",
    ]
    assert len(shown) == len(files)
    for expected, text in zip(shown, files):
        Path("my.yaml").write_text(text)
        with pytest.raises(ScenarioError) as error:
            load_scenario("my.yaml")
        prefix = expected.split("[...]")[0]
        assert str(error.value).startswith(prefix), (str(error.value), expected)


def test_the_mixture_example_loads(tmp_path):
    _write_examples(tmp_path)
    block = re.search(r"```yaml\n(description: Occlusion and camera-motion.*?)```", DOC.read_text(), flags=re.S).group(1)
    (tmp_path / "mix.yaml").write_text(block)
    mixture = load_mixture(str(tmp_path / "mix.yaml"))
    assert {e.name: e.weight for e in mixture.entries} == {"occlusion_pass": 2.0, "orbit_walk": 1.0, "dance_orbit": 1.0}


def test_the_example_scenarios_generate_verified_clips(tmp_path, monkeypatch):
    written = _write_examples(tmp_path)
    assert set(written) == {"my_scenarios/occlusion_wide.yaml", "my_scenarios/dance_orbit.yaml"}
    monkeypatch.chdir(tmp_path)
    for name in written:
        out = tmp_path / Path(name).stem
        config = resolve_config({}, {"out": str(out), "clips": 1, "scenario": name, "ray": False, "max_redraws": 4}, source="test")
        generate(config, progress=False)
        with tarfile.open(next(out.glob("shard-*.tar"))) as archive:
            member = next(m for m in archive.getmembers() if m.name.endswith("meta.json"))
            meta = expanded(json.load(archive.extractfile(member)))  # properties, scenario: JSON text
        assert meta["scenario"] == Path(name).stem and meta["verified"] is True
        assert all(result["passed"] for result in meta["properties"].values())
        if "dance_orbit" in name:
            assert meta["properties"]["orbit_sweep"]["values"]["sweep_deg"] >= 100
            assert meta["scenario_params"]["people_motion"][0] in ("dance", "wave")
        else:
            assert meta["properties"]["ball_hidden"]["values"]["hidden_frames"] >= 2
            assert meta["scenario_params"]["scenario"]["values"]["throws"] == 3

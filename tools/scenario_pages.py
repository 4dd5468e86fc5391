"""The docs page of every scenario preset (docs/scenarios/<name>.md), written from the preset itself.

    python tools/scenario_pages.py [--check]

A page has the preset's description, its contact sheet (tools/scenario_previews.py), its
properties in words (from the check classes' documentation, with the preset's thresholds), the
command that generates it and the preset file verbatim. ``--check`` exits 1 when a page is out of
date (tests/scenes/test_scenario_docs.py runs the same comparison).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from worldclips.scenes.scenarios.checks import CHECK_CLASSES, label  # noqa: E402
from worldclips.scenes.scenarios.loader import PRESET_DIR, load_scenario, preset_names  # noqa: E402
from worldclips.scenes.serialization import to_jsonable  # noqa: E402

DOCS = Path(__file__).resolve().parents[1] / "docs"
PAGE_DIR = DOCS / "scenarios"


def _check_text(check) -> str:
    doc = " ".join((CHECK_CLASSES[check.check].__doc__ or "").split())
    params = {k: v for k, v in to_jsonable(check).items() if k not in ("check", "name")}
    shown = ", ".join(f"`{k}: {v}`" for k, v in params.items())
    return f"- **{label(check)}** (`check: {check.check}`; {shown}): {doc}"


def page(name: str) -> str:
    """The markdown page of preset ``name``."""
    stem, scenario = load_scenario(name)
    source = (PRESET_DIR / f"{stem}.yaml").read_text(encoding="utf-8").rstrip("\n")
    description = " ".join(scenario.description.split())
    split = ""
    if scenario.layout.kind == "physics" and scenario.layout.has_splits:
        split = " [--split id|ood]"
    lines = [
        f"# Scenario `{stem}`",
        "",
        "<!-- written by tools/scenario_pages.py from the preset file; edit the preset, then run it -->",
        "",
        description,
        "",
        f"![{stem}: frames over the clip above their instance segmentation](../images/scenario-{stem}.png)",
        "",
        "The sheet shows RGB frames spread over one verified clip (objects its properties name are",
        "outlined) above the same frames' instance segmentation; the caption gives the measured values.",
        "",
        "## Generate",
        "",
        "```bash",
        f"worldclips generate --scenario {stem}{split} --clips 16 --out data/{stem}",
        "```",
        "",
        "## Verified properties",
        "",
        "Measured on every clip's ground truth after rendering; a clip without them is re-drawn",
        "(see [scenarios](../scenarios.md#verification)).",
        "",
        *[_check_text(check) for check in scenario.properties],
        "",
        "## The preset file",
        "",
        f"`scenes/scenarios/presets/{stem}.yaml` (fields not given take the defaults that",
        f"`worldclips scenarios show {stem}` prints):",
        "",
        "```yaml",
        source,
        "```",
        "",
    ]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report pages that are out of date")
    args = parser.parse_args()
    stale = []
    PAGE_DIR.mkdir(parents=True, exist_ok=True)
    for name in preset_names():
        path, text = PAGE_DIR / f"{name}.md", page(name)
        if path.is_file() and path.read_text(encoding="utf-8") == text:
            continue
        if args.check:
            stale.append(str(path))
        else:
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path}")
    if stale:
        print(f"out of date (run tools/scenario_pages.py): {', '.join(stale)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

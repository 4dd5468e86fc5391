"""Installed size of each install variant of worldclips, measured on the current environment.

For each variant (``pip install worldclips``, ``[train]``, ``[smplx]``, ``[test]``) the closure
of its requirements is resolved against the installed distributions (importlib.metadata) and
the sizes of the files each distribution's RECORD lists are added up. Run it in an environment
where ``.[test]`` is installed (it holds every variant):

    python bench/install_size.py
"""

from __future__ import annotations

import re
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement

VARIANTS = {"worldclips": (), "worldclips[train]": ("train",), "worldclips[smplx]": ("smplx",), "worldclips[test]": ("test",)}


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def closure(root: str, extras: tuple[str, ...]) -> set[str]:
    """Installed distributions that ``root[extras]`` pulls in, itself included."""
    seen: set[str] = set()
    todo = [(root, set(extras))]
    while todo:
        name, wanted = todo.pop()
        key = (_normal(name), tuple(sorted(wanted)))
        if key in seen:
            continue
        seen.add(key)
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue
        for text in dist.requires or []:
            requirement = Requirement(text)
            marker = requirement.marker
            if marker is not None and not any(marker.evaluate({"extra": extra}) for extra in (wanted or {""})):
                continue
            todo.append((requirement.name, set(requirement.extras)))
    return {name for name, _ in seen}


def installed_bytes(name: str) -> int:
    try:
        dist = metadata.distribution(name)
    except metadata.PackageNotFoundError:
        return 0
    total = 0
    for file in dist.files or []:
        path = Path(dist.locate_file(file))
        if path.is_file():
            total += path.stat().st_size
    return total


def main() -> None:
    print(f"{'variant':<20} {'distributions':>13} {'installed MB':>13}  largest")
    for label, extras in VARIANTS.items():
        names = closure("worldclips", extras)
        sizes = sorted(((installed_bytes(n), n) for n in names), reverse=True)
        total = sum(size for size, _ in sizes)
        largest = ", ".join(f"{n} {s / 1e6:.0f}" for s, n in sizes[:4])
        print(f"{label:<20} {len(names):>13} {total / 1e6:>13.0f}  {largest}")


if __name__ == "__main__":
    main()

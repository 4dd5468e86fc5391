"""Acceptance of scenario clips: how many draws had each property, per scenario.

A shard task counts, per scenario: ``clips`` (clips made), ``verified`` (clips whose kept draw
has every property), ``first_draw_verified`` (verified at the first draw), ``draws`` (draws
measured) and per property ``draws`` / ``passed`` over all measured draws and ``first_draws`` /
``first_passed`` over first draws. Shards' tallies add up; ``summary`` adds the rates that the
manifest reports (``summary.scenarios``).
"""

from __future__ import annotations

import copy


def _scenario(tally: dict, name: str) -> dict:
    return tally.setdefault(name, {"clips": 0, "verified": 0, "first_draw_verified": 0, "draws": 0, "properties": {}})


def count_draw(tally: dict, scenario: str, attempt: int, results: dict) -> None:
    """A measured draw: every property's outcome."""
    row = _scenario(tally, scenario)
    row["draws"] += 1
    for name, result in results.items():
        prop = row["properties"].setdefault(name, {"draws": 0, "passed": 0, "first_draws": 0, "first_passed": 0})
        prop["draws"] += 1
        prop["passed"] += int(result["passed"])
        if attempt == 0:
            prop["first_draws"] += 1
            prop["first_passed"] += int(result["passed"])


def count_clip(tally: dict, scenario: str, attempt: int, verified: bool) -> None:
    """A clip made (its kept draw was number ``attempt``)."""
    row = _scenario(tally, scenario)
    row["clips"] += 1
    row["verified"] += int(verified)
    row["first_draw_verified"] += int(verified and attempt == 0)


def merge(total: dict, tally: dict) -> dict:
    """``total`` plus ``tally`` (a new dict)."""
    out = copy.deepcopy(total)
    for name, row in tally.items():
        into = _scenario(out, name)
        for key in ("clips", "verified", "first_draw_verified", "draws"):
            into[key] += int(row.get(key, 0))
        for prop, counts in row.get("properties", {}).items():
            target = into["properties"].setdefault(prop, {"draws": 0, "passed": 0, "first_draws": 0, "first_passed": 0})
            for key in target:
                target[key] += int(counts.get(key, 0))
    return out


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def summary(tally: dict) -> dict:
    """The tallies with rates: first_draw_rate and verified_rate per scenario, rate and
    first_draw_rate per property."""
    out = {}
    for name, row in sorted(tally.items()):
        properties = {
            prop: {**counts, "rate": _rate(counts["passed"], counts["draws"]), "first_draw_rate": _rate(counts["first_passed"], counts["first_draws"])}
            for prop, counts in row["properties"].items()
        }  # fmt: skip
        out[name] = {
            **{k: row[k] for k in ("clips", "verified", "first_draw_verified", "draws")},
            "first_draw_rate": _rate(row["first_draw_verified"], row["clips"]), "verified_rate": _rate(row["verified"], row["clips"]),
            "properties": properties,
        }  # fmt: skip
    return out


def report_lines(scenarios: dict) -> list[str]:
    """One line per scenario and property, for the console."""
    lines = []
    for name, row in scenarios.items():
        lines.append(f"{name}: {row['verified']}/{row['clips']} clips verified ({row['first_draw_verified']} at the first draw, "
                     f"{row['draws']} draws)")  # fmt: skip
        for prop, counts in row["properties"].items():
            lines.append(f"  {prop}: {counts['passed']}/{counts['draws']} draws passed ({counts['first_passed']}/{counts['first_draws']} first draws)")
    return lines

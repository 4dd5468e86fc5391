"""docs/conventions.md states the same facts as the conventions and schema modules."""

import re
from pathlib import Path

import smplx.joint_names

from worldclips.motions import conventions
from worldclips.scenes.physics_contacts import FOOT_CONTACT_M
from worldclips.shards.format.schema import CONVENTIONS, SCHEMA_VERSION, schema_table

DOC = (Path(__file__).parents[1] / "docs" / "conventions.md").read_text()


def _section(name: str) -> str:
    match = re.search(rf"<!-- {name}:begin -->\n(.*?)\n<!-- {name}:end -->", DOC, re.S)
    assert match, f"section {name} missing from docs/conventions.md"
    return match.group(1)


def test_schema_table_matches_schema_module():
    assert _section("schema") == schema_table()


def test_joint_list_matches_code_and_smplx():
    listed = [line.split()[1] for line in _section("joints").strip("`\n").splitlines()]
    assert tuple(listed) == conventions.SMPLX_JOINT_NAMES
    assert tuple(smplx.joint_names.JOINT_NAMES[:55]) == conventions.SMPLX_JOINT_NAMES


def test_parents_match_smplx_kinematic_tree():
    # Parents follow from the joint names' anatomy: check a few chains by name.
    names = conventions.SMPLX_JOINT_NAMES
    parent = {names[i]: names[p] for i, p in enumerate(conventions.SMPLX_PARENTS) if p >= 0}
    assert parent["left_knee"] == "left_hip" and parent["left_ankle"] == "left_knee"
    assert parent["left_wrist"] == "left_elbow" and parent["left_index1"] == "left_wrist"
    assert parent["right_thumb3"] == "right_thumb2" and parent["jaw"] == "head"
    assert all(p < i for i, p in enumerate(conventions.SMPLX_PARENTS))


def test_summary_matches_meta_conventions():
    lines = _section("conventions").splitlines()
    assert lines == [f"- **{k}**: {v}" for k, v in CONVENTIONS.items()]


def test_constants_in_prose_match_code():
    assert f"below {conventions.MIN_PROJECTION_DEPTH_M} m" in DOC
    assert f"less than {conventions.JOINT_VISIBILITY_TOLERANCE_M} m in front" in DOC
    assert f"({conventions.PROJECTION_UNDEFINED}, {conventions.PROJECTION_UNDEFINED})" in DOC
    assert f"## Sample schema v{SCHEMA_VERSION}" in DOC
    assert f"within {FOOT_CONTACT_M} m of the ground" in DOC
    assert f"- **v{SCHEMA_VERSION}**:" in DOC

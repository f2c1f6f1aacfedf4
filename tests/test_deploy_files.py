"""What a Python buildpack reads (requirements.txt, .python-version) says what pyproject.toml
says: a platform that installs from one while the tests ran against the other would deploy a
bot nobody tested."""

from __future__ import annotations

import tomllib

from conftest import ROOT

HEADER = "# pyproject.toml's dependencies, for buildpacks; a test fails when they drift.\n"


def expected_requirements() -> str:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return HEADER + "".join(f"{dependency}\n" for dependency in project["dependencies"])


def test_requirements_txt_matches_pyproject() -> None:
    shipped = (ROOT / "requirements.txt").read_text(encoding="utf-8")
    assert shipped == expected_requirements(), (
        "requirements.txt has drifted from pyproject.toml; replace it with:\n"
        + expected_requirements()
    )


def test_the_pinned_python_is_one_pyproject_allows() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    pinned = (ROOT / ".python-version").read_text(encoding="utf-8").strip()
    minimum = project["requires-python"].removeprefix(">=")
    assert tuple(map(int, pinned.split("."))) >= tuple(map(int, minimum.split(".")))

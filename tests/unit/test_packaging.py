"""The wheel holds every package of the source tree: pyproject.toml lists packages by hand
(``providers`` installs as ``samljit.providers``), so a new sub-package left off the list
works in an editable install and is missing from a regular one (`pip install .`, pipx)."""

from __future__ import annotations

import sys

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10: the same parser, installed as mypy's dependency
    import tomli as tomllib

from tests.support.paths import REPO


def _source_packages() -> set[str]:
    found = set()
    for root, name in ((REPO / "samljit", "samljit"), (REPO / "providers", "samljit.providers")):
        for init in root.rglob("__init__.py"):
            parts = init.parent.relative_to(root).parts
            found.add(".".join((name, *parts)))
    return found


def test_every_source_package_is_in_the_wheel() -> None:
    config = tomllib.loads((REPO / "pyproject.toml").read_text())
    listed = set(config["tool"]["setuptools"]["packages"])
    missing = sorted(_source_packages() - listed)
    assert not missing, f"add to [tool.setuptools] packages in pyproject.toml: {missing}"

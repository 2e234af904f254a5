"""The package layers: dependencies point one way, and the core imports no deep-learning runtime."""
from __future__ import annotations

import ast
import subprocess
import sys

import pytest

from conftest import REPO

RUNTIMES = {"tensorflow", "keras", "ray"}


# What each package may import of the others: dependencies point one way, from the command
# line down to the architecture core (docs/architecture.md).
ALLOWED = {
    "infra": set(),
    "search_space": {"infra"},
    "scaling": {"infra", "search_space"},
    "analysis": {"infra", "search_space"},
    "video_data": {"infra", "search_space"},
    "training": {"infra", "search_space", "video_data", "analysis"},
    "proxies": {"infra", "search_space", "video_data", "training"},
    "deploy": {"infra", "search_space", "video_data", "training", "analysis"},
    "search": {"infra", "search_space", "scaling", "analysis", "video_data", "training", "proxies"},
    "cli": {"infra", "search_space", "scaling", "analysis", "video_data", "training", "proxies", "deploy", "search"},
}


def test_dependencies_point_one_way():
    found = {}
    for package in ALLOWED:
        for path in (REPO / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                names = ([node.module] if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module
                         else [a.name for a in node.names] if isinstance(node, ast.Import) else [])
                for name in names:
                    top = name.split(".")[0]
                    if top in ALLOWED and top != package and top not in ALLOWED[package]:
                        found[f"{path.relative_to(REPO)} imports {name}"] = package
    assert not found, sorted(found)


@pytest.mark.parametrize("modules", ["infra", "search_space", "scaling", "analysis", "video_data.config",
                                     "training.config", "proxies.config", "search.options", "cli"])
def test_core_packages_import_no_deep_learning_runtime(modules):
    code = (f"import sys, {modules}; loaded = {sorted(RUNTIMES)!r}; "
            "bad = sorted(m for m in sys.modules if m.split('.')[0] in loaded); assert not bad, bad")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)
    assert run.returncode == 0, run.stderr[-800:]

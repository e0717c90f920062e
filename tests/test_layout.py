"""The house rules of ../shared/DESIGN.md, checked from the source: floors and what each may import, one
home per check area, and every check, fault and scenario id written literally, once, where it is defined.
"""

from __future__ import annotations

import ast
import re
from collections import defaultdict
from pathlib import Path

import pytest
from _repo import REPO_ROOT

from compat_suite.checks import registry as check_registry
from compat_suite.scenarios import SUITE_OF_AREA
from compat_suite.scenarios import registry as scenario_registry
from reference_server.faults import catalog

PACKAGES = ("schemas", "compat_suite", "reference_server", "reports", "suites")
# Entry points (floor 3) inside the library's package: the command line and the pytest plugin.
ENTRY_POINTS = ("compat_suite/cli.py", "compat_suite/plugin.py", "compat_suite/fixtures.py")
# What each floor may import of ours, besides itself.
MAY_IMPORT = {
    "schemas": set(),
    "compat_suite": {"schemas"},
    "reference_server": {"schemas"},
    "reports": {"schemas"},
    "suites": {"schemas", "compat_suite"},
}
ENTRY_POINT_MAY_IMPORT = {"schemas", "compat_suite", "reference_server", "reports", "suites"}


def imports_of(path: Path) -> list[str]:
    """The absolute module names `path` imports (relative imports stay inside its package)."""
    names = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.append(node.module)
    return names


def sources(package: str) -> list[Path]:
    return [p for p in sorted((REPO_ROOT / package).rglob("*.py")) if "node_modules" not in p.parts]


def package_graph() -> dict[str, dict[str, set[str]]]:
    """package -> imported package of ours -> the files that import it."""
    graph: dict[str, dict[str, set[str]]] = {p: defaultdict(set) for p in PACKAGES}
    for package in PACKAGES:
        for path in sources(package):
            for name in imports_of(path):
                top = name.split(".")[0]
                if top in PACKAGES and top != package:
                    graph[package][top].add(str(path.relative_to(REPO_ROOT)))
    return graph


def test_no_import_cycle_between_top_level_packages() -> None:
    graph = {p: set(edges) for p, edges in package_graph().items()}

    def reaches(start: str, goal: str, seen: frozenset[str] = frozenset()) -> bool:
        return any(n == goal or (n not in seen and reaches(n, goal, seen | {n})) for n in graph[start])

    cycles = sorted(p for p in PACKAGES if reaches(p, p))
    assert not cycles, f"packages on an import cycle: {cycles} ({graph})"


@pytest.mark.parametrize("package", PACKAGES)
def test_each_floor_imports_only_what_is_below_it(package: str) -> None:
    wrong = []
    for path in sources(package):
        relative = str(path.relative_to(REPO_ROOT))
        allowed = ENTRY_POINT_MAY_IMPORT if relative in ENTRY_POINTS else MAY_IMPORT[package]
        for name in imports_of(path):
            top = name.split(".")[0]
            if top in PACKAGES and top != package and top not in allowed:
                wrong.append(f"{relative} imports {name}")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("package", PACKAGES)
def test_no_private_module_is_imported_across_a_package_border(package: str) -> None:
    wrong = [
        f"{path.relative_to(REPO_ROOT)} imports {name}"
        for path in sources(package)
        for name in imports_of(path)
        if name.split(".")[0] in PACKAGES
        and name.split(".")[0] != package
        and any(part.startswith("_") for part in name.split(".")[1:])
    ]
    assert not wrong, "\n".join(wrong)


def test_the_library_never_imports_locust_torch_or_gevent_at_module_level() -> None:
    """Only locust processes (locustfiles, compat_suite.load.users) and the transformers engine may."""
    heavy = {"locust", "gevent", "torch", "transformers"}
    allowed = {
        "compat_suite/load/users.py",
        "compat_suite/load/_ramp_locustfile.py",
        "suites/load/locustfile.py",
        "reference_server/engines/transformers_engine.py",
        "reference_server/engines/_batcher.py",
        "reference_server/engines/_causal_batch.py",
        "reference_server/engines/_grammar.py",
    }
    wrong = []
    for package in PACKAGES:
        for path in sources(package):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in tree.body:  # module level only: a lazy import inside a function is fine
                names = []
                if isinstance(node, ast.Import):
                    names = [a.name for a in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module]
                relative = str(path.relative_to(REPO_ROOT))
                wrong += [
                    f"{relative}: {n}" for n in names if n.split(".")[0] in heavy and relative not in allowed
                ]
    assert not wrong, "\n".join(wrong)


# -- one home per check area ------------------------------------------------------------------------
def literal_counts(files: list[Path]) -> dict[str, list[str]]:
    """Every string literal in `files` -> the files it stands in (once per occurrence)."""
    found: dict[str, list[str]] = defaultdict(list)
    for path in files:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                found[node.value].append(path.name)
    return found


def area_modules(package: str) -> list[Path]:
    return [p for p in sorted((REPO_ROOT / package).glob("*.py")) if not p.name.startswith("_")]


def _ids_and_areas(kind: str) -> dict[str, str]:
    """Every id of a kind, with the area module it must be written in."""
    if kind == "fault":  # a fault lives with the checks of the area it breaks
        return {fault.id: fault.check.split(".")[0] for fault in catalog().values()}
    ids = check_registry() if kind == "check" else scenario_registry()
    return {item_id: item_id.split(".")[0] for item_id in ids}


@pytest.mark.parametrize(
    ("kind", "package"),
    [
        ("check", "compat_suite/checks"),
        ("scenario", "compat_suite/scenarios"),
        ("fault", "reference_server/faults"),
    ],
)
def test_every_id_is_written_once_in_its_area_module(kind: str, package: str) -> None:
    literals = literal_counts(area_modules(package))
    wrong = {
        item_id: literals.get(item_id, [])
        for item_id, area in _ids_and_areas(kind).items()
        if literals.get(item_id, []) != [area + ".py"]
    }
    assert not wrong, f"{kind} ids not written exactly once, in their area's module under {package}: {wrong}"


def test_the_areas_are_the_same_everywhere() -> None:
    """A check area's modules have one name in each place (a place may lack an area it has nothing for:
    transport's checks ride on every scenario's exchanges)."""
    checks = {p.stem for p in area_modules("compat_suite/checks")}
    faults = {p.stem for p in area_modules("reference_server/faults")}
    scenarios = {p.stem for p in area_modules("compat_suite/scenarios")}
    tests = {
        p.name for p in (REPO_ROOT / "tests").iterdir() if p.is_dir() and not p.name.startswith(("_", "."))
    }
    assert faults == checks, f"faults/ areas {sorted(faults)} != checks/ areas {sorted(checks)}"
    assert scenarios <= checks and scenarios == set(SUITE_OF_AREA), sorted(scenarios)
    assert checks <= tests, f"areas without a tests/<area>/ folder: {sorted(checks - tests)}"


def test_kebab_case_ids() -> None:
    pattern = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*(\.[a-z0-9]+(-[a-z0-9]+)*)+$")
    bad = [i for i in (*check_registry(), *scenario_registry()) if not pattern.match(i)]
    assert not bad, bad

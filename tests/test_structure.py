"""The layout's rules, kept by tests: the library never imports click, only `records` parses
YAML or names the manifest file, only `settings` reads configuration from the environment,
and no library module grows much past 400 lines."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "digest_cli"
MODULES = sorted(PACKAGE.rglob("*.py"))


def _rel(path: Path) -> str:
    return path.relative_to(PACKAGE).as_posix()


def _offenders(pattern: str, allowed: tuple[str, ...]) -> list[str]:
    found = re.compile(pattern, re.M)
    return [_rel(p) for p in MODULES
            if not _rel(p).startswith(allowed) and found.search(p.read_text(encoding="utf-8"))]


def test_only_the_cli_imports_click():
    assert _offenders(r"^\s*(import click|from click\b)", ("cli.py",)) == []


def test_only_records_parse_yaml_or_name_the_manifest_file():
    yaml = _offenders(r"^\s*(import yaml|from yaml\b|import ruamel|from ruamel\b)",
                      ("records/",))
    assert yaml == [], "read YAML with digest_cli.records.store.load_yaml / loads"
    manifest = _offenders(r"[\"']manifest\.yaml[\"']", ("records/",))
    assert manifest == [], "use records.store.MANIFEST or records.layout.manifest_path"


def test_only_settings_reads_the_environment():
    # site/build.py hands the environment on to Jekyll's process; it reads nothing from it.
    assert _offenders(r"os\.environ\.get|os\.environ\[|os\.getenv",
                      ("settings.py",)) == []


def test_no_library_module_is_much_over_400_lines():
    # cli.py is exempt: one decorated function per command, each already thin.
    sizes = {_rel(p): len(p.read_text(encoding="utf-8").splitlines()) for p in MODULES
             if _rel(p) != "cli.py"}
    assert {name: n for name, n in sizes.items() if n > 450} == {}

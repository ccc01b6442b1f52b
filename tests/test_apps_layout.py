"""The applications sit in ``ferrotls.apps``, outside the library, and the CLI is one table.

* ``import ferrotls`` -- and importing every other module of the package --
  leaves ``ferrotls.apps`` unloaded (checked in a fresh interpreter);
* the ``ferrotls`` console script and ``python -m ferrotls`` run ``ferrotls.apps.cli.main``;
* the subcommands ``ferrotls --help`` offers are exactly the rows of ``COMMANDS``.
"""

from __future__ import annotations

import argparse
import importlib
import json
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

from ferrotls.apps import cli

ROOT = Path(__file__).resolve().parent.parent

_LIBRARY_ONLY = r"""
import importlib, json, pathlib, sys

import ferrotls
after_init = sorted(m for m in sys.modules if m.startswith("ferrotls.apps"))
root = pathlib.Path(ferrotls.__file__).parent
imported = 0
for path in sorted(root.rglob("*.py")):  # not pkgutil.walk_packages: it imports every package
    parts = path.relative_to(root).with_suffix("").parts
    if parts[0] in ("apps", "__main__"):
        continue
    importlib.import_module(".".join(("ferrotls",) + parts[:-1] + (() if parts[-1] == "__init__" else parts[-1:])))
    imported += 1
after_all = sorted(m for m in sys.modules if m.startswith("ferrotls.apps"))
print(json.dumps({"after_init": after_init, "after_all": after_all, "imported": imported}))
"""


def _loaded_apps(script: str) -> dict[str, Any]:
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def test_the_library_does_not_import_the_apps() -> None:
    loaded = _loaded_apps(_LIBRARY_ONLY)
    assert loaded["after_init"] == []  # import ferrotls
    assert loaded["after_all"] == []  # every module of the library
    assert loaded["imported"] > 30  # it was the whole library


def test_the_check_sees_an_apps_import() -> None:
    """The subprocess check above reports a module of ``ferrotls.apps`` once one is loaded."""
    probe = _LIBRARY_ONLY.replace("import ferrotls\n", "import ferrotls\nimport ferrotls.apps.testpki\n", 1)
    assert probe != _LIBRARY_ONLY
    loaded = _loaded_apps(probe)
    assert "ferrotls.apps.testpki" in loaded["after_init"]


def test_console_script_and_main_module_run_the_apps_cli() -> None:
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    module, _, attr = scripts["ferrotls"].partition(":")
    assert (module, attr) == ("ferrotls.apps.cli", "main")
    assert getattr(importlib.import_module(module), attr) is cli.main
    main_source = (ROOT / "python" / "ferrotls" / "__main__.py").read_text()
    assert "from .apps.cli import main" in main_source


def _subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    actions = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    assert len(actions) == 1
    choices: dict[str, argparse.ArgumentParser] = actions[0].choices
    return choices


def test_subcommands_are_the_rows_of_the_table() -> None:
    names = [command.name for command in cli.COMMANDS]
    assert names == ["info", "demo", "client", "server", "gateway", "bench"]
    assert len(set(names)) == len(names)
    subparsers = _subcommands(cli.build_parser())
    assert list(subparsers) == names
    for command in cli.COMMANDS:
        parser = subparsers[command.name]
        assert parser.description == command.description
        assert parser.get_default("func") is command.module.main
        assert command.module.__name__.startswith("ferrotls.apps."), command  # type: ignore[attr-defined]


def test_a_table_row_is_a_subcommand() -> None:
    """A row added to the table is parsed and run with nothing else changed."""
    calls: list[argparse.Namespace] = []

    class Echo:
        @staticmethod
        def add_arguments(p: argparse.ArgumentParser) -> None:
            p.add_argument("--word", default="x")

        @staticmethod
        def main(args: argparse.Namespace) -> int:
            calls.append(args)
            return 7

    saved = cli.COMMANDS
    try:
        cli.COMMANDS = saved + (cli.Command("echo", Echo(), "say a word", "Say a word."),)
        assert cli.main(["echo", "--word", "hello"]) == 7
    finally:
        cli.COMMANDS = saved
    assert [a.word for a in calls] == ["hello"]

"""The house rules of docs/architecture.md, checked on the source (AST, no import):

- only ``scanner/cli/`` prints, prompts or exits;
- only ``scanner/client/`` imports the Alibaba Cloud SDKs;
- no stage imports a later one: ``client`` and ``policy`` never import ``report``,
  ``remediate``, ``history``, ``evidence`` or ``cli``.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "scanner"

# Calls only the CLI may make: output, prompts, exits.
_OUTPUT_NAMES = {"print", "input", "breakpoint", "exit", "quit"}
_OUTPUT_ATTRS = {
    ("click", "echo"),
    ("click", "secho"),
    ("click", "prompt"),
    ("click", "confirm"),
    ("click", "getchar"),
    ("click", "pause"),
    ("click", "edit"),
    ("click", "launch"),
    ("click", "progressbar"),
    ("click", "echo_via_pager"),
    ("sys", "exit"),
    ("os", "_exit"),
    ("os", "abort"),
    ("sys.stdout", "write"),
    ("sys.stderr", "write"),
    ("pprint", "pprint"),
    ("getpass", "getpass"),
}
_OUTPUT_IMPORTS = {("click", n) for _, n in _OUTPUT_ATTRS if _ == "click"} | {
    ("sys", "exit"),
    ("pprint", "pprint"),
    ("getpass", "getpass"),
    ("builtins", "print"),
    ("builtins", "input"),
}
_SDK_ROOTS = ("alibabacloud_", "Tea", "darabonba", "aliyunsdkcore", "alibabacloud")
_LATER = ("report", "remediate", "history", "evidence", "cli")
_EARLY = ("client", "policy")


def _modules() -> Iterator[tuple[str, Path, ast.Module]]:
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE.parent).with_suffix("")
        name = ".".join(rel.parts)
        yield name, path, ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _dotted(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        inner = _dotted(node.value)
        return f"{inner}.{node.attr}" if inner else ""
    return ""


def _imports(module: str, tree: ast.Module) -> Iterator[tuple[int, str, str | None]]:
    """(line, absolute module imported, name imported from it or None)."""
    package = module.split(".")
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name, None
        elif isinstance(node, ast.ImportFrom):
            if (
                node.level
            ):  # "scanner.policy.files" / "scanner.policy.__init__": minus the last part
                base = package[: len(package) - node.level]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            for alias in node.names:
                yield node.lineno, target, alias.name


def output_calls(module: str, tree: ast.Module) -> list[str]:
    """Every print / prompt / exit in ``tree``, as "module:line what"."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Name) and func.id in _OUTPUT_NAMES:
                found.append(f"{module}:{node.lineno} {func.id}()")
            elif isinstance(func, ast.Attribute) and (_dotted(func.value), func.attr) in (
                _OUTPUT_ATTRS
            ):
                found.append(f"{module}:{node.lineno} {_dotted(func)}()")
        elif isinstance(node, ast.Raise) and node.exc is not None:
            exc = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
            if _dotted(exc) in ("SystemExit", "click.exceptions.Exit", "click.Abort"):
                found.append(f"{module}:{node.lineno} raise {_dotted(exc)}")
    for line, target, name in _imports(module, tree):
        if (target, name) in _OUTPUT_IMPORTS:
            found.append(f"{module}:{line} from {target} import {name}")
    return found


def sdk_imports(module: str, tree: ast.Module) -> list[str]:
    return [
        f"{module}:{line} {target}"
        for line, target, _ in _imports(module, tree)
        if target.split(".")[0].startswith(_SDK_ROOTS)
    ]


def later_stage_imports(module: str, tree: ast.Module) -> list[str]:
    found = []
    for line, target, name in _imports(module, tree):
        parts = target.split(".")
        if parts[0] != "scanner":
            continue
        stage = parts[1] if len(parts) > 1 else (name or "")
        if stage in _LATER:
            found.append(f"{module}:{line} imports scanner.{stage}")
    return found


def _stage(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def test_only_the_cli_prints_prompts_or_exits() -> None:
    offenders = [
        hit
        for module, _, tree in _modules()
        if _stage(module) != "cli"
        for hit in output_calls(module, tree)
    ]
    assert offenders == [], "only scanner/cli/ may print, prompt or exit:\n" + "\n".join(offenders)


def test_only_the_client_imports_the_alibaba_sdks() -> None:
    offenders = [
        hit
        for module, _, tree in _modules()
        if _stage(module) != "client"
        for hit in sdk_imports(module, tree)
    ]
    assert offenders == [], "only scanner/client/ may import the SDKs:\n" + "\n".join(offenders)


def test_client_and_policy_never_import_a_later_stage() -> None:
    offenders = [
        hit
        for module, _, tree in _modules()
        if _stage(module) in _EARLY
        for hit in later_stage_imports(module, tree)
    ]
    assert offenders == [], "a stage imports a later one:\n" + "\n".join(offenders)


@pytest.mark.parametrize(
    ("source", "rule"),
    [
        ("print('x')\n", output_calls),
        ("import click\nclick.echo('x')\n", output_calls),
        ("import sys\nsys.exit(1)\n", output_calls),
        ("raise SystemExit(2)\n", output_calls),
        ("from click import prompt\n", output_calls),
        ("import alibabacloud_tea_openapi\n", sdk_imports),
        ("from Tea.exceptions import TeaException\n", sdk_imports),
        ("from darabonba.core import DaraCore\n", sdk_imports),
        ("from ..report import render\n", later_stage_imports),
        ("from scanner.cli import main\n", later_stage_imports),
        ("from .. import history\n", later_stage_imports),
    ],
)
def test_each_rule_catches_what_it_forbids(source: str, rule: object) -> None:
    """The checks above cannot pass vacuously: each one finds a planted offence."""
    tree = ast.parse(source)
    assert rule(_planted_module(), tree)  # type: ignore[operator]


def _planted_module() -> str:
    return "scanner.policy.planted"  # a module of an early stage, not of the CLI or client

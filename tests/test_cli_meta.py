"""Meta-test: every rdscan command and sub-command, discovered from the click group.

For each one: `--help` works; an obviously wrong input (a missing argument, an option given
without its value, a file argument that does not exist) is a usage error: exit 2, a line with
`Error`, no traceback. Nothing here reaches the network: every case fails before a call.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from click.core import ParameterSource
from click.testing import CliRunner

from scanner.cli import main

MISSING = "/nonexistent/rdscan-meta/missing.file"


def _walk(
    group: click.Group, path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], click.Command]]:
    ctx = click.Context(group)
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        assert command is not None
        yield (*path, name), command
        if isinstance(command, click.Group):
            yield from _walk(command, (*path, name))


COMMANDS = dict(_walk(main))
LEAVES = {path: cmd for path, cmd in COMMANDS.items() if not isinstance(cmd, click.Group)}


def _ids(paths: object) -> list[str]:
    return [" ".join(p) for p in paths]  # type: ignore[attr-defined]


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args), env={"RDSCAN_HISTORY": MISSING})
    output = result.output  # stdout and stderr, interleaved
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"rdscan {' '.join(args)} raised {result.exception!r}\n{output}")
    return result.exit_code, output


def _usage_error(args: tuple[str, ...]) -> None:
    code, output = _run(*args)
    assert code == 2, (args, code, output)
    assert "Error" in output, (args, output)
    assert "Traceback" not in output, (args, output)


def test_the_walk_finds_every_documented_command():
    names = {" ".join(p) for p in COMMANDS}
    # the documented command line (README), plus the commands issue 5 adds
    for expected in (
        "scan",
        "demo",
        "report",
        "remediate",
        "history list",
        "history show",
        "history diff",
        "policy validate",
        "policy show",
        "emulator serve",
        "emulator generate",
        "print-policy",
        "verify-journal",
        "doctor",
    ):
        assert expected in names


@pytest.mark.parametrize("path", list(COMMANDS), ids=_ids(COMMANDS))
def test_help_works(path):
    code, output = _run(*path, "--help")
    assert code == 0, output
    assert output.startswith("Usage: ")
    assert "Traceback" not in output
    assert COMMANDS[path].get_short_help_str().strip(), f"{path} has no help text"


@pytest.mark.parametrize("path", list(COMMANDS), ids=_ids(COMMANDS))
def test_unknown_option_is_a_usage_error(path):
    _usage_error((*path, "--no-such-option"))


def _value_options() -> list[tuple[tuple[str, ...], str]]:
    cases = []
    for path, cmd in LEAVES.items():
        for param in cmd.params:
            if isinstance(param, click.Option) and not param.is_flag and param.opts[0] != "--help":
                cases.append((path, max(param.opts, key=len)))
    return cases


VALUE_OPTIONS = _value_options()


@pytest.mark.parametrize(
    ("path", "option"), VALUE_OPTIONS, ids=[f"{' '.join(p)} {o}" for p, o in VALUE_OPTIONS]
)
def test_option_without_its_value_is_a_usage_error(path, option):
    _usage_error((*path, option))


def _required_arguments() -> list[tuple[str, ...]]:
    return [
        path
        for path, cmd in LEAVES.items()
        if any(isinstance(p, click.Argument) and p.required for p in cmd.params)
    ]


REQUIRED = _required_arguments()


@pytest.mark.parametrize("path", REQUIRED, ids=_ids(REQUIRED))
def test_missing_argument_is_a_usage_error(path):
    _usage_error(path)


def _file_arguments() -> list[tuple[str, ...]]:
    return [
        path
        for path, cmd in LEAVES.items()
        if any(isinstance(p, click.Argument) and isinstance(p.type, click.Path) for p in cmd.params)
    ]


FILE_ARGS = _file_arguments()


@pytest.mark.parametrize("path", FILE_ARGS, ids=_ids(FILE_ARGS))
def test_missing_file_argument_is_a_clear_error(path):
    # every positional file argument: the file does not exist
    _usage_error((*path, MISSING))


def test_there_are_cases_for_every_kind():
    # the discovery above must not silently find nothing
    assert len(LEAVES) >= 13
    assert len(VALUE_OPTIONS) >= 30
    assert {("report",), ("verify-journal",), ("policy", "validate")} <= set(FILE_ARGS)
    assert ("print-policy",) in REQUIRED


def test_the_readme_exit_code_table_is_the_one_in_scanner_exit_codes():
    from pathlib import Path

    from scanner.exit_codes import ExitCode, markdown_table

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    assert markdown_table() in readme
    assert {int(c) for c in ExitCode} == {0, 1, 2, 3, 4, 130}


def test_the_command_listing_matches_each_commands_own_help():
    # `rdscan --help` prints scanner.cli.COMMANDS without importing the command modules:
    # every command must be there, with the first paragraph of its own docstring
    import inspect
    import pkgutil

    import scanner.cli as cli

    top = {path[0]: cmd for path, cmd in COMMANDS.items() if len(path) == 1}
    assert set(top) == set(cli.COMMANDS)
    for name, cmd in top.items():
        assert cmd.callback is not None
        assert cmd.callback.__module__ == f"scanner.cli.{cli.COMMANDS[name].module}", name
        summary = inspect.cleandoc(cmd.help or "").split("\n\n")[0]
        assert summary == cli.COMMANDS[name].summary, (
            f"the help of `rdscan {name}` changed: copy its first paragraph into "
            "scanner.cli.COMMANDS (what `rdscan --help` lists without importing commands)"
        )
    modules = {m.name for m in pkgutil.iter_modules(cli.__path__) if m.name.endswith("_cmd")}
    assert modules == {entry.module for entry in cli.COMMANDS.values()}


@pytest.mark.parametrize("args", [["--help"], ["--version"], ["report", "--help"]])
def test_startup_imports_no_sdk(args):
    # the Alibaba Cloud SDKs (and aiohttp under them) load when a command needs them
    import subprocess
    import sys

    from tests.conftest import child_process_env

    code = (
        "import sys\nfrom scanner.cli import main\n"
        f"try:\n    main({args!r})\nexcept SystemExit:\n    pass\n"
        "heavy = sorted({m.split('.')[0] for m in sys.modules} & "
        "{'alibabacloud_credentials', 'alibabacloud_tea_openapi', 'Tea', 'darabonba', 'aiohttp'})\n"
        "print('HEAVY', heavy)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env=child_process_env(), capture_output=True, text=True
    )
    assert "HEAVY []" in out.stdout, out.stdout + out.stderr


def _sample(param: click.Option, tmp: Path) -> str:
    """A value of the option's type, as it would appear in the environment."""
    t = param.type
    if param.is_flag:
        return "1"
    if isinstance(t, click.Choice):
        return str(list(t.choices)[-1])
    if isinstance(t, click.DateTime):
        return "2026-01-02"
    if isinstance(t, click.types.IntParamType):
        return "7"
    if isinstance(t, click.types.FloatParamType):
        return "0.5"
    if isinstance(t, click.Path):
        if t.exists and not t.file_okay:
            return str(tmp)
        path = tmp / "some.file"
        path.write_text("x")
        return str(path)
    return "abc"


OPTIONS = [
    (path, cmd, p)
    for path, cmd in LEAVES.items()
    for p in cmd.params
    if isinstance(p, click.Option) and p.name not in ("help", "version")
]


@pytest.mark.parametrize(
    ("path", "command", "option"),
    OPTIONS,
    ids=[f"{' '.join(p)} {o.opts[-1]}" for p, _, o in OPTIONS],
)
def test_every_option_reads_its_rdscan_variable(path, command, option, tmp_path, monkeypatch):
    """README: every option of every command also reads an RDSCAN_* environment variable."""
    names = [option.envvar] if isinstance(option.envvar, str) else list(option.envvar or ())
    assert names and all(n.startswith("RDSCAN_") for n in names), (path, option.opts)
    for var in [k for k in os.environ if k.startswith("RDSCAN_")]:
        monkeypatch.delenv(var)
    monkeypatch.setenv(names[0], _sample(option, tmp_path))
    ctx = command.make_context(" ".join(path), [], resilient_parsing=True)
    assert ctx.get_parameter_source(option.name) is ParameterSource.ENVIRONMENT, names[0]
    if option.is_flag and option.is_bool_flag:
        assert ctx.params[option.name] is True, names[0]


def test_rdscan_no_history_is_read(tmp_path, monkeypatch):
    monkeypatch.setenv("RDSCAN_NO_HISTORY", "1")
    ctx = main.get_command(click.Context(main), "scan").make_context(  # type: ignore[union-attr]
        "scan", [], resilient_parsing=True
    )
    assert ctx.params["no_history"] is True

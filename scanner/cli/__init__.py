"""The rdscan command line. Only this package prints, prompts, shows progress and exits.

Startup: the command modules (and through them the Alibaba Cloud SDKs, jinja2, the emulator)
are imported only when their command runs, so ``rdscan --version`` and ``rdscan --help`` load
click alone. ``COMMANDS`` names each command's module and the first paragraph of its help, for
the listing; a test keeps that text equal to the command's own docstring.
"""

from __future__ import annotations

import contextlib
import importlib
import sys
from typing import Any, NamedTuple

import click

from .. import __version__
from ..errors import ScannerError, ServiceUnavailable
from ..exit_codes import ExitCode


class LazyCommand(NamedTuple):
    module: str  # in scanner.cli; its COMMANDS list holds the command
    summary: str  # the first paragraph of the command's help, shown by `rdscan --help`


COMMANDS: dict[str, LazyCommand] = {
    "scan": LazyCommand("scan_cmd", "Scan every member account and write the reports."),
    "demo": LazyCommand(
        "scan_cmd",
        "Run the whole job on the bundled sample directory, against the local emulator.",
    ),
    "doctor": LazyCommand(
        "doctor_cmd",
        "Check, read-only, that a scan would work with these settings (credentials, caller,\n"
        "permissions, endpoints, TLS, clock, proxy, quotas).",
    ),
    "report": LazyCommand("report_cmd", "Re-render reports from a saved report.json (no network)."),
    "remediate": LazyCommand(
        "remediate_cmd",
        "Bind secure phones for FAIL members through BindSecureMobilePhone, one confirmed member"
        "\nat a time, with an append-only journal.",
    ),
    "print-policy": LazyCommand(
        "remediate_cmd",
        "Print a least-privilege RAM policy: `audit` (read-only) or `remediate` (Send + Bind).",
    ),
    "verify-journal": LazyCommand(
        "remediate_cmd",
        "Recompute the SHA-256 chain of a remediation journal; exit 1 if it was tampered with"
        "\n(2: no such file).",
    ),
    "history": LazyCommand(
        "history_cmd", "Scan history for periodic audits: list, show, diff, trend, prune."
    ),
    "targets": LazyCommand(
        "targets_cmd",
        "Targets files for `rdscan scan --targets` (many Resource Directories in one run).",
    ),
    "policy": LazyCommand("policy_cmd", "Check and show policy and exemptions files."),
    "evidence": LazyCommand(
        "evidence_cmd",
        "Build and verify evidence packs (report, inputs, journal, manifest, signature).",
    ),
    "emulator": LazyCommand(
        "emulator_cmd",
        "Run the local Resource Directory API emulator, or generate fixtures for it.",
    ),
}


def safe_streams() -> None:
    """No terminal or pipe encoding may crash a command: text the output encoding cannot show
    (``PYTHONIOENCODING=ascii`` or ``cp1252`` and a member named ``财务-生产 🚀``) is written
    as ``?``; ids, numbers and rdscan's own words are ASCII and always shown. Input that does
    not decode is read as U+FFFD instead of raising."""
    for stream in (sys.stdout, sys.stderr, sys.stdin):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is None:  # replaced by a test harness or an embedding program
            continue
        with contextlib.suppress(ValueError, OSError):  # closed or detached: nothing to write
            reconfigure(errors="replace")


class _Group(click.Group):
    """Turns every ScannerError into one clear message and a non-zero exit, never a traceback.

    Commands are loaded from their module on first use (see ``COMMANDS``). Output streams
    replace what their encoding cannot show (``safe_streams``)."""

    def main(self, *args: Any, **kwargs: Any) -> Any:
        safe_streams()
        return super().main(*args, **kwargs)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(COMMANDS) | set(self.commands))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in COMMANDS:
            module = importlib.import_module(f"{__name__}.{COMMANDS[cmd_name].module}")
            for command in module.COMMANDS:
                name_env_vars(command)
                self.commands.setdefault(command.name or "", command)
        return self.commands.get(cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The listing from ``COMMANDS``: no command module is imported to print it."""
        names = self.list_commands(ctx)
        if not names:
            return
        limit = formatter.width - 6 - max(len(name) for name in names)
        rows = []
        for name in names:
            command = self.commands.get(name) or click.Command(name, help=COMMANDS[name].summary)
            rows.append((name, command.get_short_help_str(limit)))
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ScannerError as exc:
            click.echo(f"Error: {_safe(str(exc))}", err=True)
            if exc.hint:
                click.echo(f"Fix: {_safe(exc.hint)}", err=True)
            if isinstance(exc, ServiceUnavailable):
                click.echo(
                    f"Exit code {exc.exit_code}: could not complete, the service did not answer "
                    "after every retry (throttling, server errors or the connection): retry "
                    "later. This is not a configuration error.",
                    err=True,
                )
            sys.exit(exc.exit_code)
        except KeyboardInterrupt:
            click.echo("\nInterrupted.", err=True)
            sys.exit(ExitCode.INTERRUPTED)
        except click.BadParameter as exc:
            raise _name_the_envvar(exc) from None


def _name_the_envvar(exc: click.BadParameter) -> click.BadParameter:
    """A bad value that came from RDSCAN_* (not typed) says so: the user never typed --rate."""
    param, ctx = exc.param, exc.ctx
    if param is None or ctx is None or not param.name or not param.envvar:
        return exc
    if ctx.get_parameter_source(param.name) is not click.core.ParameterSource.ENVIRONMENT:
        return exc
    names = [param.envvar] if isinstance(param.envvar, str) else list(param.envvar)
    message = f"{exc.message.rstrip('.')} (from the environment variable {' or '.join(names)})."
    return click.BadParameter(message, ctx=ctx, param=param)


def _safe(text: str) -> str:
    from .common import safe_message

    return safe_message(text)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="rdscan")
def main() -> None:
    """Audit an Alibaba Cloud Resource Directory for members without a secure mobile phone."""


def env_var_name(option: click.Option, group: str = "") -> str:
    """The environment variable an option reads when it names none itself:
    ``RDSCAN_<OPTION>`` (``--no-history``: ``RDSCAN_NO_HISTORY``), or
    ``RDSCAN_<GROUP>_<OPTION>`` for a command of a group (``history list --limit``:
    ``RDSCAN_HISTORY_LIMIT``). Options that share a meaning across commands share a name set
    explicitly (``RDSCAN_HISTORY``, ``RDSCAN_SITE``...)."""
    longest = max(option.opts, key=len).lstrip("-")
    parts = [group, longest] if group else [longest]
    return "RDSCAN_" + "_".join(parts).upper().replace("-", "_")


def name_env_vars(command: click.Command, group: str = "") -> None:
    """Every option of ``command`` (and of its sub-commands) reads an RDSCAN_* variable and
    shows it in ``--help`` (README: "Every option of every command"). Run as each command is
    loaded."""
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            name_env_vars(sub, command.name or "")
        return
    for param in command.params:
        if isinstance(param, click.Option):
            if not param.envvar:
                param.envvar = env_var_name(param, group)
            param.show_envvar = True

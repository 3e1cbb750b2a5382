"""The rdscan command line. Only this package prints, prompts, shows progress and exits."""

from __future__ import annotations

import sys
from typing import Any

import click

from .. import __version__
from ..errors import ScannerError, ServiceUnavailable
from ..exit_codes import ExitCode


class _Group(click.Group):
    """Turns every ScannerError into one clear message and a non-zero exit, never a traceback."""

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
    """Messages may quote API answers, file names and file contents: no escape sequence may
    reach the terminal raw (line breaks of a multi-line message are kept)."""
    from .common import printable

    return "\n".join(printable(line) for line in text.split("\n"))


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="rdscan")
def main() -> None:
    """Audit an Alibaba Cloud Resource Directory for members without a secure mobile phone."""


def _register() -> None:
    from . import (
        emulator_cmd,
        evidence_cmd,
        history_cmd,
        policy_cmd,
        remediate_cmd,
        report_cmd,
        scan_cmd,
    )

    for module in (
        scan_cmd,
        report_cmd,
        remediate_cmd,
        history_cmd,
        policy_cmd,
        evidence_cmd,
        emulator_cmd,
    ):
        for command in module.COMMANDS:
            main.add_command(command)


_register()

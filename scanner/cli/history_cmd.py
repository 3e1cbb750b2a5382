"""rdscan CLI commands (being written)."""

import click

COMMANDS: list[click.Command] = []

"""`python -m scanner` runs the rdscan command line."""

from scanner.cli import main

main(prog_name="rdscan")

"""``python -m portico`` runs the CLI."""

from portico.cli import main

main()

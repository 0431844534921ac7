"""The command lines: transfer (`python -m stylize`), instant and train (`python -m stylize.cli.NAME`)."""

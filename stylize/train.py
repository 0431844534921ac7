"""`python -m stylize.train`, the previous name of `python -m stylize.cli.train`: kept as an alias for a release."""

import sys

from .cli.train import main

if __name__ == "__main__":
    sys.exit(main())

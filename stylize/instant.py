"""`python -m stylize.instant`, the previous name of `python -m stylize.cli.instant`: kept as an alias for a release."""

import sys

from .cli.instant import main

if __name__ == "__main__":
    sys.exit(main())

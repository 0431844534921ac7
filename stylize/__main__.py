"""`python -m stylize CONTENT STYLE -o OUT.png`: the transfer command line, kept at the package's own name."""

import sys

from .cli.transfer import main

if __name__ == "__main__":
    sys.exit(main())

"""``python -m bayes_bcsm <command> [overrides]``: see :mod:`bayes_bcsm.cli`."""

import sys

from bayes_bcsm.cli import main

if __name__ == "__main__":
    sys.exit(main())

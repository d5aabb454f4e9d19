"""What the frozen program runs: the same `main` as the `erpgo-desktop` command."""

import sys

from erpgo_desktop.cli import main

if __name__ == "__main__":
    sys.exit(main())

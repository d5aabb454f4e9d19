"""`python -m erpgo_desktop` does what the `erpgo-desktop` command does."""

from erpgo_desktop.cli import main

raise SystemExit(main())

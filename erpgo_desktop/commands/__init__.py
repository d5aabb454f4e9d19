"""Administrator subcommands kept out of cli.py: each module has `add_commands(commands)`,
which adds its parsers to the `erpgo-desktop` subparsers and names each one's handler."""

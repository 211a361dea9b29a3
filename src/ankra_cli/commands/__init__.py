"""One module per command group; ``ankra_cli.main`` wires them into the app."""

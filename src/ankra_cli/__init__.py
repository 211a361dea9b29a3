"""``ankra``: the command-line client of the Ankra Auth API."""

__version__ = "0.1.0"

"""zoofind's version: a leaf module, so nothing that needs it imports the package's face."""

__version__ = "0.1.0"

"""Bugline: customer bug reports an engineer can act on, and a loop back to the customer."""

__version__ = "0.1.0"

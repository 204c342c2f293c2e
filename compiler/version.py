"""The version of sipc, stamped into every generated module."""

__version__ = "0.1.0"

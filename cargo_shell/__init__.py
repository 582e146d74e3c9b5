"""cargo-shell: a command line and conversational shell for the Cargo revenue platform."""

__version__ = "0.1.0"
__all__ = ["__version__"]

"""The package version; tests keep it equal to Cargo.toml's."""

__version__ = "0.1.0"

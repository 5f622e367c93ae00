"""The settings model and the loader that reads it from TOML, flags and the environment."""

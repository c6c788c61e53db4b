"""Fixture models: the catalog's types, the builder, the manifest and the model cache."""

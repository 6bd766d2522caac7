"""The curated corpus (YAML) and the JSON Schemas of the data files, shipped as package data."""

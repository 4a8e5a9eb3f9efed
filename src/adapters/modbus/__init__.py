"""Modbus TCP adapter: polls meters per their device profile, merging contiguous registers."""

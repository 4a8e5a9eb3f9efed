"""Pure accounting domain: units, GB/T 2589 energy conversion, the emission-factor library with
provenance, calculation methods, inventories, intensity, decoupling and STIRPAT. No I/O besides
reading this package's own versioned data files.
"""

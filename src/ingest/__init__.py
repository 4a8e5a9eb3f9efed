"""The reading contract, the park model (registry), validation and dead-letter records, Kafka
publishing with store-and-forward, and manual entry: everything between a field device and
the nt.readings.v1 topic that is not protocol-specific.
"""

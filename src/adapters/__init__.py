"""Protocol adapters, one folder per protocol (modbus, opcua, mqtt incl. HJ 212): talk to the
field and turn what it says into reading batches for ingest to validate and publish.
"""

"""Bundled field devices for testers: Modbus meters, an OPC UA DCS, MQTT CEMS stacks and vendor
gateways, driven by the park model, with exact ground truth and fault injection.
"""

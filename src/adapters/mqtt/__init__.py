"""MQTT adapter: vendor gateway JSON batches and CEMS stacks (HJ 212-2017 text or its JSON form)."""

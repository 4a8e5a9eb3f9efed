"""The operator console: HTTP API (registry, energy, emissions, energy flow, CEMS, alerts,
subscriptions), alert delivery (webhook, MQTT, e-mail, Kafka) and the web dashboard.

Every query takes the caller's ``Scope`` and filters by enterprise in SQL (``console.data``);
route handlers only parse, call the data layer and shape the answer.
"""

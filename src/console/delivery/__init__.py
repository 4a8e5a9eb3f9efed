"""Alert delivery: ``nt.alerts.v1`` → subscriptions (webhook, MQTT, e-mail, Kafka), once per
(subscription, alert, state) through the delivery ledger."""

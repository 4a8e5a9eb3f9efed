"""The operator console: HTTP API, alert subscriptions and delivery, and the web dashboard."""

"""OPC UA adapter: subscriptions to DCS tags with sampling interval and deadband."""

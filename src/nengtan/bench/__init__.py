"""``nengtan bench``: end-to-end throughput and latency against the machine's raw limits."""

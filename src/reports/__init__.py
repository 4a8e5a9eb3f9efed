"""Emission reports (GB/T 32150/32151 structure) as JSON, Excel and PDF, and the verification pack."""

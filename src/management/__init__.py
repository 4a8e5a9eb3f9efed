"""Management functions built on the accounted numbers: efficiency benchmarking against the
national 标杆/基准 levels and park peers, energy and carbon budgets with end-of-period forecasts,
the carbon-asset ledger, product carbon footprints (GB/T 24067), supply-chain submissions, and
analysis views (energy structure, decoupling, STIRPAT drivers, recommendations).

Pure domain modules (no I/O besides this package's data files): ``periods``, ``reference``,
``inputs``, ``production``, ``metered``, ``benchmark``, ``budget``, ``assets``, ``footprint``
(and ``fpreport``), ``supply``, ``views``, ``alerts``, ``service`` (JSON reports). I/O at the
edges: ``db`` (PostgreSQL), ``publish`` (Kafka), ``evaluate`` (alerts end to end), ``api``
(what the console routes call, scoped by the caller), ``cli``.
Formulas of the accounting engine (conversion, factors, decoupling, STIRPAT) are called, never
re-implemented. See ``docs/management.md``.
"""

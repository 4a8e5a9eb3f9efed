"""Nengtan (能碳): command line, settings, the project-wide error class and the local stack.

The domain lives in sibling packages (``accounting``, ``ingest``, ``adapters``, ``streams``,
``store``, ``console``) and the bundled field devices in ``simulators``; this package only
wires them together behind the one console script, ``nengtan``.
"""

__version__ = "0.1.0"

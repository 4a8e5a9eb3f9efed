"""The one error base class of the project.

Every error a user can cause (a bad file, a bad setting, a port in use) is a ``NengtanError``
whose message names the problem and what to do; the CLI prints it in one line and exits with
``exit_code`` instead of showing a traceback.
"""

from __future__ import annotations


class NengtanError(Exception):
    """An error with a message meant for the person running Nengtan."""

    exit_code: int = 1


class ConfigError(NengtanError):
    """A setting or input file is wrong; the message names the file, the entry and the problem."""

    exit_code = 2


class ServiceError(NengtanError):
    """A service (Kafka, PostgreSQL, Mosquitto) could not be started, reached or stopped."""

    exit_code = 3

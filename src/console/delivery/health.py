"""Per-subscription health: a subscription whose deliveries keep failing is marked ``failing``
and waits (exponential back-off, bounded) before its next attempt, so one broken target costs
the worker one attempt per back-off period instead of every retry of every alert.

State lives in ``console_subscriptions`` (``health``, ``failures``, ``last_error`` — a short
category, never the target's raw error — and ``next_attempt_at``), shown by the console API.
"""

from __future__ import annotations

import logging
from typing import Any

import psycopg

from console.settings import ConsoleSettings

log = logging.getLogger(__name__)
Conn = psycopg.Connection[tuple[Any, ...]]

# failed deliveries in a row after which a subscription is marked failing
FAILING_AFTER = 3


def backoff_s(settings: ConsoleSettings, failures: int) -> float:
    """Wait before the next attempt after ``failures`` failures in a row (1-based):
    initial × 2^(failures−1), capped at ``backoff_max_s``."""
    exponent = min(max(failures - 1, 0), 30)
    return float(min(settings.backoff_initial_s * 2**exponent, settings.backoff_max_s))


def may_attempt(conn: Conn, sub_id: int) -> tuple[bool, bool]:
    """(may this subscription be attempted now, is it marked failing)."""
    row = conn.execute(
        "SELECT health = 'failing', next_attempt_at IS NULL OR next_attempt_at <= now()"
        " FROM console_subscriptions WHERE id = %s",
        (sub_id,),
    ).fetchone()
    if row is None:
        return False, False
    failing, due = bool(row[0]), bool(row[1])
    return (not failing) or due, failing


def succeeded(conn: Conn, sub_id: int) -> None:
    row = conn.execute(
        "SELECT health FROM console_subscriptions WHERE id = %s AND (failures > 0"
        " OR health <> 'ok')",
        (sub_id,),
    ).fetchone()
    if row is None:
        return  # already healthy: no write per delivery
    conn.execute(
        "UPDATE console_subscriptions SET failures = 0, next_attempt_at = NULL, health = 'ok'"
        " WHERE id = %s",
        (sub_id,),
    )
    if row[0] == "failing":
        log.warning("subscription %d recovered: deliveries resume", sub_id)


def failed(conn: Conn, sub_id: int, category: str, settings: ConsoleSettings) -> None:
    """Count one failed delivery; mark the subscription failing (and report it) after
    ``FAILING_AFTER`` in a row, pushing its next attempt back each time."""
    row = conn.execute(
        "UPDATE console_subscriptions SET failures = failures + 1, last_error = %s"
        " WHERE id = %s RETURNING failures, health",
        (category, sub_id),
    ).fetchone()
    if row is None:
        return
    failures, health = int(row[0]), str(row[1])
    if failures < FAILING_AFTER:
        return
    wait = backoff_s(settings, failures - FAILING_AFTER + 1)
    conn.execute(
        "UPDATE console_subscriptions SET health = 'failing',"
        " next_attempt_at = now() + %s * INTERVAL '1 second' WHERE id = %s",
        (wait, sub_id),
    )
    level = logging.WARNING if health == "failing" else logging.ERROR
    log.log(
        level,
        "subscription %d is failing: %d failed deliveries in a row (last: %s); next attempt in"
        " %.1f s, alerts meanwhile deferred",
        sub_id,
        failures,
        category,
        wait,
    )

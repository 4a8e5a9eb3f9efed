"""Which subscriptions an alert goes to (pure: the alert, its enterprise, the subscriptions)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Subscription:
    id: int
    enterprise: str | None
    stack: str | None
    severities: tuple[str, ...] | None
    rule_id: str | None
    metric: str | None
    channel: str
    target: str
    secret: str | None


def matches(sub: Subscription, alert: dict[str, Any], enterprise: str | None) -> bool:
    """A subscription with an enterprise gets only that enterprise's alerts (never park-wide
    ones); each other filter, when set, must equal the alert's field."""
    if sub.enterprise is not None and sub.enterprise != enterprise:
        return False
    if sub.stack is not None and alert.get("scope") != f"stack:{sub.stack}":
        return False
    if sub.severities and alert.get("severity") not in sub.severities:
        return False
    if sub.rule_id is not None and alert.get("rule_id") != sub.rule_id:
        return False
    return sub.metric is None or alert.get("metric") == sub.metric

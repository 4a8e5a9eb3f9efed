"""Property test of the API against its own OpenAPI document (schemathesis strategies driven
by hypothesis): valid and invalid generated requests, with a park administrator's token, never
get a server error from a running console."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import schemathesis
from consolekit import ConsoleEnv
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error

pytestmark = [pytest.mark.integration, pytest.mark.slow]
EXAMPLES = 30


def property_test(op: Any, mode: GenerationMode, base_url: str, headers: dict[str, str],
                  calls: list[int]) -> Callable[[], None]:  # fmt: skip
    """A hypothesis test of one operation: generated requests, no 5xx."""

    @given(case=op.as_strategy(generation_mode=mode))
    @settings(max_examples=EXAMPLES, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))  # fmt: skip
    def check(case: Any) -> None:
        calls.append(1)
        response = case.call(base_url=base_url, headers=headers)
        case.validate_response(response, checks=[not_a_server_error])

    return check  # type: ignore[no-any-return]


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_no_server_errors(console_url: str, console_env: ConsoleEnv, mode: GenerationMode) -> None:
    schema = schemathesis.openapi.from_url(f"{console_url}/openapi.json")
    headers = console_env.auth("admin")
    failures: list[str] = []
    calls: list[int] = []
    n_ops = 0
    for result in schema.get_all_operations():
        op = result.ok()
        n_ops += 1
        try:
            property_test(op, mode, console_url, headers, calls)()
        except Exception as exc:  # collected, reported together below
            failures.append(f"{op.method.upper()} {op.path}: {str(exc)[:800]}")
    print(f"schemathesis {mode.value}: {n_ops} operations, {len(calls)} generated requests")
    assert failures == []
    assert n_ops >= 20 and len(calls) > 10 * n_ops

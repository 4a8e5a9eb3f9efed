"""The migration files themselves (no database): naming, one file per version and mode."""

from __future__ import annotations

import pytest

from nengtan.errors import ConfigError
from store.migrate import Migration, bundled_migrations, plan
from store.tables import TARGETS


def m(version: int, mode: str | None) -> Migration:
    return Migration(version, f"v{version}", mode, "SELECT 1;")  # type: ignore[arg-type]


def test_plan_picks_the_mode_variant_and_shared_files() -> None:
    chosen = plan([m(1, None), m(2, "plain"), m(2, "timescale"), m(3, None)], "plain")
    assert [(x.version, x.mode) for x in chosen] == [(1, None), (2, "plain"), (3, None)]


def test_a_version_without_a_file_for_the_mode_is_refused() -> None:
    with pytest.raises(ConfigError, match="no file for mode 'plain'"):
        plan([m(1, None), m(2, "timescale")], "plain")


def test_bundled_core_versions_have_both_modes() -> None:
    ours = [x for x in bundled_migrations() if x.version < 100]
    assert {x.version for x in ours} == {1, 2, 3, 4, 5}
    for mode in ("plain", "timescale"):
        assert [x.version for x in plan(ours, mode)] == [1, 2, 3, 4, 5]  # type: ignore[arg-type]


def test_rollups_have_the_same_names_and_columns_in_both_modes() -> None:
    by = {x.mode: x.sql for x in bundled_migrations() if x.version == 3}
    for level in ("hourly", "daily", "monthly"):
        for table in ("consumption", "emissions"):
            assert f"VIEW {table}_{level}" in by["plain"]
            assert f"VIEW {table}_{level}" in by["timescale"]
    strip = [line.split(" AS ", 1)[-1] for line in by["plain"].splitlines() if "SELECT" in line]
    strip_ts = [
        line.split(" AS ", 1)[-1] for line in by["timescale"].splitlines() if "SELECT time" in line
    ]
    assert strip == strip_ts  # the same output columns, bucket first


def test_every_sink_target_has_its_natural_key_among_its_columns() -> None:
    for target in TARGETS.values():
        assert set(target.key) <= set(target.table_columns), target.table

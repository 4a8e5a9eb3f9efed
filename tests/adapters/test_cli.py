"""The commands' error handling: a broken park file is one clear line and exit code 2."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def test_adapters_with_a_broken_park_file_exits_2(tmp_path: Path) -> None:
    park = tmp_path / "park.yaml"
    park.write_text("schema: nengtan.park/1\nid: x\nenterprises: []\n", encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "adapters", str(park)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2
    assert done.stderr.startswith("error: ")
    assert str(park) in done.stderr and "enterprises" in done.stderr
    assert "Traceback" not in done.stderr

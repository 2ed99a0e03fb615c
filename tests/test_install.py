"""A plain ``pip install .`` carries what ``demo`` and ``emulator`` need (issue 11, point 1).

Builds the wheel (what pip installs from) and looks inside; `.ci/install-smoke`
goes further and runs the installed commands from an empty folder.
"""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

NEEDED = [
    "bulk_update/data/samples/quarterly-cleanup.xlsx",  # the demo's sheet
    "bulk_update/data/documented_values.json",  # the field catalog's documented lists
    "bulk_update/emulator/seeddata.py",  # the emulator's built-in records
]


def test_the_wheel_carries_the_demo_sheet_and_the_seed(tmp_path: Path) -> None:
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(tmp_path), str(ROOT)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert built.returncode == 0, built.stderr[-2000:]
    (wheel,) = tmp_path.glob("bulk_update-*.whl")
    with zipfile.ZipFile(wheel) as z:
        names = set(z.namelist())
        for needed in NEEDED:
            assert needed in names, needed
        shipped = z.read("bulk_update/data/samples/quarterly-cleanup.xlsx")
    assert shipped == (ROOT / "samples" / "quarterly-cleanup.xlsx").read_bytes()


def test_the_packaged_demo_sheet_is_a_real_copy_of_the_sample() -> None:
    """A link would become a text file in a Windows checkout or a zip of the repository."""
    packaged = ROOT / "bulk_update" / "data" / "samples" / "quarterly-cleanup.xlsx"
    assert not packaged.is_symlink()
    assert packaged.read_bytes() == (ROOT / "samples" / "quarterly-cleanup.xlsx").read_bytes(), (
        "run `python samples/make_samples.py` to write both copies"
    )

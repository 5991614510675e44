"""The pytest plugin through its public surface: sample projects run by their own `python -m pytest`.

The plugin is not named anywhere in them: it loads through the `pytest11` entry point of the installed
(editable) package, as it does for a user.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from functools import cache
from pathlib import Path

HERE = Path(__file__).resolve().parent


def run_project(name: str, tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    """Copies tests/plugin/NAME to a temporary directory and runs pytest there: (exit code, output)."""
    project = tmp_path / name
    shutil.copytree(HERE / name, project)
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "PARLEY_", "AWS_"))}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args],
        cwd=project,
        env={**clean, **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
    )
    return result.returncode, result.stdout + result.stderr


@cache
def test_the_fixtures_work_in_a_project_that_only_installs_parley(tmp_path: Path) -> None:
    code, output = run_project("sample_project", tmp_path, "test_fixtures.py", "-p", "no:xdist")
    assert code == 0, output
    assert "12 passed" in output, output


def test_each_xdist_worker_gets_its_own_server(tmp_path: Path) -> None:
    record = tmp_path / "record"
    record.mkdir()
    # --dist each: every worker runs every test, so both surely run some (load balancing may starve one).
    code, output = run_project(
        "sample_project", tmp_path, "test_fixtures.py", "-n", "2", "--dist", "each",
        env={"SAMPLE_RECORD_DIR": str(record)},
    )  # fmt: skip
    assert code == 0, output
    assert "24 passed" in output, output
    per_worker = {path.stem: set(path.read_text().splitlines()) for path in record.glob("*.txt")}
    assert sorted(per_worker) == ["gw0", "gw1"], output
    assert all(len(lines) == 1 for lines in per_worker.values()), per_worker  # one server for the worker's tests
    endpoints = {line.split()[0] for lines in per_worker.values() for line in lines}
    assert len(endpoints) == 2, per_worker


def test_without_boto3_only_the_client_fixtures_fail_and_they_say_why(tmp_path: Path) -> None:
    code, output = run_project("no_boto3_project", tmp_path, "-p", "no:xdist")
    assert code == 1, output
    assert "2 passed, 1 error" in output, output
    assert "the connect client fixture needs boto3" in output
    assert "pip install 'parley[pytest]'" in output


def test_the_marker_is_registered_for_strict_markers(tmp_path: Path) -> None:
    code, output = run_project("sample_project", tmp_path, "--markers", "-p", "no:xdist")
    assert code == 0, output
    assert "@pytest.mark.parley(seed=None, settings=None, **settings)" in output


def test_the_parley_fixture_and_the_bare_marker_reset_state(tmp_path: Path) -> None:
    code, output = run_project("sample_project", tmp_path, "test_reset.py", "-p", "no:xdist")
    assert code == 0, output
    assert "3 passed" in output, output


def test_parley_clock_moves_a_virtual_clock_and_explains_a_real_one(tmp_path: Path) -> None:
    code, output = run_project("sample_project", tmp_path, "test_clock.py", "-p", "no:xdist")
    assert code == 1, output
    assert "1 passed, 1 error" in output, output
    assert "parley_clock needs a virtual clock" in output

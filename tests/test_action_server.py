"""The action server refuses to start on a broken facts, clinic or red-flags file."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import yaml

from tests.servers import ROOT, VENV_BIN, free_port, server_env


def start(env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(VENV_BIN / "python"), "-m", "actions.server", "--port", str(free_port())],
        cwd=ROOT,
        env=server_env(**env),
        capture_output=True,
        text=True,
        timeout=60,
    )


def broken_facts(tmp_path: Path) -> Path:
    data = yaml.safe_load((ROOT / "knowledge" / "facts.yml").read_text(encoding="utf-8"))
    del data["facts"][3]["sources"][0]["quote"]
    shutil.copytree(ROOT / "knowledge" / "sources", tmp_path / "sources")
    path = tmp_path / "facts.yml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def test_broken_facts_file_stops_the_server(tmp_path: Path) -> None:
    path = broken_facts(tmp_path)
    fact_id = yaml.safe_load(path.read_text())["facts"][3]["id"]
    result = start({"FACTS_FILE": str(path)})
    assert result.returncode == 2
    assert str(path) in result.stderr
    assert f"facts[3] (id '{fact_id}') field sources.0.quote: field required" in result.stderr


def test_broken_clinic_file_stops_the_server(tmp_path: Path) -> None:
    path = tmp_path / "clinic.yml"
    path.write_text("name: X Clinic\nphone: '123'\n", encoding="utf-8")
    result = start({"CLINIC_FILE": str(path)})
    assert result.returncode == 2
    assert "booking_url: field required" in result.stderr


def test_missing_red_flags_file_stops_the_server(tmp_path: Path) -> None:
    result = start({"RED_FLAGS_FILE": str(tmp_path / "nope.yml")})
    assert result.returncode == 2 and "nope.yml" in result.stderr

"""Data validation and conversation tests, through Rasa's own commands."""

from __future__ import annotations

import subprocess

from tests.servers import ARTIFACTS, ROOT, VENV_BIN, server_env


def rasa(*args: str, timeout: int = 600) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(VENV_BIN / "rasa"), *args], cwd=ROOT, env=server_env(), capture_output=True, text=True, timeout=timeout
    )


def test_training_data_validates_without_warnings() -> None:
    result = rasa("data", "validate", "--fail-on-warnings")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "UserWarning" not in result.stderr, result.stderr[-3000:]


def test_conversation_stories() -> None:
    out = ARTIFACTS / "story-results"
    result = rasa(
        "test",
        "core",
        "--model",
        "models/current.tar.gz",
        "--stories",
        "tests/test_stories.yml",
        "--fail-on-prediction-errors",
        "--out",
        str(out),
        "--no-plot",
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    assert (
        not (out / "failed_test_stories.yml").exists()
        or "none" in (out / "failed_test_stories.yml").read_text().lower()
    )


def test_response_buttons_survive_rasa_interpolation() -> None:
    """Rasa fills {placeholders} in every response string; a payload with single
    braces logged an error with a traceback on each greeting."""
    import json

    import yaml
    from rasa.core.nlg.interpolator import interpolate_text

    domain = yaml.safe_load((ROOT / "domain.yml").read_text())
    payloads = [
        b["payload"] for variants in domain["responses"].values() for v in variants for b in v.get("buttons", [])
    ]
    assert payloads
    for payload in payloads:
        payload.format({})  # no placeholder left for Rasa to look up (KeyError otherwise)
        sent = interpolate_text(payload, {})
        intent, _, entities = sent.partition("{")
        assert intent == "/choose_option"
        assert isinstance(json.loads("{" + entities), dict)

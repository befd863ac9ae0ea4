"""Shared fixtures. Everything here is built from the project's real files."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Dict

import pytest

os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
MODEL = ROOT / "models" / "current.tar.gz"


@pytest.fixture(scope="session")
def runtime():
    from actions import runtime as rt

    return rt.init()


@pytest.fixture(scope="session")
def red_flag_rules() -> Dict[str, Any]:
    from actions.red_flags_config import load_red_flags
    from components.red_flag_rules import compile_rules

    return compile_rules(load_red_flags())


@pytest.fixture(scope="session")
def lexicon_matcher(runtime):
    from components.lexicon_matcher import LexiconMatcher

    store = runtime.store
    return LexiconMatcher.build(((e.entity, e.value, e.terms) for e in store.lexicon), store.lexicon_idioms)

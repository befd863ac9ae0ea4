"""Schema and loader of `knowledge/red_flags.yml` (no Rasa imports).

The NLU's RedFlagDetector compiles the phrases at training time; the action
server reads the categories (severity, topic, label) to word the urgent answer.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Dict, List, Optional

from pydantic import BaseModel, Extra, Field, validator

from actions.facts_schema import TOPIC_IDS
from actions.facts_store import PROJECT_ROOT
from actions.yaml_model import load_yaml_model

DEFAULT_RED_FLAGS_PATH = PROJECT_ROOT / "knowledge" / "red_flags.yml"
RED_FLAGS_PATH_ENV = "RED_FLAGS_FILE"
SEVERITIES = ("emergency", "urgent")
PROLONGED = "prolonged_symptoms"


class RedFlagsFileError(Exception):
    """The red-flags file is missing, is not YAML, or does not match the schema."""


class _Strict(BaseModel):
    class Config:
        extra = Extra.forbid
        allow_mutation = False


class Category(_Strict):
    id: str
    severity: str
    topic: str
    label: str
    any: List[str] = Field(default_factory=list)
    reported: List[str] = Field(default_factory=list)
    all: List[List[List[str]]] = Field(default_factory=list)
    # phrases that turn the `all` matches off unless the message is a report
    unless: List[str] = Field(default_factory=list)
    # clause starts that make an `all` match a question about the usual course
    # unless the message is a report ("does redness get worse on day two?")
    course_question_starts: List[str] = Field(default_factory=list)

    @validator("severity")
    def _severity(cls, value: str) -> str:
        if value not in SEVERITIES:
            raise ValueError(f"must be one of {', '.join(SEVERITIES)}")
        return value

    @validator("topic")
    def _topic(cls, value: str) -> str:
        if value not in TOPIC_IDS:
            raise ValueError(f"unknown topic id {value!r}")
        return value


class RedFlagsFile(_Strict):
    version: int
    window: int = Field(..., ge=1)
    prolonged_after_days: float = Field(..., gt=0)
    ongoing_cues: List[str]
    negations: List[str]
    general_cues: List[str]
    report_cues: List[str]
    hypothetical_starts: List[str]
    hypothetical_cues: List[str]
    usual_course_cues: List[str]
    pointing_cues: List[str]
    identity_question_starts: List[str]
    emergency_question_starts: List[str]
    emergency_cause_cues: List[str]
    others_cues: List[str]
    not_signs: List[str]
    lasting_side_effects: List[str] = Field(default_factory=list)
    categories: List[Category] = Field(..., min_items=1)
    duration_units: Dict[str, float]

    @validator("categories")
    def _prolonged_present(cls, value: List[Category]) -> List[Category]:
        if PROLONGED not in {c.id for c in value}:
            raise ValueError(f"the {PROLONGED!r} category is required")
        return value

    def category(self, category_id: str) -> Optional[Category]:
        return next((c for c in self.categories if c.id == category_id), None)


def load_red_flags(path: Optional[os.PathLike] = None) -> RedFlagsFile:
    flags_path = Path(path or os.environ.get(RED_FLAGS_PATH_ENV) or DEFAULT_RED_FLAGS_PATH)
    return load_yaml_model(flags_path, RedFlagsFile, RedFlagsFileError, "red-flags file")

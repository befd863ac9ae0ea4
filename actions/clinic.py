"""Clinic settings (`config/clinic.yml`): name, phone, booking URL, hours."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Optional

from pydantic import BaseModel, Extra, Field

from actions.facts_store import PROJECT_ROOT
from actions.yaml_model import load_yaml_model

DEFAULT_CLINIC_PATH = PROJECT_ROOT / "config" / "clinic.yml"
CLINIC_PATH_ENV = "CLINIC_FILE"


class ClinicFileError(Exception):
    """The clinic settings file is missing or invalid."""


class Clinic(BaseModel):
    class Config:
        extra = Extra.forbid
        allow_mutation = False

    name: str = Field(..., min_length=2)
    phone: str = Field(..., min_length=3)
    booking_url: str = Field(..., regex=r"^https?://")
    opening_hours: str = Field(..., min_length=3)
    emergency_number: str = Field(..., min_length=2)


def load_clinic(path: Optional[os.PathLike] = None) -> Clinic:
    clinic_path = Path(path or os.environ.get(CLINIC_PATH_ENV) or DEFAULT_CLINIC_PATH)
    return load_yaml_model(clinic_path, Clinic, ClinicFileError, "clinic settings")

"""Load a YAML file into a pydantic model, with errors that name the file,
the entry and the field (`facts[3] (id 'redness.duration') field sources.0.quote`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Type, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

M = TypeVar("M", bound=BaseModel)


def describe_location(data: Any, loc: tuple) -> str:
    """Turn a pydantic error location into 'facts[3] (id 'x') field sources.0.quote'."""
    if not loc or loc == ("__root__",):
        return "cross-references"
    head, rest = loc[0], loc[1:]
    if isinstance(head, str) and rest and isinstance(rest[0], int):
        index, field = rest[0], rest[1:]
        entry = ""
        try:
            item = data[head][index]
            key = item.get("id") or item.get("value") or item.get("file")
            entry = f" (id {key!r})" if key else ""
        except (KeyError, IndexError, TypeError, AttributeError):
            pass
        where = f"{head}[{index}]{entry}"
        if field:
            where += " field " + ".".join(str(p) for p in field)
        return where
    return "field " + ".".join(str(p) for p in loc)


def load_yaml_model(path: Path, model: Type[M], error: Type[Exception], what: str) -> M:
    """Parse `path` as `model`; raise `error` with one line per problem."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise error(f"{path}: cannot read the {what} ({exc})") from exc
    except yaml.YAMLError as exc:
        raise error(f"{path}: the {what} is not valid YAML ({exc})") from exc
    if not isinstance(raw, dict):
        raise error(f"{path}: the {what} must be a mapping at the top level")
    try:
        return model.parse_obj(raw)
    except ValidationError as exc:
        lines = [f"{path}: {describe_location(raw, e['loc'])}: {e['msg']}" for e in exc.errors()]
        raise error(f"invalid {what}\n" + "\n".join(lines)) from exc

"""Everything the actions need, loaded and validated once per process.

The server entry point (`python -m actions.server`) calls `init()` before it
listens, so a broken facts, clinic or red-flags file stops it with a clear
error. Tests and `rasa_sdk`'s own entry point get the same objects lazily
through `get()`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from actions.clinic import Clinic, load_clinic
from actions.composer import Composer
from actions.facts_store import FactsStore, load_facts
from actions.red_flags_config import RedFlagsFile, load_red_flags
from actions.resolver import Resolver


@dataclass(frozen=True)
class Runtime:
    store: FactsStore
    clinic: Clinic
    red_flags: RedFlagsFile
    resolver: Resolver
    composer: Composer


_current: Optional[Runtime] = None


def init() -> Runtime:
    """Load the facts, clinic settings and red flags; raise on any problem."""
    global _current
    store, clinic, red_flags = load_facts(), load_clinic(), load_red_flags()
    resolver = Resolver(
        store,
        {c.id: c.topic for c in red_flags.categories},
        [c.id for c in red_flags.categories if c.severity == "emergency"],
    )
    _current = Runtime(store, clinic, red_flags, resolver, Composer(store, clinic, red_flags))
    return _current


def get() -> Runtime:
    return _current or init()

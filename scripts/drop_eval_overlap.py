"""Remove from data/nlu every training example that is also an evaluation
question in tests/data/*.jsonl (compared lower-cased, without punctuation),
so that the measured understanding stays honest. Prints what it removed."""

from __future__ import annotations

import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def normalise(text: str) -> str:
    return re.sub(r"[^a-z0-9 ]+", "", text.lower()).strip()


def main() -> None:
    questions = {
        normalise(json.loads(line)["question"])
        for path in (ROOT / "tests" / "data").glob("*.jsonl")
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip()
    }
    for path in sorted((ROOT / "data" / "nlu").glob("*.yml")):
        kept = []
        for line in path.read_text(encoding="utf-8").splitlines(keepends=True):
            example = re.match(r"^    - (.*)$", line.rstrip("\n"))
            if example and normalise(example.group(1).strip("\"'")) in questions:
                print(f"{path.name}: removed {example.group(1)!r}")
                continue
            kept.append(line)
        path.write_text("".join(kept), encoding="utf-8")


if __name__ == "__main__":
    main()

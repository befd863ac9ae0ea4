"""Check the pinned dependencies (constraints.txt) against known advisories.

    make audit

Uses pip-audit (OSV / PyPI advisory data) when the advisory services are
reachable. Where they are not (this project's build machines reach only the
package registries), it falls back to the offline advisory file shipped in
the `safety-db` package from PyPI, and says so: that data is old (its last
release is dated in its version), so a clean offline result is not proof of
safety. Both tools run in their own virtual environment (.venv-audit), not
in the product's.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from importlib.util import find_spec
from pathlib import Path
from typing import Dict, List, Tuple

ROOT = Path(__file__).resolve().parent.parent
PIN = re.compile(r"^([A-Za-z0-9._-]+)==([^\s;]+)")


def pins() -> Dict[str, str]:
    found = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        match = PIN.match(line.strip())
        if match:
            found[match.group(1).lower().replace("_", "-")] = match.group(2)
    return found


def online() -> Tuple[bool, str]:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip_audit",
            "-r",
            str(ROOT / "constraints.txt"),
            "--disable-pip",
            "--no-deps",
            "--progress-spinner",
            "off",
            "-s",
            "osv",
            "-f",
            "markdown",
        ],
        capture_output=True,
        text=True,
    )
    unreachable = "NameResolutionError" in result.stderr or "ConnectionError" in result.stderr
    return (not unreachable), (result.stdout + result.stderr)


def offline() -> List[Tuple[str, str, str, str]]:
    from packaging.specifiers import SpecifierSet

    spec = find_spec("safety_db")  # its __init__ reads a relative path: do not import it
    assert spec is not None and spec.origin is not None, "safety-db is not installed"
    db = Path(spec.origin).parent
    full = json.loads((db / "insecure_full.json").read_text())
    hits = []
    for name, version in pins().items():
        for advisory in full.get(name, []):
            for spec in advisory.get("specs", []):
                if version in SpecifierSet(spec):
                    hits.append((name, version, spec, (advisory.get("cve") or advisory.get("id") or "")))
    return hits


def main() -> None:
    reachable, report = online()
    if reachable:
        print("## Dependency audit (pip-audit, OSV data)\n")
        print(report)
        return
    from importlib.metadata import version

    hits = offline()
    print(f"## Dependency audit (offline: safety-db {version('safety-db')}; OSV/PyPI advisory services unreachable)\n")
    print(f"{len(pins())} pinned packages checked against the offline advisory file.\n")
    if not hits:
        print("No advisory in that file matches a pinned version.")
    for name, pinned, spec, ident in sorted(set(hits)):
        print(f"- {name} {pinned}: affected range {spec} {ident}")


if __name__ == "__main__":
    main()

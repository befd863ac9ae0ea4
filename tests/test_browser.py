"""The clinic page and its chat widget in a real browser (headless Chromium).

tests/browser/widget_test.js does the browsing (playwright-core, from
web/node_modules, with Debian's /usr/bin/chromium: nothing is downloaded);
this test starts the servers and checks what it reports. Screenshots go to
tests/artifacts/.
"""

from __future__ import annotations

import json
import os
import subprocess

from actions.clinic import load_clinic
from tests.servers import ARTIFACTS, ROOT, running_bot


def test_widget_in_a_real_browser() -> None:
    with running_bot("browser", with_web=True) as bot:
        result = subprocess.run(
            ["node", str(ROOT / "tests" / "browser" / "widget_test.js")],
            env={
                **os.environ,
                "PAGE_URL": bot.web_url + "/",
                "SCREENSHOT_DIR": str(ARTIFACTS),
                "CLINIC_PHONE": load_clinic().phone,
            },
            capture_output=True,
            text=True,
            timeout=180,
        )
    report = json.loads(result.stdout.strip().splitlines()[-1]) if result.stdout.strip() else {}
    assert result.returncode == 0 and report.get("ok"), result.stdout[-3000:] + result.stderr[-3000:]
    assert set(report["checks"]) >= {
        "labelled_input",
        "conversation_log",
        "typing_indicator",
        "answer_with_source",
        "quick_reply",
        "html_escaped",
        "urgent_distinct",
        "kept_across_reload",
        "phone_width",
        "no_external_requests",
    }
    assert (ARTIFACTS / "widget-conversation.png").stat().st_size > 10_000

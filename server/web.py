"""The clinic's demo web page with the chat widget: `python -m server.web`.

Serves web/index.html (filled in from config/clinic.yml on every request, so
editing the clinic settings needs no restart of anything else), our CSS and
JS from web/static/, and the widget files installed from the npm registry by
the set-up (web/node_modules): rasa-webchat's bundle and the Inter font.
Nothing is fetched from another origin at run time. rasa-webchat's bundle
imports the Inter font from fonts.googleapis.com; the copy served here imports
the locally served font instead. A Content-Security-Policy header makes the
browser refuse anything else.
"""

from __future__ import annotations

import argparse
import html
import mimetypes
import os
from pathlib import Path
from typing import Dict
from urllib.parse import urlsplit

from aiohttp import web

from actions.clinic import load_clinic

ROOT = Path(__file__).resolve().parent.parent
WEB = ROOT / "web"
MODULES = WEB / "node_modules"
GOOGLE_FONT = "https://fonts.googleapis.com/css?family=Inter:400,500,700&display=swap"
LOCAL_FONT = "/static/fonts.css"
VENDOR_FILES = {
    "rasa-webchat.js": MODULES / "rasa-webchat" / "lib" / "index.js",
}
FONT_DIR = MODULES / "@fontsource" / "inter"


def widget_bundle() -> bytes:
    bundle = VENDOR_FILES["rasa-webchat.js"].read_text(encoding="utf-8")
    if GOOGLE_FONT not in bundle:
        raise RuntimeError("rasa-webchat bundle changed: the Google Fonts import to replace is missing")
    return bundle.replace(GOOGLE_FONT, LOCAL_FONT).encode("utf-8")


def security_headers(rasa_url: str) -> Dict[str, str]:
    origin = urlsplit(rasa_url)
    ws = f"{'wss' if origin.scheme == 'https' else 'ws'}://{origin.netloc}"
    return {
        "Content-Security-Policy": (
            "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
            f"font-src 'self' data:; img-src 'self' data:; connect-src 'self' {rasa_url} {ws}; "
            "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
        ),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
    }


def render_page(rasa_url: str) -> str:
    clinic = load_clinic()
    values = {
        "clinic_name": clinic.name,
        "clinic_phone": clinic.phone,
        "clinic_phone_link": "".join(c for c in clinic.phone if c.isdigit() or c == "+"),
        "booking_url": clinic.booking_url,
        "opening_hours": clinic.opening_hours,
        "emergency_number": clinic.emergency_number,
        "rasa_url": rasa_url,
    }
    page = (WEB / "index.html").read_text(encoding="utf-8")
    for key, value in values.items():
        page = page.replace("{{" + key + "}}", html.escape(value, quote=True))
    return page


def create_app(rasa_url: str) -> web.Application:
    headers = security_headers(rasa_url)
    bundle = widget_bundle()

    async def index(_: web.Request) -> web.Response:
        return web.Response(text=render_page(rasa_url), content_type="text/html", headers=headers)

    async def vendor_widget(_: web.Request) -> web.Response:
        return web.Response(body=bundle, content_type="application/javascript", headers=headers)

    async def font(request: web.Request) -> web.StreamResponse:
        return _file(FONT_DIR, request.match_info["path"], headers)

    async def static(request: web.Request) -> web.StreamResponse:
        return _file(WEB / "static", request.match_info["path"], headers)

    app = web.Application()
    app.router.add_get("/", index)
    app.router.add_get("/vendor/rasa-webchat.js", vendor_widget)
    app.router.add_get("/vendor/inter/{path:.+}", font)
    app.router.add_get("/static/{path:.+}", static)
    return app


def _file(base: Path, relative: str, headers: Dict[str, str]) -> web.StreamResponse:
    path = (base / relative).resolve()
    if base.resolve() not in path.parents or not path.is_file():
        raise web.HTTPNotFound()
    content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return web.FileResponse(path, headers={**headers, "Content-Type": content_type})


def main() -> None:
    parser = argparse.ArgumentParser(description="Clinic web page with the chat widget")
    parser.add_argument("--host", default=os.environ.get("WEB_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("WEB_PORT", "8080")))
    parser.add_argument(
        "--rasa-url",
        default=os.environ.get("RASA_PUBLIC_URL", "http://localhost:5005"),
        help="the Rasa server as the browser reaches it",
    )
    args = parser.parse_args()
    print(f"web page on http://localhost:{args.port}/ (chat via {args.rasa_url})", flush=True)
    web.run_app(create_app(args.rasa_url), host=args.host, port=args.port, print=None, access_log=None)


if __name__ == "__main__":
    main()

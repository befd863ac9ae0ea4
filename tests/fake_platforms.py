"""A local stand-in for the Telegram Bot API and Twilio's REST API.

It answers like the real APIs do (for the calls the bot makes) and records
every request, so tests can check exactly what the bot sent to the platform.
"""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any, Dict, List, Optional

from aiohttp import web

from tests.servers import free_port


class FakePlatforms:
    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.requests: List[Dict[str, Any]] = []
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._runner: Optional[web.AppRunner] = None

    async def _telegram(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        if request.content_type == "application/json":
            data = await request.json()
        else:
            data = dict(await request.post())
        self.requests.append({"platform": "telegram", "method": method, "data": data})
        if method == "sendMessage":
            result: Any = {
                "message_id": len(self.requests),
                "date": int(time.time()),
                "chat": {"id": int(data["chat_id"]), "type": "private"},
                "text": data.get("text", ""),
            }
        else:
            result = True
        return web.json_response({"ok": True, "result": result})

    async def _twilio(self, request: web.Request) -> web.Response:
        data = dict(await request.post())
        self.requests.append(
            {
                "platform": "twilio",
                "account": request.match_info["sid"],
                "data": data,
                "authorization": request.headers.get("Authorization", ""),
            }
        )
        return web.json_response({"sid": f"SM{len(self.requests):032d}", "status": "queued", **data}, status=201)

    def start(self) -> "FakePlatforms":
        ready = threading.Event()

        def serve() -> None:
            self._loop = asyncio.new_event_loop()
            app = web.Application()
            app.router.add_post("/bot{token}/{method}", self._telegram)
            app.router.add_post("/2010-04-01/Accounts/{sid}/Messages.json", self._twilio)
            self._runner = web.AppRunner(app)
            self._loop.run_until_complete(self._runner.setup())
            self._loop.run_until_complete(web.TCPSite(self._runner, "127.0.0.1", self.port).start())
            ready.set()
            self._loop.run_forever()

        threading.Thread(target=serve, daemon=True).start()
        ready.wait(10)
        return self

    def stop(self) -> None:
        if self._loop:
            self._loop.call_soon_threadsafe(self._loop.stop)

    def wait_for(self, predicate, timeout: float = 15) -> Dict[str, Any]:
        deadline = time.time() + timeout
        while time.time() < deadline:
            for request in list(self.requests):
                if predicate(request):
                    return request
            time.sleep(0.05)
        raise AssertionError(f"no matching request reached the fake platform; got {self.requests}")

"""A stand-in for Twilio's REST API, served over real HTTP on a loopback port.

It answers the Messages and Calls resources as Twilio does, records every request, and can be told
to answer the next requests with an error (Twilio's JSON error body) or to stall. It remembers the
``StatusCallback`` URL each created SMS or call asked for, as Twilio does to report its statuses.
By hand, printing every SMS or call it creates: ``python -m benchmarks.twilio_standin``
"""

from __future__ import annotations

import argparse
import base64
import json
import re
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

_RESOURCE = re.compile(r"^/2010-04-01/Accounts/(?P<account>AC\w+)/(?P<kind>Messages|Calls)\.json$")


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    form: dict[str, list[str]]
    account_sid: str | None

    def field(self, name: str) -> str:
        return self.form[name][0]

    def fields(self, name: str) -> list[str]:
        """Every value of a repeated field (``StatusCallbackEvent``); empty when it is absent."""
        return self.form.get(name, [])


@dataclass(frozen=True)
class Failure:
    status: int
    code: int | None = None
    message: str = ""

    def body(self) -> bytes:
        return json.dumps(
            {
                "code": self.code,
                "message": self.message,
                "more_info": f"https://www.twilio.com/docs/errors/{self.code}",
                "status": self.status,
            }
        ).encode()


@dataclass
class TwilioStandIn:
    requests: list[RecordedRequest] = field(default_factory=list)
    _script: deque[Failure | float] = field(default_factory=deque)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _callbacks: dict[str, str | None] = field(default_factory=dict)
    base_url: str = ""

    def fail_next(
        self, status: int, code: int | None = None, message: str = "", times: int = 1
    ) -> None:
        with self._lock:
            self._script.extend([Failure(status, code, message)] * times)

    def stall_next(self, seconds: float) -> None:
        with self._lock:
            self._script.append(seconds)

    def _next_action(self) -> Failure | float | None:
        with self._lock:
            return self._script.popleft() if self._script else None

    def created(self) -> dict[str, str | None]:
        """Every sid the stand-in handed out, with the StatusCallback URL it was given."""
        with self._lock:
            return dict(self._callbacks)

    def status_callback_for(self, sid: str) -> str | None:
        """The ``StatusCallback`` URL the request that created ``sid`` asked for, if any.

        ``KeyError`` when the stand-in created no SMS or call with this sid.
        """
        with self._lock:
            return self._callbacks[sid]

    def answer(self, request: RecordedRequest, kind: str, account: str) -> tuple[int, bytes]:
        self.requests.append(request)
        action = self._next_action()
        if isinstance(action, float | int):
            time.sleep(action)
        elif isinstance(action, Failure):
            return action.status, action.body()
        sender = request.fields("From")
        if kind == "Messages":
            service = request.fields("MessagingServiceSid")
            resource: dict[str, Any] = {
                "sid": "SM" + secrets.token_hex(16),
                # Through a Messaging Service, Twilio picks the sender later: no From yet.
                "status": "accepted" if service else "queued",
                "body": request.field("Body"),
                "messaging_service_sid": service[0] if service else None,
            }
        else:
            resource = {"sid": "CA" + secrets.token_hex(16), "status": "queued"}
        resource |= {
            "account_sid": account,
            "to": request.field("To"),
            "from": sender[0] if sender else None,
            "date_created": "Wed, 27 Nov 2024 10:00:00 +0000",
        }
        with self._lock:
            callback = request.fields("StatusCallback")
            self._callbacks[resource["sid"]] = callback[0] if callback else None
        return 201, json.dumps(resource).encode()


def _handler(standin: TwilioStandIn) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            form = parse_qs(self.rfile.read(length).decode(), keep_blank_values=True)
            account = None
            auth = self.headers.get("Authorization", "")
            if auth.startswith("Basic "):
                account = base64.b64decode(auth[6:]).decode().split(":", 1)[0]
            match = _RESOURCE.match(self.path.split("?", 1)[0])
            if match is None:
                self._send(404, Failure(404, 20404, "The requested resource was not found").body())
                return
            request = RecordedRequest("POST", self.path, form, account)
            status, body = standin.answer(request, match["kind"], match["account"])
            self._send(status, body)

        def _send(self, status: int, body: bytes) -> None:
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (a timeout test)

        def log_message(self, format: str, *args: Any) -> None:
            return

    return Handler


class RunningStandIn:
    """``with RunningStandIn() as twilio: ... twilio.base_url ...`` (on a free port by default)"""

    def __init__(self, port: int = 0) -> None:
        self.standin = TwilioStandIn()
        self._server = ThreadingHTTPServer(("127.0.0.1", port), _handler(self.standin))
        self._server.daemon_threads = True
        self.standin.base_url = f"http://127.0.0.1:{self._server.server_address[1]}"
        # shutdown() waits for the serving loop's next poll: a short poll ends each test quickly.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    def __enter__(self) -> TwilioStandIn:
        self._thread.start()
        return self.standin

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


def main() -> None:
    parser = argparse.ArgumentParser(description="A local stand-in for Twilio's REST API")
    parser.add_argument("--port", type=int, default=8099)
    with RunningStandIn(port=parser.parse_args().port) as twilio:
        print(f"Twilio stand-in at {twilio.base_url} (Ctrl-C stops it)", flush=True)
        reported: set[str] = set()
        try:
            while True:
                time.sleep(0.2)
                for sid, callback in twilio.created().items():
                    if sid not in reported:
                        reported.add(sid)
                        print(f"created {sid}, status callback: {callback}", flush=True)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()

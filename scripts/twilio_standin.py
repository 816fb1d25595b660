"""Run the tests' Twilio stand-in by hand: a local server answering Twilio's REST API.

    python scripts/twilio_standin.py --port 8099

Point ecm-comms at it with TWILIO_API_BASE_URL=http://127.0.0.1:8099. Every request it receives
is printed, with the StatusCallback URL Twilio would call back.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.support.twilio_standin import RunningStandIn


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8099)
    args = parser.parse_args()
    with RunningStandIn(port=args.port) as twilio:
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

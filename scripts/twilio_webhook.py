"""Post a webhook to ecm-comms as Twilio would: form-encoded and signed with the auth token.

For trying the webhooks by hand (the README shows how). The signature is twilio-python's own
(RequestValidator.compute_signature), over the public URL the service validates against.

    python scripts/twilio_webhook.py http://127.0.0.1:8000/v1/clinic/webhooks/twilio/sms \\
        MessageSid=SM0123… From=+18051234567 To=+15005550006 Body=STOP

Options: --token (default: $TWILIO_AUTH_TOKEN), --public-url (the URL to sign when the service
sits behind a proxy; default: the URL posted to), --forge (send a wrong signature).
"""

from __future__ import annotations

import argparse
import os
import sys

import requests
from twilio.request_validator import RequestValidator


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url")
    parser.add_argument("fields", nargs="*", help="NAME=VALUE form fields")
    parser.add_argument("--token", default=os.environ.get("TWILIO_AUTH_TOKEN"))
    parser.add_argument("--public-url", default=None)
    parser.add_argument("--forge", action="store_true")
    args = parser.parse_args(argv)
    if not args.token:
        parser.error("give --token or set TWILIO_AUTH_TOKEN")
    form = dict(field.split("=", 1) for field in args.fields)
    signature = RequestValidator(args.token).compute_signature(args.public_url or args.url, form)
    if args.forge:
        signature = "forged" + signature[6:]
    response = requests.post(
        args.url, data=form, headers={"X-Twilio-Signature": signature}, timeout=10
    )
    print(response.status_code, response.text)
    return 0 if response.ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""A receiver for Loop's outbound webhooks in Flask (docs/webhooks.md).

It checks X-Loop-Signature, the hex HMAC-SHA256 of the exact body bytes keyed with the
endpoint's secret, before it parses anything, and answers 401 when the signature does not match.

    WEBHOOK_SECRET=whsec_... PORT=4000 python3 examples/receivers/flask/app.py

Register it with POST /api/webhooks {"url": "http://<host>:4000/webhooks/loop", "events": [...]}
and put the `secret` that answer returns (once) in WEBHOOK_SECRET. Behind a production WSGI
server (gunicorn, uWSGI) import `app` from this module instead of running it.
"""
import hashlib
import hmac
import json
import os
import signal
import sys

from flask import Flask, request

WEBHOOK_SECRET = os.environ.get("WEBHOOK_SECRET", "")
if WEBHOOK_SECRET == "":
    sys.exit("WEBHOOK_SECRET is required: the whsec_... secret Loop returned when the endpoint was created")

app = Flask(__name__)


def signed_with(secret: str, body: bytes, header: "str | None") -> bool:
    """Whether header is the hex HMAC-SHA256 of body under secret, compared in constant time."""
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode(), (header or "").encode())


@app.post("/webhooks/loop")
def handle_webhook():
    # The raw bytes Loop signed; request.json would be a re-parsed copy.
    body = request.get_data(cache=False)
    # While Loop rotates the secret, X-Loop-Signature uses the new one and X-Loop-Signature-Previous
    # the old, so this receiver keeps working on either secret until you switch WEBHOOK_SECRET.
    if not (signed_with(WEBHOOK_SECRET, body, request.headers.get("X-Loop-Signature"))
            or signed_with(WEBHOOK_SECRET, body, request.headers.get("X-Loop-Signature-Previous"))):
        return "Invalid signature", 401

    event = json.loads(body)
    if event["type"] == "lead.captured.v1":
        pass  # Handle a new lead: event["data"] is the event's payload.
    elif event["type"] == "issue.created":
        pass  # Handle a new issue.
    print(f"received {event['type']} {event['id']} (delivery {request.headers.get('X-Loop-Delivery', '?')})", flush=True)
    # Answer 2xx quickly; do slow work after answering (Loop times out after the endpoint's timeoutMs).
    return "OK", 200


if __name__ == "__main__":
    from werkzeug.serving import make_server

    server = make_server(os.environ.get("HOST", "127.0.0.1"), int(os.environ.get("PORT", "4000")), app, threaded=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print(f"listening on http://{server.host}:{server.server_port}/webhooks/loop", flush=True)
    server.serve_forever()

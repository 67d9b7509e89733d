"""A webhook receiver that verifies every delivery with the `standardwebhooks` package.

Prints one JSON line per request on stdout: {"verified", "id", "type", "notice_id", "answered"}.
POST /control {"secret": "whsec_...", "answer": 503, "retry_after": "1"} sets the secret and
what the next requests are answered with (200 when "answer" is absent).
"""
import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

state = {"secret": None, "answer": 200, "retry_after": None}


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("content-length", "0")))
        if self.path == "/control":
            state.update(json.loads(body))
            self.send_response(204)
            self.end_headers()
            return
        headers = {key.lower(): value for key, value in self.headers.items()}
        try:
            payload = Webhook(state["secret"]).verify(body, headers)
            verified = True
        except (WebhookVerificationError, TypeError, ValueError) as error:
            payload, verified = {}, False
            print(json.dumps({"error": str(error)}), file=sys.stderr, flush=True)
        answer = int(state.get("answer") or 200)
        line = {
            "verified": verified,
            "id": headers.get("webhook-id"),
            "signature": headers.get("webhook-signature"),
            "timestamp": headers.get("webhook-timestamp"),
            "type": payload.get("type"),
            "notice_id": payload.get("data", {}).get("notice_id"),
            "data": payload.get("data"),
            "answered": answer,
            "body": body.decode("utf-8"),
        }
        print(json.dumps(line), flush=True)
        self.send_response(answer)
        if state.get("retry_after"):
            self.send_header("Retry-After", str(state["retry_after"]))
        self.send_header("content-length", "0")
        self.end_headers()


ThreadingHTTPServer.allow_reuse_address = True
server = ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1]) if len(sys.argv) > 1 else 0), Handler)
print(json.dumps({"listening": server.server_address[1]}), flush=True)
server.serve_forever()

"""A real SMTP server (aiosmtpd) that parses each message it receives with the standard
library and prints it as one JSON line on stdout."""
import threading
import json
import sys
from email import message_from_bytes, policy

from aiosmtpd.controller import Controller


class Printer:
    async def handle_DATA(self, server, session, envelope):
        message = message_from_bytes(envelope.content, policy=policy.default)
        text = message.get_body(("plain",))
        html = message.get_body(("html",))
        print(json.dumps({
            "mail_from": envelope.mail_from,
            "rcpt_to": envelope.rcpt_tos,
            "from": str(message["from"]),
            "to": str(message["to"]),
            "subject": str(message["subject"]),
            "content_type": message.get_content_type(),
            "list_unsubscribe": message["list-unsubscribe"] and str(message["list-unsubscribe"]),
            "list_unsubscribe_post": message["list-unsubscribe-post"] and str(message["list-unsubscribe-post"]),
            "message_id": message["message-id"] and str(message["message-id"]),
            "auto_submitted": message["auto-submitted"] and str(message["auto-submitted"]),
            "text": text.get_content() if text else None,
            "html": html.get_content() if html else None,
        }), flush=True)
        return "250 OK"


controller = Controller(Printer(), hostname="127.0.0.1", port=int(sys.argv[1]))
controller.start()
print(json.dumps({"listening": controller.port}), flush=True)
threading.Event().wait()

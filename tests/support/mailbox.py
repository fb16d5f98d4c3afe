"""The SMTP server's side of the tests: every e-mail the app sends, parsed."""

from __future__ import annotations

from email import message_from_bytes, policy
from email.message import Message

# Recipients at this domain are refused for good (550), as a real server refuses an unknown mailbox.
REFUSED_DOMAIN = "refused.test"


class Mailbox:
    """aiosmtpd handler that keeps every message it receives."""

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.port = 0

    async def handle_RCPT(self, server, session, envelope, address: str, rcpt_options) -> str:  # noqa: N802
        if address.lower().endswith("@" + REFUSED_DOMAIN):
            return "550 5.1.1 No such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 (aiosmtpd's name)
        self.messages.append(message_from_bytes(envelope.original_content, policy=policy.default))
        return "250 Message accepted for delivery"

    def only(self) -> Message:
        assert len(self.messages) == 1, f"expected one e-mail, got {len(self.messages)}"
        return self.messages[0]

"""Sending one delivery by email or to a team webhook: the messages, payloads and signature.

Every failure is raised as `DeliveryError` with a short message for the delivery log ("SMTP:
Connection refused", "Webhook: HTTP 500", "Webhook: timed out after 5 s"); the engine in
`services/notifications.py` decides about retries. Webhooks use the standard library only.

JSON webhooks are signed so receivers can tell them from forgeries: the header
`X-Stationmaster-Signature: sha256=<hex>` is the HMAC-SHA256, keyed with the webhook's secret, of
`"<timestamp>.<body bytes>"`, where `<timestamp>` is the `X-Stationmaster-Timestamp` header (Unix
seconds). A receiver recomputes it with `verify_signature()` and should also refuse timestamps
more than a few minutes old, so a captured request cannot be replayed later.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import smtplib
import urllib.error
import urllib.request
from datetime import datetime

from django.conf import settings
from django.core.mail import EmailMessage
from django.urls import reverse

from releases.models import Channel, Delivery, WebhookFormat

SIGNATURE_HEADER = "X-Stationmaster-Signature"
TIMESTAMP_HEADER = "X-Stationmaster-Timestamp"
USER_AGENT = "Stationmaster-Webhook/1"
ERROR_LIMIT = 300


class DeliveryError(Exception):
    """A send that failed; str() is the short message shown in the delivery log.

    `permanent` failures (no address any more, the webhook switched off) are not retried.
    """

    def __init__(self, message: str, *, permanent: bool = False):
        super().__init__(message)
        self.permanent = permanent


def absolute_url(path: str) -> str:
    """Links in emails and webhooks point at SITE_URL; a full URL is kept as it is."""
    if not path or "://" in path:
        return path
    return f"{settings.SITE_URL}/{path.lstrip('/')}"


def send(delivery: Delivery, *, now: datetime) -> None:
    """Send `delivery` over its channel, or raise DeliveryError."""
    if delivery.channel == Channel.EMAIL:
        send_email(delivery)
    elif delivery.channel == Channel.WEBHOOK:
        send_webhook(delivery, now=now)
    else:
        raise DeliveryError(f"Nothing to send over the {delivery.channel} channel", permanent=True)


# --- email -------------------------------------------------------------------------------------


def email_message(delivery: Delivery) -> EmailMessage:
    address = delivery.recipient.email_for_notifications if delivery.recipient else ""
    if not address:
        raise DeliveryError("Email: the recipient has no email address", permanent=True)
    text = delivery.body.rstrip()
    if delivery.url:
        text = f"{text}\n\n{absolute_url(delivery.url)}".lstrip()
    settings_url = absolute_url(reverse("releases:notification_settings"))
    text += f"\n\n—\nChoose what Stationmaster sends you, and how: {settings_url}\n"
    # A header cannot hold a line break; titles are one line, but never trust that.
    subject = " ".join(delivery.title.split())
    return EmailMessage(subject=subject, body=text, to=[address])


def _smtp_timeout() -> object:
    return settings.MAILERS.get("default", {}).get("OPTIONS", {}).get("timeout")


def send_email(delivery: Delivery) -> None:
    """Through the default mailer (MAILERS, configured by EMAIL_URL)."""
    message = email_message(delivery)
    try:
        message.send()
    except TimeoutError as exc:
        timeout = _smtp_timeout()
        raise DeliveryError(
            f"SMTP: timed out after {timeout} s" if timeout else "SMTP: timed out"
        ) from exc
    except smtplib.SMTPResponseException as exc:
        reply = exc.smtp_error.decode(errors="replace") if isinstance(exc.smtp_error, bytes) else ""
        raise DeliveryError(_short(f"SMTP: {exc.smtp_code} {reply}".strip())) from exc
    except smtplib.SMTPRecipientsRefused as exc:
        raise DeliveryError(_short(f"SMTP: recipient refused ({message.to[0]})")) from exc
    except smtplib.SMTPException as exc:
        raise DeliveryError(_short(f"SMTP: {str(exc) or type(exc).__name__}")) from exc
    except OSError as exc:
        raise DeliveryError(_short(f"SMTP: {exc.strerror or exc}")) from exc


# --- webhooks ----------------------------------------------------------------------------------


def _slack_escape(text: str) -> str:
    # Slack reads &, < and > as markup; escaped, a title like "<none>" shows as written.
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_payload(delivery: Delivery) -> dict:
    lines = [f"*{_slack_escape(delivery.title)}*"]
    if delivery.body:
        lines.append(_slack_escape(delivery.body))
    if delivery.url:
        lines.append(f"<{absolute_url(delivery.url)}|Open in Stationmaster>")
    return {"text": "\n".join(lines)}


def json_payload(delivery: Delivery, *, now: datetime) -> dict:
    return {
        "kind": delivery.kind,
        "title": delivery.title,
        "body": delivery.body,
        "url": absolute_url(delivery.url),
        "team": delivery.team.slug if delivery.team_id else None,
        "subject": delivery.subject,
        "occurrence": delivery.occurrence,
        "sent_at": now.isoformat(),
    }


def sign(secret: str, timestamp: int | str, body: bytes) -> str:
    """The value of the signature header for `body` sent at `timestamp` (Unix seconds)."""
    signed = f"{timestamp}.".encode() + body
    return "sha256=" + hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def verify_signature(secret: str, timestamp: int | str, body: bytes, header: str | None) -> bool:
    """True when `header` is the signature of `body` at `timestamp` (compared in constant time)."""
    if not header or not secret:
        return False
    return hmac.compare_digest(sign(secret, timestamp, body).encode(), header.strip().encode())


def webhook_request(delivery: Delivery, *, now: datetime) -> urllib.request.Request:
    webhook = delivery.webhook
    headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT}
    if webhook.payload_format == WebhookFormat.JSON:
        body = json.dumps(json_payload(delivery, now=now)).encode()
        timestamp = int(now.timestamp())
        headers[TIMESTAMP_HEADER] = str(timestamp)
        headers[SIGNATURE_HEADER] = sign(webhook.secret, timestamp, body)
    else:
        body = json.dumps(slack_payload(delivery)).encode()
    return urllib.request.Request(webhook.url, data=body, headers=headers, method="POST")


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    # A redirected POST would arrive as a GET without its body, or somewhere else: a failure.
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


_opener = urllib.request.build_opener(_NoRedirects)


def send_webhook(delivery: Delivery, *, now: datetime) -> None:
    """POST the payload; anything but a 2xx answer within WEBHOOK_TIMEOUT is a failure."""
    webhook = delivery.webhook
    if webhook is None or not webhook.is_active:
        raise DeliveryError("Webhook: switched off", permanent=True)
    if not webhook.url.lower().startswith(("https://", "http://")):
        raise DeliveryError("Webhook: the URL must start with https:// or http://", permanent=True)
    timeout = settings.WEBHOOK_TIMEOUT
    timed_out = DeliveryError(f"Webhook: timed out after {timeout:g} s")
    try:
        with _opener.open(webhook_request(delivery, now=now), timeout=timeout) as response:
            response.read(64 * 1024)  # drain a little, so the connection ends cleanly
            status = response.status
    except urllib.error.HTTPError as exc:
        exc.close()
        raise DeliveryError(f"Webhook: HTTP {exc.code}") from exc
    except urllib.error.URLError as exc:
        if isinstance(exc.reason, TimeoutError):
            raise timed_out from exc
        reason = getattr(exc.reason, "strerror", None) or exc.reason
        raise DeliveryError(_short(f"Webhook: {reason}")) from exc
    except TimeoutError as exc:
        raise timed_out from exc
    except (OSError, http.client.HTTPException) as exc:
        raise DeliveryError(_short(f"Webhook: {getattr(exc, 'strerror', None) or exc}")) from exc
    if not 200 <= status < 300:
        raise DeliveryError(f"Webhook: HTTP {status}")


def _short(message: str) -> str:
    return message if len(message) <= ERROR_LIMIT else message[: ERROR_LIMIT - 1] + "…"

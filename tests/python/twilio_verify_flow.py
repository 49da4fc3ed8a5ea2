"""The Twilio Verify flow through the official Python SDK (`twilio` on PyPI), unchanged but
for the host: its documented custom `http_client` (a TwilioHttpClient that sends each request
to the local Worker). Run by tests/twilio-verify-python.test.mjs with a JSON config:
{"url", "account_sid", "api_key", "admin_token"}. Prints "ok" when every assertion holds."""
import json
import re
import sys
import urllib.request
from datetime import datetime
from urllib.parse import quote, urlsplit

from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

cfg = json.loads(sys.argv[1])
base = cfg["url"].rstrip("/")


class LocalHttpClient(TwilioHttpClient):
    """The SDK's own HTTP client, sending to the Worker instead of verify.twilio.com."""

    def request(self, method, url, *args, **kwargs):
        parts = urlsplit(url)
        assert parts.netloc == "verify.twilio.com" or url.startswith(base), url
        query = f"?{parts.query}" if parts.query else ""
        return super().request(method, f"{base}{parts.path}{query}", *args, **kwargs)


def latest_code(phone):
    req = urllib.request.Request(
        f"{base}/admin/outbox?to={quote(phone)}",
        headers={"Authorization": f"Bearer {cfg['admin_token']}"},
    )
    text = json.load(urllib.request.urlopen(req))["messages"][0]["text"]
    return re.search(r"\b(\d{4,10})\b", text).group(1)


def raises(call, status, code):
    try:
        call()
    except TwilioRestException as e:
        assert (e.status, e.code) == (status, code), (e.status, e.code, e.msg)
        return e
    raise AssertionError(f"expected TwilioRestException {status}/{code}")


client = Client(cfg["account_sid"], cfg["api_key"], http_client=LocalHttpClient())
verify = client.verify.v2

svc = verify.services.create(friendly_name="Python", code_length=7)
assert re.fullmatch(r"VA[0-9a-f]{32}", svc.sid), svc.sid
assert svc.account_sid == cfg["account_sid"]
assert svc.code_length == 7
assert isinstance(svc.date_created, datetime), svc.date_created
assert svc.links["verification_checks"].endswith(f"/v2/Services/{svc.sid}/VerificationCheck")
assert [s.sid for s in verify.services.list(page_size=1)] == [svc.sid]

phone = "+14155559876"
v = verify.services(svc.sid).verifications.create(to=phone, channel="sms")
assert re.fullmatch(r"VE[0-9a-f]{32}", v.sid), v.sid
assert (v.status, v.valid, v.to, v.channel) == ("pending", False, phone, "sms")
assert isinstance(v.date_created, datetime)
assert re.fullmatch(r"VL[0-9a-f]{32}", v.send_code_attempts[0]["attempt_sid"])
code = latest_code(phone)
assert len(code) == 7

checks = verify.services(svc.sid).verification_checks
wrong = checks.create(to=phone, code="0000000" if code != "0000000" else "1111111")
assert (wrong.status, wrong.valid) == ("pending", False)
right = checks.create(verification_sid=v.sid, code=code)
assert (right.status, right.valid, right.sid) == ("approved", True, v.sid)
assert isinstance(right.date_updated, datetime)
raises(lambda: checks.create(verification_sid=v.sid, code=code), 404, 20404)
assert verify.services(svc.sid).verifications(v.sid).fetch().status == "approved"

v2 = verify.services(svc.sid).verifications.create(to=phone, channel="call")
assert v2.sid != v.sid
canceled = verify.services(svc.sid).verifications(v2.sid).update(status="canceled")
assert canceled.status == "canceled"
raises(lambda: checks.create(to=phone, code=latest_code(phone)), 404, 20404)

bad = Client(cfg["account_sid"], "x" * 32, http_client=LocalHttpClient())
raises(lambda: bad.verify.v2.services(svc.sid).fetch(), 401, 20003)
raises(lambda: verify.services.create(friendly_name="x", code_length=11), 400, 60200)

# A rate limit and its bucket: the second start naming the same value is 429 20429.
limits = verify.services(svc.sid).rate_limits
rl = limits.create(unique_name="end_user_ip", description="per IP")
assert re.fullmatch(r"RK[0-9a-f]{32}", rl.sid), rl.sid
assert (rl.unique_name, rl.description, rl.service_sid) == ("end_user_ip", "per IP", svc.sid)
assert isinstance(rl.date_created, datetime)
assert rl.links["buckets"].endswith(f"/RateLimits/{rl.sid}/Buckets")
bucket = limits(rl.sid).buckets.create(max=1, interval=60)
assert re.fullmatch(r"BL[0-9a-f]{32}", bucket.sid), bucket.sid
assert (bucket.max, bucket.interval, bucket.rate_limit_sid) == (1, 60, rl.sid)
assert [b.sid for b in limits(rl.sid).buckets.list()] == [bucket.sid]
start = lambda to: verify.services(svc.sid).verifications.create(
    to=to, channel="sms", rate_limits={"end_user_ip": "10.0.0.1"}
)
assert start("+14155559877").status == "pending"
raises(lambda: start("+14155559878"), 429, 20429)
raises(lambda: limits.create(unique_name="end_user_ip"), 400, 60208)
assert limits(rl.sid).delete() is True

assert verify.services(svc.sid).delete() is True
raises(lambda: verify.services(svc.sid).fetch(), 404, 20404)
print("ok")

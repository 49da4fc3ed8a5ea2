"""The official `smsactivate` module against keys that may not act: prints, as one JSON
line, the error word each call raised. Run by tests/scopes.test.mjs with OTPEDGE_URL,
VERIFY_ONLY_KEY (a key holding only `otp:verify`)."""

import json
import os

from smsactivate.api import SMSActivateAPI

BASE_URL = os.environ["OTPEDGE_URL"].rstrip("/") + "/stubs/handler_api.php"


def client(key):
    sa = SMSActivateAPI(key)
    # The module has no base-URL option; its private URL attribute is the one change.
    sa._SMSActivateAPI__api_url = BASE_URL
    return sa


verify_only = client(os.environ["VERIFY_ONLY_KEY"])
print(
    json.dumps(
        {
            "balance": verify_only.getBalance().get("error"),
            "number": verify_only.getNumber(service="tg", country=187).get("error"),
        }
    ),
    flush=True,
)

"""The official `smsactivate` module against a key that may not act (no scope, or a spend
cap reached): prints, as one JSON line, the error word of a getBalance and of a getNumber.
Run by tests/scopes.test.mjs and tests/spend-caps.test.mjs with OTPEDGE_URL and KEY."""

import json
import os

from smsactivate.api import SMSActivateAPI

BASE_URL = os.environ["OTPEDGE_URL"].rstrip("/") + "/stubs/handler_api.php"


def client(key):
    sa = SMSActivateAPI(key)
    # The module has no base-URL option; its private URL attribute is the one change.
    sa._SMSActivateAPI__api_url = BASE_URL
    return sa


sa = client(os.environ["KEY"])
print(
    json.dumps(
        {
            "balance": sa.getBalance().get("error"),
            "number": sa.getNumber(service="tg", country=187).get("error"),
        }
    ),
    flush=True,
)

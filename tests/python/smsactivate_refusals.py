"""The official `smsactivate` module against a key that may not act (no scope, or a spend
cap reached): prints, as one JSON line, the error word of a getBalance and of a getNumber.
Run by tests/scopes.test.mjs and tests/spend-caps.test.mjs with OTPEDGE_URL and KEY."""

import json
import os

from sa_official import client



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

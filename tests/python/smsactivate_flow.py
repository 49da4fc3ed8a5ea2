"""The official sms-activate Python module (PyPI `smsactivate`), unchanged, against otpedge.

Run by tests/smsactivate.test.mjs, which starts the Worker and passes:
  OTPEDGE_URL   the Worker's origin (http://127.0.0.1:<port>)
  KEY           an API key whose wallet holds 1.00 USD
  EMPTY_KEY     an API key whose wallet is empty
  LOCK_SECS     the early-cancel lock the Worker runs with (seconds)

It talks to the node side in JSON lines: each line it prints on stdout is an event; after an
event with "need" it waits for one line on stdin (the node side's answer). Any failed check
raises, so the exit status is non-zero and stderr says which.
"""

import os
import time

from sa_official import client

from node_link import ask, check, emit



sa = client(os.environ["KEY"])
lock_secs = float(os.environ["LOCK_SECS"])

# Balance: the module keeps the text after "ACCESS_BALANCE:".
check("balance", sa.getBalance(), {"balance": "1.00"})

# Catalog reads, through the module's JSON parsing.
countries = sa.getCountries()
check("getCountries USA", countries["187"]["eng"], "United States")
prices = sa.getPrices(service="tg", country=187)
check("getPrices cost", prices["187"]["tg"]["cost"], 0.05)
if not isinstance(prices["187"]["tg"]["count"], int) or prices["187"]["tg"]["count"] < 1:
    raise AssertionError(f"getPrices count: {prices!r}")
status = sa.getNumbersStatus(country=187)
if not isinstance(status.get("tg_0"), int):
    raise AssertionError(f"getNumbersStatus: {status!r}")

# One activation, start to finish. getNumber int()s the id and the phone.
number = sa.getNumber(service="tg", country=187)
if set(number) != {"activation_id", "phone"}:
    raise AssertionError(f"getNumber: {number!r}")
act, phone = number["activation_id"], number["phone"]
emit(step="number", id=act, phone=phone)
check("setStatus 1", sa.setStatus(id=act, status=1), "ACCESS_READY")
check("getStatus waiting", sa.getStatus(id=act), "STATUS_WAIT_CODE")

active = sa.getActiveActivations()
ids = [a["activationId"] for a in active["activeActivations"]]
check("getActiveActivations lists it", act in ids, True)

ask(need="sms", phone=phone, text="Your Telegram code: 51234. Do not share it.")
check("getStatus after the SMS", sa.getStatus(id=act), "STATUS_OK:51234")
check("setStatus 6", sa.setStatus(id=act, status=6), "ACCESS_ACTIVATION")
check("getStatus after complete", sa.getStatus(id=act), "STATUS_OK:51234")
check("balance after one purchase", sa.getBalance(), {"balance": "0.95"})

# A second one, cancelled: refused inside the lock, accepted after it, refunded.
second = sa.getNumber(service="tg", country=187)
act2 = second["activation_id"]
emit(step="second", id=act2, phone=second["phone"])
check("setStatus 8 in the lock", sa.setStatus(id=act2, status=8), "EARLY_CANCEL_DENIED")
time.sleep(lock_secs + 0.5)
check("setStatus 8 after the lock", sa.setStatus(id=act2, status=8), "ACCESS_CANCEL")
check("getStatus cancelled", sa.getStatus(id=act2)["error"], "STATUS_CANCEL")
check("balance after the refund", sa.getBalance(), {"balance": "0.95"})

# Errors, as the module reports them: {"error": WORD, "message": ...}.
check("NO_NUMBERS", sa.getNumber(service="tg", country=66)["error"], "NO_NUMBERS")
check("BAD_SERVICE", sa.getNumber(service="zz", country=187)["error"], "BAD_SERVICE")
check("NO_BALANCE", client(os.environ["EMPTY_KEY"]).getNumber(service="tg", country=187)["error"], "NO_BALANCE")
check("BAD_KEY", client("A" * 32).getBalance()["error"], "BAD_KEY")
check("NO_ACTIVATION", sa.getStatus(id=987654321)["error"], "NO_ACTIVATION")

emit(step="done")

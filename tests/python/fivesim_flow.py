"""The 5sim client `pyfivesim` (PyPI), unchanged but for its base URL, against otpedge.

Run by tests/fivesim.test.mjs, which starts the Worker and passes:
  OTPEDGE_URL   the Worker's origin (http://127.0.0.1:<port>)
  KEY           an API key of a signed-up customer whose wallet holds 1.00 USD
  EMPTY_KEY     an API key whose wallet is empty
  OTHER_ORDER   an order id of another account
  LOCK_SECS     the early-cancel lock the Worker runs with (seconds)

It talks to the node side in JSON lines (node_link): after an event with "need" it waits for
the node side's answer. Any failed check raises, so the exit status is non-zero.
"""

import os
import time

from pyfivesim import PyFiveSimSync
from pyfivesim.enums import Action, OrderAction, Status
from pyfivesim.exceptions import (
    FiveSimInvalidAPIKey,
    FiveSimInvalidCountry,
    FiveSimInvalidOperator,
    FiveSimInvalidProduct,
    FiveSimNoFreePhones,
    FiveSimNotEnoughBalance,
    FiveSimOrderNotFound,
    FiveSimUnknownError,
)

from node_link import ask, check, emit

BASE = os.environ["OTPEDGE_URL"].rstrip("/") + "/v1"
client = PyFiveSimSync(api_key=os.environ["KEY"], base_url=BASE)
lock_secs = float(os.environ["LOCK_SECS"])


def refused(label, exception, call):
    """`call` must raise `exception` (the client's class for 5sim's words)."""
    try:
        call()
    except exception as e:
        emit(step=label, status=e.status_code, data=e.data)
        return e
    raise AssertionError(f"{label}: no {exception.__name__}")


def balance():
    return client.get_user_profile().balance


# The profile, through the client's model (an email address, five-field order strings).
profile = client.get_user_profile()
check("balance", profile.balance, 1.0)
check("no order yet", profile.did_order, False)
check("default country", profile.default_country.name, "india")

# The guest lists.
countries = {c.name: c for c in client.get_countries_list()}
check("countries", sorted(countries), ["india", "usa"])
check("usa operators", countries["usa"].available_operators, ["1", "2"])
check("usa prefix", countries["usa"].prefix, "+1")
products = {p.name: p for p in client.get_available_products("usa", "any")}
check("telegram price", products["telegram"].price, 0.05)
check("telegram stock", products["telegram"].quantity > 0, True)
offers = {o.name: o.operator_info for o in client.get_prices(country="usa", product="telegram")}
check("operator 1 cost", offers["1"].price, 0.05)
check("operator 2 cost", offers["2"].price, 0.07)

# One order, start to finish.
order = client.buy_number(product="telegram", country="usa", operator="any")
check("bought", (order.status, order.price, order.product, order.country), (Status.PENDING, 0.05, "telegram", "usa"))
check("operator any took the cheapest", order.operator, "1")
ask(need="sms", phone=order.phone, text="Your Telegram code: 51234. Do not share it.")
seen = client.get_order_info(order.id)
check("received", (seen.status, seen.sms.code, seen.sms.sender), (Status.RECEIVED, "51234", "Telegram"))
done = client.action_with_order(OrderAction.FINISH, order.id)
check("finished", done.status, Status.FINISHED)
check("one charge", balance(), 0.95)

# A cancel is refused inside the early-cancel lock, then refunded.
second = client.buy_number(product="telegram", country="usa", operator="1")
refused("cancel inside the lock", FiveSimUnknownError, lambda: client.action_with_order(OrderAction.CANCEL, second.id))
time.sleep(lock_secs + 0.3)
check("canceled", client.action_with_order(OrderAction.CANCEL, second.id).status, Status.CANCELED)
check("cancel refunds", balance(), 0.95)

# A ban is a cancel recorded as banned, refunded too.
third = client.buy_number(product="telegram", country="usa", operator="any")
time.sleep(lock_secs + 0.3)
check("banned", client.action_with_order(OrderAction.BAN, third.id).status, Status.BANNED)
check("check shows banned", client.get_order_info(third.id).status, Status.BANNED)
check("ban refunds", balance(), 0.95)
emit(step="banned number", phone=third.phone)

# Price ceilings: one below the price makes "any" find nothing; maxPrice overrides it.
check("ceiling set", client.action_with_user_price_limits(Action.CREATE, "telegram", 0.01), True)
limits = client.get_user_price_limits()
check("ceiling listed", [(l.product, l.price) for l in limits], [("telegram", 0.01)])
refused("ceiling below every price", FiveSimNoFreePhones, lambda: client.buy_number(product="telegram", country="usa", operator="any"))
check("nothing charged", balance(), 0.95)
capped = client.buy_number(product="telegram", country="usa", operator="any", max_price=0.06)
check("maxPrice wins over the ceiling", capped.price, 0.05)
check("ceiling deleted", client.action_with_user_price_limits(Action.DELETE, "telegram"), True)
check("no ceiling", client.get_user_price_limits(), [])
emit(step="capped", id=capped.id)

# 5sim's words for what cannot be bought.
before = balance()
refused("not offered", FiveSimNoFreePhones, lambda: client.buy_number(product="whatsapp", country="india", operator="any"))
refused("bad country", FiveSimInvalidCountry, lambda: client.buy_number(product="telegram", country="atlantis", operator="any"))
refused("bad operator", FiveSimInvalidOperator, lambda: client.buy_number(product="telegram", country="usa", operator="99"))
refused("no product", FiveSimInvalidProduct, lambda: client.buy_number(product="nosuch", country="usa", operator="any"))
refused("non-numeric id", FiveSimOrderNotFound, lambda: client.get_order_info("abc"))
refused("another account's order", FiveSimOrderNotFound, lambda: client.get_order_info(int(os.environ["OTHER_ORDER"])))
refused("another account's cancel", FiveSimOrderNotFound, lambda: client.action_with_order(OrderAction.CANCEL, int(os.environ["OTHER_ORDER"])))
check("bad input charges nothing", balance(), before)

empty = PyFiveSimSync(api_key=os.environ["EMPTY_KEY"], base_url=BASE)
refused("empty wallet", FiveSimNotEnoughBalance, lambda: empty.buy_number(product="telegram", country="usa", operator="any"))
bad = PyFiveSimSync(api_key="not-a-key", base_url=BASE)
refused("bad key", FiveSimInvalidAPIKey, bad.get_user_profile)

# The history and the ledger.
orders = client.get_user_orders(category="activation", limit=10, reverse=True)
check("orders total", orders.total, 4)
check("newest first", orders.data[0].id, capped.id)
check("statuses", sorted(o.status.value for o in orders.data), ["BANNED", "CANCELED", "FINISHED", "PENDING"])
payments = client.get_user_payments(limit=20)
check("payments", payments.total >= 6, True)
profile = client.get_user_profile()
check("did order", (profile.did_order, profile.last_order.service, profile.total_active_orders), (True, "telegram", 1))
check("frozen balance", profile.frozen_balance, 0.05)

print("ok", flush=True)

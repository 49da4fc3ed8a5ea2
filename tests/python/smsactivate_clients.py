"""Two clients that validate otpedge's sms-activate answers with strict pydantic models:
`herosms` (httpx, GET) and `aiosmsactivate` (aiohttp, POST with the query string), each
unchanged but for its base URL (both take `base_url=`).

Run by tests/smsactivate.test.mjs with OTPEDGE_URL and KEY (a wallet with 5.00); speaks the
same JSON-lines protocol as smsactivate_flow.py ("need" events wait for a line on stdin).
"""

import asyncio
import os

from aiosmsactivate import SmsActivate
from aiosmsactivate.types import ActivationStatus
from herosms import HeroSMSClient

from node_link import ask, check, emit

BASE_URL = os.environ["OTPEDGE_URL"].rstrip("/") + "/stubs/handler_api.php"
KEY = os.environ["KEY"]


async def hero():
    async with HeroSMSClient(api_key=KEY, base_url=BASE_URL, retry_attempts=1, poll_interval=0.2) as c:
        check("herosms balance", (await c.get_balance()).amount, 5.0)
        # getNumberV2 through herosms' Activation model (currency int, countryCode int, datetimes).
        act = await c.activations.create(service="tg", country=187)
        info = act.info
        check("herosms activation currency", info.currency, 840)
        check("herosms activation country", info.country_code, 187)
        check("herosms activation cost", info.activation_cost, 0.05)
        if info.activation_time is None or info.activation_end_time is None:
            raise AssertionError(f"herosms activation times: {info!r}")
        active = await c.activations.list_active()
        check("herosms active ids", [a.activation_id for a in active], [act.activation_id])
        prices = await c.get_prices(service="tg", country=187)
        check("herosms price", prices["187"]["tg"].cost, 0.05)
        countries = await c.get_countries()
        check("herosms countries", sorted(x.id for x in countries), [22, 66, 187])
        ask(need="sms", phone=act.phone_number, text="Telegram code 60606")
        status = await act.wait_for_sms(timeout=10, poll_interval=0.2)
        check("herosms code", status.code, "60606")
        await act.complete()
        emit(step="herosms activation", id=act.activation_id)


async def aio():
    sa = SmsActivate(KEY, base_url=BASE_URL)
    check("aiosmsactivate balance", await sa.get_balance(), 4.95)
    # getNumberV2 through aiosmsactivate's Number model (countryCode str, activationTime parsed).
    number = await sa.purchase("wa", country=187)
    check("aiosmsactivate country", number.country_code, "187")
    check("aiosmsactivate operator", number.operator, "verizon")
    check("aiosmsactivate status v1", await sa.get_activation_status_v1(number.activation_id), (ActivationStatus.WAIT, None))
    status = await sa.get_activation_status(number.activation_id)
    check("aiosmsactivate status v2 waiting", status.sms, None)
    ready = await sa.set_activation_status(number.activation_id, 1)
    check("aiosmsactivate ready", ready.value, "ACCESS_READY")
    ask(need="sms", phone=number.phone_number, text="WhatsApp code 717-171")
    check("aiosmsactivate status v1 ok", await sa.get_activation_status_v1(number.activation_id), (ActivationStatus.OK, "717171"))
    status = await sa.get_activation_status(number.activation_id)
    check("aiosmsactivate status v2 code", status.sms.code, "717171")
    done = await sa.set_activation_status(number.activation_id, 6)
    check("aiosmsactivate complete", done.value, "ACCESS_ACTIVATION")
    # Rent, with the library's own parameter names ('country ' with a trailing space).
    rent = await sa.get_rent_number("tg", country="187")
    check("aiosmsactivate rent answer", rent["status"], "success")
    emit(step="aiosmsactivate rent", id=rent["phone"]["id"])


asyncio.run(hero())
asyncio.run(aio())
emit(step="done")

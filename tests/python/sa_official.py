"""The official `smsactivate` module pointed at otpedge: the one client setup the scripts
share (OTPEDGE_URL names the server)."""

import os

from smsactivate.api import SMSActivateAPI

BASE_URL = os.environ["OTPEDGE_URL"].rstrip("/") + "/stubs/handler_api.php"


def client(key):
    sa = SMSActivateAPI(key)
    # The module has no base-URL option: its URL is a private attribute set in __init__
    # (name-mangled). Setting it is the one change; the module's code runs as published.
    sa._SMSActivateAPI__api_url = BASE_URL
    return sa

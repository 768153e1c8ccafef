"""Runs ../shared/oracle/verify_server.py as a gateway whose clock is not ours (the lockout tests).

    python oracle_clock.py CLOCK_OFFSET DATE_OFFSET SCRIPT [verify_server.py's arguments...]

CLOCK_OFFSET: seconds the gateway's clock is ahead of this machine's (negative: behind). It moves
the time the 15-minute window is checked against and the Date header of every answer.
DATE_OFFSET: seconds the Date header is off the gateway's own clock (a cache, a WAF or a
TLS-inspecting proxy in front sending its own Date).

A signature outside the window is refused in the real gateway's words, "calc ak sk signature
fail:signature expired, signature time:...,server time:...", which verify_server.py does not
produce by itself (it names the skew instead). Everything else is verify_server.py unchanged.
"""
import datetime as _datetime
import importlib.util
import sys
import time

_clock_offset = float(sys.argv[1])
_date_offset = float(sys.argv[2])
_script = sys.argv[3]
_real_time = time.time
time.time = lambda: _real_time() + _clock_offset


class _GatewayDatetime(_datetime.datetime):
    @classmethod
    def now(cls, tz=None):
        return _datetime.datetime.fromtimestamp(time.time(), tz)


_datetime.datetime = _GatewayDatetime
_spec = importlib.util.spec_from_file_location("verify_server", _script)
_oracle = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_oracle)
_verify = _oracle._Handler._verify


def _verify_in_gateway_words(self, *args):
    reason = _verify(self, *args)
    if reason and " away from server time" in reason:
        server_time = _GatewayDatetime.now(_datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        return "calc ak sk signature fail:signature expired, signature time:%s,server time:%s" % (
            self.headers.get("X-Sdk-Date"), server_time)
    return reason


def _date_time_string(self, timestamp=None):
    return _oracle.BaseHTTPRequestHandler.date_time_string(self, time.time() + _date_offset)


_oracle._Handler._verify = _verify_in_gateway_words
_oracle._Handler.date_time_string = _date_time_string
_oracle.main(sys.argv[4:])

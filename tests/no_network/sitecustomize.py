"""Loaded by child processes under test: any attempt to reach beyond loopback is an error.

Each attempt is also appended to the file named by NO_NETWORK_LOG, so tests can assert that
none was made even where the code under test would swallow the exception.
"""

import os
import socket

_LOG = os.environ.get("NO_NETWORK_LOG")
_real_connect = socket.socket.connect
_real_getaddrinfo = socket.getaddrinfo


def _loopback(host) -> bool:
    return str(host) in ("127.0.0.1", "localhost", "::1") or str(host).startswith("127.")


def _refuse(what):
    if _LOG:
        with open(_LOG, "a") as f:
            f.write(f"{what}\n")
    raise OSError(f"network access attempted in an offline test: {what}")


def _connect(self, address):
    host = address[0] if isinstance(address, tuple) else address
    if self.family in (socket.AF_INET, socket.AF_INET6) and not _loopback(host):
        _refuse(f"connect {address}")
    return _real_connect(self, address)


def _getaddrinfo(host, *args, **kwargs):
    if host is not None and not _loopback(host):
        _refuse(f"getaddrinfo {host}")
    return _real_getaddrinfo(host, *args, **kwargs)


socket.socket.connect = _connect
socket.getaddrinfo = _getaddrinfo

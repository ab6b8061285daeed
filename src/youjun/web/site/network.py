"""This machine's own addresses, for the demo (``make demo``): which host names a phone on the same network may use
(``ALLOWED_HOSTS``) and which address QR codes should carry (``YOUJUN_PUBLIC_URL``).

Standard library only, and nothing is sent: the host name and what it resolves to, the addresses of the network
interfaces (Linux), and the address the system would send from (a UDP socket is *connected*, which only picks a
route). Every step may fail — no network, no resolver, another operating system — and then gives nothing; the
loopback addresses always remain. Imported by the settings, so it imports nothing of Django.
"""

from __future__ import annotations

import errno
import ipaddress
import socket
import struct
import sys
import threading
from collections.abc import Callable, Iterable
from functools import cache

#: Wildcard listening addresses: the server answers on every interface.
WILDCARDS = frozenset({"0.0.0.0", "::", "[::]", ""})
LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain"})
#: Destinations whose route tells the outgoing address: a documentation address (follows the default route), then one
#: in each private range (an air-gapped network without a default route). Connecting a UDP socket sends nothing.
PROBES = ("198.51.100.1", "10.255.255.254", "172.31.255.254", "192.168.255.254")
#: Seconds the host name may take to resolve (a resolver that cannot reach its server must not hold up the start).
RESOLVE_TIMEOUT = 2.0
SIOCGIFADDR = 0x8915  # Linux: the IPv4 address of an interface


def _quietly(step: Callable[[], Iterable[str]]) -> list[str]:
    try:
        return list(step())
    except (OSError, ValueError, UnicodeError):
        return []


def _with_timeout(step: Callable[[], Iterable[str]], seconds: float) -> list[str]:
    """``step()`` in a daemon thread; nothing when it has not finished in time (the thread is left to end alone)."""
    found: list[str] = []
    worker = threading.Thread(target=lambda: found.extend(_quietly(step)), daemon=True)
    worker.start()
    worker.join(seconds)
    return [] if worker.is_alive() else found


def hostname() -> str:
    try:
        return socket.gethostname().strip().lower()
    except OSError:
        return ""


def resolved_addresses(name: str) -> list[str]:
    """The IPv4 addresses ``name`` resolves to (hosts file, DNS), within ``RESOLVE_TIMEOUT``."""
    if not name:
        return []

    def resolve() -> Iterable[str]:
        for *_, sockaddr in socket.getaddrinfo(name, None, socket.AF_INET, socket.SOCK_STREAM):
            yield str(sockaddr[0])

    return _with_timeout(resolve, RESOLVE_TIMEOUT)


def interface_addresses() -> list[str]:
    """The IPv4 address of every network interface (Linux; elsewhere nothing)."""
    if not sys.platform.startswith("linux"):
        return []
    import fcntl

    def each() -> Iterable[str]:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            for _, name in socket.if_nameindex():
                request = struct.pack("256s", name.encode()[:15])
                try:
                    answer = fcntl.ioctl(s.fileno(), SIOCGIFADDR, request)
                except OSError:  # an interface without an IPv4 address
                    continue
                yield socket.inet_ntoa(answer[20:24])

    return _quietly(each)


def outgoing_address() -> str:
    """The address this machine would send from to another machine, or "" (no route: offline)."""
    for probe in PROBES:
        try:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                s.connect((probe, 9))  # UDP: picks the route and the source address, sends nothing
                address = str(s.getsockname()[0])
        except OSError:
            continue
        if is_lan(address):
            return address
    return ""


def is_loopback(host: str) -> bool:
    name = host.strip("[]").lower()
    if name in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def is_lan(address: str) -> bool:
    """An IPv4 address other machines may reach: not loopback, link-local, wildcard or multicast."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return ip.version == 4 and not (ip.is_loopback or ip.is_link_local or ip.is_unspecified or ip.is_multicast)


@cache
def own_addresses() -> tuple[str, ...]:
    """This machine's IPv4 addresses that other machines may reach, the outgoing one first, without repeats (looked
    up once per process)."""
    found = [outgoing_address(), *interface_addresses(), *resolved_addresses(hostname())]
    return tuple(dict.fromkeys(a for a in found if is_lan(a)))


def own_host_names() -> list[str]:
    """Names and addresses by which this machine may be addressed: the host name (also with ``.local``, as phones
    resolve it by multicast DNS) and every address of ``own_addresses``."""
    name = hostname()
    names = [name, f"{name.split('.')[0]}.local"] if name else []
    return list(dict.fromkeys([*names, *own_addresses()]))


def lan_address() -> str:
    """The address to give phones on the same network, or "" when this machine has none (offline)."""
    addresses = own_addresses()
    private = [a for a in addresses if ipaddress.ip_address(a).is_private]
    return (private or addresses or [""])[0]


def demo_urls(host: str, port: str, lan: Callable[[], str] = lan_address) -> tuple[str, str]:
    """The demo's address on this machine and the one for other devices ("" when the server listens on loopback
    only, or when no network address was found), for a server started on ``host:port``."""
    if host in WILDCARDS:
        local, public = f"http://127.0.0.1:{port}", lan()
        return local, f"http://{public}:{port}" if public else ""
    shown = f"[{host}]" if ":" in host and not host.startswith("[") else host
    url = f"http://{shown}:{port}"
    return url, "" if is_loopback(host) else url


def listen_problem(host: str, port: int) -> str:
    """Why a server could not listen on ``host:port`` (a Chinese sentence with what to do), or "" when it can."""
    name = host.strip("[]") or "0.0.0.0"
    family = socket.AF_INET6 if ":" in name else socket.AF_INET
    try:
        with socket.socket(family, socket.SOCK_STREAM) as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as servers do: a closing socket is no obstacle
            s.bind((name, port))
    except PermissionError:
        return f"没有权限使用端口 {port}（1024 以下的端口需要管理员权限）：请换一个端口，例如 make demo PORT=8080。"
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            return (
                f"端口 {port} 已被占用（也许演示已在运行）：请先停止占用它的程序，"
                "或换一个端口，例如 make demo PORT=8080。"
            )
        if exc.errno == errno.EADDRNOTAVAIL or isinstance(exc, socket.gaierror):
            return f"本机没有地址「{host}」：请用 HOST=0.0.0.0（本机所有网络地址）或本机的某个地址。"
        return f"无法在 {host}:{port} 上启动：{exc.strerror or exc}。"
    return ""

"""In the probed child: sockets refused beyond loopback, and Colab's drive.mount stubbed."""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import ipaddress
import sys
import types
from typing import Any, List, Optional

_LOOPBACK_NAMES = {"", "localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"}


class NetworkRefused(ConnectionRefusedError):
    """Raised in the child for a connection to anything but loopback."""


def is_loopback(host: Any) -> bool:
    if host is None:
        return True
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    host = str(host).strip("[]").lower()
    if host in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return False


class NetworkGuard:
    """Patches socket.connect/connect_ex/getaddrinfo/create_connection; remembers the URL being fetched."""

    def __init__(self) -> None:
        self.current_url: Optional[str] = None
        self.refused: List[str] = []

    def _refuse(self, host: Any, port: Any) -> NetworkRefused:
        target = f"{host}:{port}" if port not in (None, 0, "") else str(host)
        what = self.current_url or target
        if what not in self.refused:
            self.refused.append(what)
        where = f"{self.current_url} ({target})" if self.current_url else target
        return NetworkRefused(
            f"cnnlint --probe refused a network connection to {where}; pass --allow-network to allow downloads"
        )

    def install(self) -> None:
        import socket

        guard = self
        orig_connect = socket.socket.connect
        orig_connect_ex = socket.socket.connect_ex
        orig_getaddrinfo = socket.getaddrinfo
        orig_create_connection = socket.create_connection

        def _check(sock: Any, address: Any) -> None:
            family = getattr(sock, "family", None)
            if family is not None and family not in (socket.AF_INET, socket.AF_INET6):
                return  # AF_UNIX and friends stay local
            if isinstance(address, tuple) and address and not is_loopback(address[0]):
                raise guard._refuse(address[0], address[1] if len(address) > 1 else None)

        def connect(self: Any, address: Any) -> Any:
            _check(self, address)
            return orig_connect(self, address)

        def connect_ex(self: Any, address: Any) -> Any:
            _check(self, address)
            return orig_connect_ex(self, address)

        def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
            if not is_loopback(host):
                raise guard._refuse(host, port)
            return orig_getaddrinfo(host, port, *args, **kwargs)

        def create_connection(address: Any, *args: Any, **kwargs: Any) -> Any:
            if isinstance(address, tuple) and address and not is_loopback(address[0]):
                raise guard._refuse(address[0], address[1] if len(address) > 1 else None)
            return orig_create_connection(address, *args, **kwargs)

        socket.socket.connect = connect  # type: ignore[method-assign]
        socket.socket.connect_ex = connect_ex  # type: ignore[method-assign]
        socket.getaddrinfo = getaddrinfo
        socket.create_connection = create_connection

    def watch_urllib(self, module: Any) -> None:
        """urllib.request: remember the URL of the request in progress (keras get_file, torch.hub)."""
        opener = getattr(module, "OpenerDirector", None)
        if opener is None or getattr(opener.open, "_cnnlint", False):
            return
        original = opener.open
        guard = self

        def open(self: Any, fullurl: Any, *args: Any, **kwargs: Any) -> Any:
            guard.current_url = fullurl if isinstance(fullurl, str) else getattr(fullurl, "full_url", None)
            try:
                return original(self, fullurl, *args, **kwargs)
            finally:
                guard.current_url = None

        open._cnnlint = True  # type: ignore[attr-defined]
        opener.open = open

    def watch_requests(self, module: Any) -> None:
        session = getattr(module, "Session", None)
        if session is None or getattr(session.request, "_cnnlint", False):
            return
        original = session.request
        guard = self

        def request(self: Any, method: Any, url: Any, *args: Any, **kwargs: Any) -> Any:
            guard.current_url = str(url)
            try:
                return original(self, method, url, *args, **kwargs)
            finally:
                guard.current_url = None

        request._cnnlint = True  # type: ignore[attr-defined]
        session.request = request


# ------------------------------------------------------------------ google.colab stub

def _mount(mountpoint: str = "/content/drive", force_remount: bool = False, *args: Any, **kwargs: Any) -> None:
    print(f"[cnnlint --probe] google.colab.drive.mount({mountpoint!r}) skipped", file=sys.stderr)


def _colab_module(name: str) -> types.ModuleType:
    module = types.ModuleType(name)
    module.__path__ = []  # type: ignore[attr-defined]
    if name == "google.colab.drive":
        module.mount = _mount  # type: ignore[attr-defined]
        module.flush_and_unmount = lambda *a, **k: None  # type: ignore[attr-defined]
    return module


class _StubLoader(importlib.abc.Loader):
    def create_module(self, spec: Any) -> types.ModuleType:
        return _colab_module(spec.name)

    def exec_module(self, module: types.ModuleType) -> None:
        if module.__name__ == "google.colab":
            module.drive = sys.modules.get("google.colab.drive") or _colab_module("google.colab.drive")  # type: ignore[attr-defined]


class ColabStubFinder(importlib.abc.MetaPathFinder):
    """google.colab and google.colab.drive become stubs; `google` itself only when nothing else provides it."""

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> Any:
        if fullname in ("google.colab", "google.colab.drive"):
            return importlib.machinery.ModuleSpec(fullname, _StubLoader(), is_package=True)
        if fullname == "google":
            for finder in sys.meta_path:
                if finder is self or not hasattr(finder, "find_spec"):
                    continue
                spec = finder.find_spec(fullname, path, target)
                if spec is not None:
                    return spec
            return importlib.machinery.ModuleSpec(fullname, _StubLoader(), is_package=True)
        return None

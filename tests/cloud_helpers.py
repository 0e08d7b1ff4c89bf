"""For the bucket and Dask tests: a moto S3 server on loopback, a throttling proxy in front of it, uploads.

Nothing here reaches the internet: the server, the proxy and the Dask cluster listen on 127.0.0.1,
and the AWS credentials are dummies. moto, s3fs and dask.distributed are in the test extra; without
them the tests skip, except in CI (the CI variable set), where they fail.
"""

import http.client
import importlib.util
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

KEY_ID = "testing-key-id"
SECRET = "testing-secret-never-printed"


def need(*modules: str) -> None:
    missing = [m for m in modules if importlib.util.find_spec(m) is None]
    if not missing:
        return
    if os.environ.get("CI"):
        pytest.fail(f"{', '.join(missing)} required in CI (the test extra)")
    pytest.skip(f"{', '.join(missing)} not installed")


def upload_tree(client, bucket: str, folder: str, prefix: str) -> int:
    """Every file under `folder` as `prefix/<relative path>`, uploaded in parallel; how many."""
    items = []
    for root, _, files in os.walk(folder):
        for name in files:
            path = os.path.join(root, name)
            items.append((path, prefix + "/" + os.path.relpath(path, folder).replace(os.sep, "/")))
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda item: client.upload_file(item[0], bucket, item[1]), items))
    return len(items)


class Proxy:
    """HTTP on loopback in front of the S3 server: answers `503 SlowDown` to the first `throttle` GETs of
    objects (or to all of them with throttle=-1), and `403 InvalidAccessKeyId` to requests signed with
    another key id than KEY_ID; everything else is passed through. `sent`: the body bytes it answered
    each object's GETs with ("/bucket/key" -> bytes), and `gets` how many GETs, since the last reset()."""

    def __init__(self, upstream_port: int) -> None:
        self.upstream = upstream_port
        self.throttle = 0
        self.throttled = 0
        self.sent: dict = {}
        self.gets: dict = {}
        self.lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def _any(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                auth = self.headers.get("Authorization", "")
                if f"Credential={KEY_ID}/" not in auth:
                    return self._error(403, "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist")
                if self.command == "GET" and "list-type" not in self.path and proxy._throttled():
                    return self._error(503, "SlowDown", "Please reduce your request rate.")
                conn = http.client.HTTPConnection("127.0.0.1", proxy.upstream, timeout=30)
                headers = {k: v for k, v in self.headers.items()}
                conn.request(self.command, self.path, body=body or None, headers=headers)
                resp = conn.getresponse()
                data = resp.read()
                self.send_response(resp.status)
                for k, v in resp.getheaders():
                    if k.lower() not in ("transfer-encoding", "connection", "content-length", "server", "date"):
                        self.send_header(k, v)
                length = resp.getheader("Content-Length") if self.command == "HEAD" else None
                self.send_header("Content-Length", length or str(len(data)))  # a HEAD's: the object's size
                self.end_headers()
                conn.close()
                if self.command == "GET":  # counted before the client can see the bytes (and finish)
                    proxy._count(self.path.partition("?")[0], len(data))
                if self.command != "HEAD":
                    self.wfile.write(data)

            def _error(self, status, code, message):
                body = (f"<?xml version='1.0' encoding='UTF-8'?><Error><Code>{code}</Code>"
                        f"<Message>{message}</Message></Error>").encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/xml")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = _any

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def _count(self, path: str, sent: int) -> None:
        from urllib.parse import unquote

        with self.lock:
            key = unquote(path)
            self.sent[key] = self.sent.get(key, 0) + sent
            self.gets[key] = self.gets.get(key, 0) + 1

    def reset(self) -> None:
        with self.lock:
            self.sent, self.gets = {}, {}

    def _throttled(self) -> bool:
        with self.lock:
            if self.throttle < 0 or self.throttled < self.throttle:
                self.throttled += 1
                return True
            return False

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


def crash_plugin(name: str):
    """A Dask worker plugin that makes the inspection of the file called `name` kill its worker (SIGKILL),
    as a decoder crash does; set up again on each restarted worker while registered."""
    from distributed.diagnostics.plugin import WorkerPlugin

    class CrashOn(WorkerPlugin):
        def __init__(self, target: str) -> None:
            self.name = "cnnlint-crash-on"
            self.target = target

        def setup(self, worker) -> None:
            import signal

            from cnnlint.dataset import scan

            real, target = scan.inspect_file, self.target

            def crashing(path, real_path, options):
                if os.path.basename(path) == target:
                    os.kill(os.getpid(), signal.SIGKILL)
                return real(path, real_path, options)

            scan.inspect_file = crashing

    return CrashOn(name)


def fake_store(scheme: str):
    """An in-memory fsspec filesystem answering for `scheme` ("gs" or "az") as gcsfs or adlfs do: their
    URLs, and the object metadata their listings carry (GCS: generation and md5Hash; Azure: etag and
    content_settings.content_md5). Each write makes a new generation / ETag. `denied`: paths whose reads
    answer access denied; `sent`: the bytes each path's reads returned. Registered by the tests for the
    length of one test (no gcsfs or adlfs needed)."""
    import base64
    import hashlib

    from fsspec.implementations.memory import MemoryFileSystem

    class FakeStore(MemoryFileSystem):
        protocol = scheme
        store: dict = {}  # its own objects, not the shared memory:// ones
        pseudo_dirs = [""]
        writes: dict = {}  # path -> how many times it was written (its generation)
        denied: set = set()
        sent: dict = {}  # path -> bytes read

        @classmethod
        def _strip_protocol(cls, path):
            path = str(path)
            if path.startswith(scheme + "://"):
                path = path[len(scheme) + 3:]
            return MemoryFileSystem._strip_protocol(path)

        def pipe_file(self, path, value, *args, **kwargs):
            super().pipe_file(path, value, *args, **kwargs)
            path = self._strip_protocol(path)
            self.writes[path] = self.writes.get(path, 0) + 1

        def _meta(self, path: str) -> dict:
            path = self._strip_protocol(path)
            md5 = hashlib.md5(MemoryFileSystem.cat_file(self, path)).digest()
            generation = 1_700_000_000_000_000 + self.writes.get(path, 0)
            if scheme == "gs":
                return {"generation": str(generation), "md5Hash": base64.b64encode(md5).decode()}
            return {"etag": f"0x8DC{generation:X}", "content_settings": {"content_md5": bytearray(md5)}}

        def info(self, path, **kwargs):
            out = dict(super().info(path, **kwargs))
            return dict(out, **self._meta(path)) if out.get("type") == "file" else out

        def ls(self, path, detail=True, **kwargs):
            entries = super().ls(path, detail=True, **kwargs)
            entries = [dict(e, **self._meta(e["name"])) if e["type"] == "file" else e for e in entries]
            return entries if detail else [e["name"] for e in entries]

        def cat_file(self, path, start=None, end=None, **kwargs):
            key = self._strip_protocol(path)
            if key in self.denied:
                raise PermissionError(13, "This request is not authorized to perform this operation.")
            data = super().cat_file(path, start, end, **kwargs)
            self.sent[key] = self.sent.get(key, 0) + len(data)
            return data

    return FakeStore

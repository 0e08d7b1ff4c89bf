"""Datasets in object storage (S3, GCS, Azure) through fsspec: listing, reading, retries.

A bucket prefix is listed once, folder by folder (each SDK pages its listing), into a compact
`Listing`: per object its name, size and a stamp made from its ETag (or generation, or size and
modification time where the store has neither). The layout detection walks the listing as it walks
a folder (`Listing.nodes()` yields the same `TreeFolder`s as `walk_tree`), so splits, classes and
stray objects are found by the same code. Objects are read whole into memory and inspected by
`inspect_bytes`; the scan cache keys them by URL, size and the ETag stamp.

Credentials come from each SDK's usual chain (environment, profile files, instance metadata) and
are never printed. `AWS_ENDPOINT_URL` or `storage-endpoint` in [tool.cnnlint] points S3 at an
S3-compatible store (MinIO, Ceph, moto). Network errors and throttling are retried with
exponential backoff; an object that still cannot be read gets a CNL514 and the scan goes on.
"""

from __future__ import annotations

import errno
import hashlib
import os
import time
from dataclasses import dataclass, field
from collections import deque
from itertools import islice
from typing import Dict, Iterable, Iterator, List, Optional, Tuple

from cnnlint.config import ConfigError
from cnnlint.findings import Finding, Severity
from cnnlint.sources.walk import TreeEntry, TreeFolder

EXTRA = "pip install 'cnnlint[cloud]'"
DRIVERS = {"s3": "s3fs", "gs": "gcsfs", "gcs": "gcsfs", "az": "adlfs", "abfs": "adlfs", "abfss": "adlfs"}
TRIES = 5  # reads and listings, all together, before an object is reported unreadable
BACKOFF = 0.2  # seconds before the second try; doubled each time (with jitter)
READ_WHOLE = 64 * 1024 * 1024  # larger objects: only the head is read (the header facts)
FETCH_THREADS = 16  # object reads in flight per worker process
_TRANSIENT_ERRNOS = {errno.EBUSY, errno.EAGAIN, errno.ETIMEDOUT, errno.ECONNRESET, errno.ECONNREFUSED,
                     errno.ECONNABORTED, errno.EPIPE, errno.EIO}
_TRANSIENT_WORDS = ("SlowDown", "Throttl", "TooManyRequests", "ServiceUnavailable", "503", "429", "500",
                    "InternalError", "RequestTimeout", "timed out", "Connection reset")


@dataclass
class StorageOptions:
    """What opens a store; picklable, so that pool and Dask workers open their own."""

    endpoint: Optional[str] = None  # an S3-compatible endpoint; None: AWS_ENDPOINT_URL or the SDK's default
    tries: int = 0  # 0: TRIES
    backoff: float = 0.0  # 0: BACKOFF


_FILESYSTEMS: Dict[tuple, object] = {}


def filesystem(url: str, storage: Optional[StorageOptions] = None):
    """The fsspec filesystem of a URL's scheme, one per process. A ConfigError (one line, exit status 2)
    names the missing driver and the extra that brings it, or why the driver refused to start."""
    storage = storage or StorageOptions()
    scheme = url.partition("://")[0].lower()
    endpoint = storage.endpoint
    if scheme == "s3" and not endpoint:
        endpoint = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
    # one per process, endpoint and credentials chain (a changed environment opens another)
    key = (os.getpid(), scheme, endpoint, os.environ.get("AWS_ACCESS_KEY_ID"), os.environ.get("AWS_PROFILE"))
    fs = _FILESYSTEMS.get(key)
    if fs is not None:
        return fs
    try:
        import fsspec
    except ImportError:
        raise ConfigError(f"reading {scheme}:// needs fsspec and {DRIVERS.get(scheme, 'its driver')}: {EXTRA}") from None
    kwargs: dict = {"use_listings_cache": False, "skip_instance_cache": True}
    if scheme == "s3":
        if endpoint:
            kwargs["endpoint_url"] = endpoint
        # our own retries (below) with backoff: the SDK's would multiply with them
        kwargs["config_kwargs"] = {"retries": {"total_max_attempts": 1, "mode": "standard"}}
    try:
        fs = fsspec.filesystem(scheme, **kwargs)
    except ImportError:
        raise ConfigError(f"reading {scheme}:// needs {DRIVERS.get(scheme, 'its fsspec driver')}: {EXTRA}") from None
    except (ValueError, TypeError) as exc:  # the driver's own refusal: no account, a bad option
        raise ConfigError(f"cannot open {scheme}://: {' '.join(str(exc).split())[:200]}") from None
    if hasattr(fs, "retries"):
        fs.retries = 1  # s3fs retries throttling itself, without telling; ours report it
    _FILESYSTEMS[key] = fs
    return fs


def transient(exc: BaseException) -> bool:
    """A network error or throttling worth another try (not a missing object or refused credentials)."""
    if isinstance(exc, (FileNotFoundError, PermissionError, IsADirectoryError, NotADirectoryError)):
        return False
    if isinstance(exc, OSError) and exc.errno in _TRANSIENT_ERRNOS:
        return True
    if isinstance(exc, (TimeoutError, ConnectionError)):
        return True
    text = f"{type(exc).__name__} {exc}"
    return any(word in text for word in _TRANSIENT_WORDS)


def reason(exc: BaseException) -> str:
    """Why a store refused: one line, no credentials (SDK messages name the key id at most)."""
    if isinstance(exc, FileNotFoundError):
        return "no such object (deleted after the listing?)"
    if isinstance(exc, PermissionError):
        return "access denied (check the credentials and the bucket's permissions)"
    if transient(exc):
        text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return f"the store kept failing or throttling ({text[:120]})"
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return f"{type(exc).__name__}: {text[:160]}"


def with_retries(call, storage: StorageOptions):
    """call() with exponential backoff on transient errors; the last error is raised."""
    tries = storage.tries or TRIES
    for attempt in range(tries):
        try:
            return call()
        except Exception as exc:  # noqa: BLE001 - the SDKs raise many kinds
            if not transient(exc) or attempt + 1 >= tries:
                raise
            delay = (storage.backoff or BACKOFF) * (2 ** attempt)
            time.sleep(delay * (0.75 + 0.5 * (hash((os.getpid(), time.monotonic())) % 1000) / 1000))
    raise AssertionError("unreachable")  # pragma: no cover


def _packed(info: dict) -> int:
    """size << 56 | stamp: the stamp stands in for the modification time in the scan cache: from the ETag
    (or generation) when the store has one, so that a re-upload of the same size is a miss."""
    size = int(info.get("size") or info.get("Size") or 0)
    tag = info.get("ETag") or info.get("etag") or info.get("generation") or info.get("version_id")
    if tag is None:
        when = info.get("LastModified") or info.get("mtime") or info.get("updated") or info.get("last_modified")
        tag = f"mtime:{when}"
    digest = hashlib.sha256(str(tag).encode()).digest()
    return size << 56 | int.from_bytes(digest[:7], "big")


@dataclass
class Listing:
    """One paginated pass over a prefix: folder -> its objects (name, size, stamp) and sub-folders."""

    root: str  # the URL, without a trailing slash
    # folder URL -> {object name: size << 56 | stamp}: one int per object, not a tuple of two (~80 bytes less)
    files: Dict[str, Dict[str, int]] = field(default_factory=dict)
    dirs: Dict[str, List[str]] = field(default_factory=dict)
    objects: int = 0

    def meta(self, url: str) -> Optional[Tuple[int, int]]:
        """(size, stamp) of a listed object."""
        folder, _, name = url.rpartition("/")
        packed = self.files.get(folder, {}).get(name)
        return None if packed is None else divmod(packed, 1 << 56)

    def nodes(self) -> Iterator[TreeFolder]:
        """The folders, depth first and sorted by name, like `walk_tree`; prune `dirs` to skip."""
        stack = [self.root]
        while stack:
            folder = stack.pop()
            node = TreeFolder(folder, [TreeEntry(name, f"{folder}/{name}", None, False)
                                      for name in sorted(self.files.get(folder, ()))],
                              [TreeEntry(name, f"{folder}/{name}", None, False) for name in self.dirs.get(folder, ())],
                              [])
            yield node
            stack.extend(reversed([d.path for d in node.dirs if not d.loop]))


def list_prefix(url: str, storage: Optional[StorageOptions] = None) -> Listing:
    """The objects under a URL prefix, with sizes and ETags; raises OSError / ConfigError."""
    storage = storage or StorageOptions()
    fs = filesystem(url, storage)
    scheme = url.partition("://")[0]
    root = url.rstrip("/")
    bare = fs._strip_protocol(root).rstrip("/")
    listing = Listing(root)
    pages = with_retries(lambda: iter(fs.walk(bare, detail=True)), storage)
    while True:
        try:
            step = with_retries(lambda: next(pages), storage)
        except StopIteration:
            break
        folder, dirs, files = step
        rel = folder.rstrip("/")[len(bare):]
        where = root + rel
        listing.dirs[where] = sorted(dirs)
        objs = {name: _packed(info) for name, info in files.items() if name and not name.endswith("/")}
        listing.files[where] = objs
        listing.objects += len(objs)
    if not listing.objects and not any(listing.dirs.values()):
        if not with_retries(lambda: fs.exists(bare), storage):
            raise FileNotFoundError(errno.ENOENT, f"no objects under {scheme}://{bare}")
    return listing


def read_object(url: str, storage: StorageOptions):
    """(bytes, size, None) for objects up to READ_WHOLE; (head, size, open file) for bigger ones."""
    fs = filesystem(url, storage)
    path = fs._strip_protocol(url)
    try:
        data = with_retries(lambda: fs.cat_file(path, start=0, end=READ_WHOLE + 1), storage)
    except OSError as exc:
        if "range" not in str(exc).lower() and "416" not in str(exc):
            raise
        data = with_retries(lambda: fs.cat_file(path), storage)  # an empty object has no byte 0
    if len(data) <= READ_WHOLE:
        return data, len(data), None
    size = int(with_retries(lambda: fs.size(path), storage))
    return data[:64], size, with_retries(lambda: fs.open(path, "rb"), storage)


def read_quick(url: str, storage: StorageOptions):
    """What --quick needs of an object: its head (grown while a header runs past it) and, for a JPEG or
    PNG, its last TAIL bytes, as (head, size, Ranged); read_object's answer where the object is small,
    of another format, or its ends leave a doubt that only the whole bytes settle."""
    from cnnlint.dataset import ranged
    from cnnlint.dataset.markers import jpeg_end_error, sniff

    fs = filesystem(url, storage)
    path = fs._strip_protocol(url)

    def fetch(start: int, end: int) -> bytes:
        return with_retries(lambda: fs.cat_file(path, start=start, end=end), storage)

    try:
        head = fetch(0, ranged.HEAD)
    except OSError as exc:
        if "range" not in str(exc).lower() and "416" not in str(exc):
            raise
        return read_object(url, storage)  # an empty object has no byte 0
    if len(head) < ranged.HEAD:
        return head, len(head), None
    info = with_retries(lambda: fs.info(path), storage)
    size = int(info.get("size") or 0)
    if size <= len(head):  # exactly the head, or a store that contradicts itself
        return (head, size, None) if size == len(head) else read_object(url, storage)
    fmt = sniff(head[:32])
    need = ranged.header_end(fmt, head) if size > ranged.HEAD + ranged.TAIL else None
    limit = min(ranged.GROW_LIMIT, size - ranged.TAIL)
    while need is not None and len(head) < need <= limit:  # a header past the head: a second ranged read
        more = fetch(len(head), min(limit, max(need, 2 * len(head))))
        if not more:
            break
        head += more
        need = ranged.header_end(fmt, head)
    if need is None or need > len(head):
        return _rest(url, storage, fetch, head, size)
    tail = fetch(size - ranged.TAIL, size) if fmt in ("JPEG", "PNG") else b""
    end_error = jpeg_end_error(tail) if fmt == "JPEG" else None
    if (end_error is not None and not ranged.looks_like_scan_data(tail)) or (
            fmt == "PNG" and not tail.endswith(ranged.PNG_IEND)):
        return _rest(url, storage, fetch, head, size)  # an odd end: judged on the whole bytes, as a file is
    return head, size, ranged.Ranged(size, head, tail, end_error, _content_digest(info))


def _rest(url: str, storage: StorageOptions, fetch, head: bytes, size: int):
    """The whole object, from the head already read."""
    if size > READ_WHOLE:
        return read_object(url, storage)
    data = head + fetch(len(head), size) if size > len(head) else head
    return data, len(data), None


def _content_digest(info: dict) -> Optional[bytes]:
    """A content digest from the store's checksum of the object, for the duplicate checks of objects not
    read whole: S3's ETag (the MD5 of a plain upload; of the parts' MD5s for a multipart one), GCS's
    md5Hash, Azure's Content-MD5. Equal checksums mean equal bytes; equal bytes uploaded differently
    (in other parts, encrypted) may get other checksums, so such duplicates go unseen. None without one."""
    tag = info.get("ETag") or info.get("md5Hash")
    if tag is None:
        settings = info.get("content_settings") or {}
        tag = settings.get("content_md5") if isinstance(settings, dict) else getattr(settings, "content_md5", None)
    if not tag:
        return None
    text = tag.hex() if isinstance(tag, (bytes, bytearray)) else str(tag).strip('"')
    return hashlib.sha256(b"store checksum:" + text.encode()).digest()[:16]


def read_many(urls: Iterable[str], storage: StorageOptions, threads: int = FETCH_THREADS,
              quick: bool = False) -> Iterator[tuple]:
    """(url, (data, size, big) or the exception) for each URL, in order, with up to `threads` reads in
    flight: an object store answers each request after tens of milliseconds, so one reader at a time
    would leave the worker idle; the window bounds the bytes held. `quick`: read_quick's ranged reads."""
    from concurrent.futures import ThreadPoolExecutor

    def one(url: str):
        try:
            return read_quick(url, storage) if quick else read_object(url, storage)
        except Exception as exc:  # noqa: BLE001 - handed to the caller
            return exc

    it = iter(urls)
    with ThreadPoolExecutor(threads) as pool:
        window = deque((url, pool.submit(one, url)) for url in islice(it, threads))
        while window:
            url, future = window.popleft()
            for nxt in islice(it, 1):
                window.append((nxt, pool.submit(one, nxt)))
            yield url, future.result()


def unreadable_object(url: str, exc: BaseException) -> Finding:
    return Finding("CNL514", Severity.ERROR, f"cannot read: {reason(exc)}", url, 0, 0,
                   hint="check the object and the credentials; the rest of the dataset was still scanned")


def find_buckets(urls: List[str], forced: List[str], storage: Optional[StorageOptions] = None
                 ) -> Tuple[list, List[Finding]]:
    """The datasets under bucket URLs (listed once each), and a CNL001 for each URL that cannot be listed."""
    from cnnlint.dataset.layout import find_listed

    datasets: list = []
    errors: List[Finding] = []
    for url, is_forced in [(u, True) for u in forced] + [(u, False) for u in urls]:
        try:
            listing = list_prefix(url, storage)
        except ConfigError:
            raise  # no driver for the scheme: one line, exit status 2
        except FileNotFoundError:
            errors.append(_cannot_list(url, "no such bucket, or no objects under this prefix"))
            continue
        except Exception as exc:  # noqa: BLE001 - any store error: this URL's finding
            errors.append(_cannot_list(url, reason(exc)))
            continue
        found = find_listed(listing.root, listing.nodes(), is_forced, listing)
        datasets += [ds for ds in found if all(ds.real_path != d.real_path for d in datasets)]
    return datasets, errors


def _cannot_list(url: str, why: str) -> Finding:
    return Finding("CNL001", Severity.ERROR, f"cannot list: {why}", url.rstrip("/"), 0, 0,
                   hint="check the URL, the credentials and the endpoint (AWS_ENDPOINT_URL or storage-endpoint)")

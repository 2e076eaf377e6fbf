"""File mechanics of a workspace: the writer lock, staging folders, hashing, crash checkpoints."""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Final

import pyarrow as pa
import pyarrow.parquet as pq

from openalm.errors import OpenALMError

__all__ = [
    "checkpoint",
    "dataset_hash",
    "dataset_rows",
    "file_sha256",
    "link_or_copy",
    "read_dataset",
    "staging_dir",
    "write_dataset",
    "write_lock",
    "write_parquet",
]

_CHUNK: Final = 1 << 20
_ROW_GROUP: Final = 256 * 1024
_PART_ROWS: Final = 250_000


@contextmanager
def write_lock(root: Path, *, timeout: float = 600.0) -> Iterator[None]:
    """Hold the workspace's exclusive writer lock (an ``flock`` on ``.lock``).

    The operating system releases the lock when the process dies, so a killed writer never
    leaves the workspace locked.
    """
    path = root / ".lock"
    with open(path, "a+b") as handle:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise OpenALMError(f"another OpenALM process is writing to the workspace {root}") from None
                time.sleep(0.05)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


@contextmanager
def staging_dir(root: Path, label: str) -> Iterator[Path]:
    """A fresh folder under ``.staging`` for one write; removed afterwards whatever happens.

    The caller moves what it wants to keep out of it (``os.replace`` into the workspace) before the
    catalogue commit; anything still inside is discarded.
    """
    path = root / ".staging" / f"{label}-{uuid.uuid4().hex[:12]}"
    path.mkdir(parents=True)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def write_parquet(table: pa.Table, path: Path) -> str:
    """Write ``table`` to ``path`` (zstd, one file) and return the file's SHA-256."""
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path, compression="zstd", row_group_size=_ROW_GROUP)
    return file_sha256(path)


def write_dataset(table: pa.Table, folder: Path) -> str:
    """Write ``table`` as ``folder/part-NNNNN.parquet`` files, in parallel; returns the content hash.

    Large tables are cut into row ranges written concurrently (Parquet encoding releases the GIL);
    reading the parts in name order gives the table back in its row order. The hash is the
    SHA-256 of the parts' hashes in order.
    """
    folder.mkdir(parents=True, exist_ok=True)
    n = table.num_rows
    k = max(1, min(os.cpu_count() or 1, 8, -(-n // _PART_ROWS)))
    cuts = [(j * n) // k for j in range(k + 1)]
    paths = [folder / f"part-{j:05d}.parquet" for j in range(k)]
    if k == 1:
        digests = [write_parquet(table, paths[0])]
    else:
        with ThreadPoolExecutor(max_workers=k) as pool:
            futures = [
                pool.submit(write_parquet, table.slice(cuts[j], cuts[j + 1] - cuts[j]), paths[j]) for j in range(k)
            ]
            digests = [f.result() for f in futures]
    return hashlib.sha256("".join(digests).encode()).hexdigest()


def read_dataset(folder: Path) -> pa.Table:
    """The table a :func:`write_dataset` folder holds (parts read in parallel, concatenated in order)."""
    paths = sorted(folder.glob("part-*.parquet"))
    if not paths:
        raise OpenALMError(f"{folder} holds no part-*.parquet file")
    if len(paths) == 1:
        return pq.read_table(paths[0])
    with ThreadPoolExecutor(max_workers=min(len(paths), os.cpu_count() or 1)) as pool:
        tables = list(pool.map(pq.read_table, paths))
    return pa.concat_tables(tables)


def dataset_hash(folder: Path) -> str:
    """The content hash :func:`write_dataset` returned for ``folder``, recomputed from its files."""
    digests = [file_sha256(p) for p in sorted(folder.glob("part-*.parquet"))]
    return hashlib.sha256("".join(digests).encode()).hexdigest()


def dataset_rows(folder: Path) -> int:
    """Rows of a :func:`write_dataset` folder (from the Parquet footers)."""
    return sum(pq.ParquetFile(p).metadata.num_rows for p in sorted(folder.glob("part-*.parquet")))


def file_sha256(path: Path) -> str:
    """SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def link_or_copy(src: Path, dst: Path) -> None:
    """Hard-link ``src`` as ``dst`` (same file system), else copy it."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def checkpoint(name: str) -> None:
    """Test hook: pause here when ``OPENALM_PAUSE_AT`` names this point.

    Crash tests start a load or a run with ``OPENALM_PAUSE_AT=<point>`` and
    ``OPENALM_PAUSE_FILE=<path>``; the process writes the file when it reaches the point and sleeps,
    and the test kills it with SIGKILL at that exact moment. Without the variables this does nothing.
    """
    if os.environ.get("OPENALM_PAUSE_AT") != name:
        return
    flag = os.environ.get("OPENALM_PAUSE_FILE")
    if flag:
        Path(flag).write_text(name, encoding="utf-8")
    time.sleep(float(os.environ.get("OPENALM_PAUSE_SECONDS", "120")))

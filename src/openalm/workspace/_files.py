"""File mechanics of a workspace: the writer lock, staging folders, hashing, crash checkpoints."""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Final

import pyarrow as pa
import pyarrow.parquet as pq

from openalm.errors import OpenALMError

__all__ = ["checkpoint", "file_sha256", "link_or_copy", "staging_dir", "write_lock", "write_parquet"]

_CHUNK: Final = 1 << 20


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
    pq.write_table(table, path, compression="zstd", row_group_size=256 * 1024)
    return file_sha256(path)


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

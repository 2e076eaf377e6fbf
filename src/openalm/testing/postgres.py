"""A throw-away PostgreSQL server for tests: :func:`running_postgres`.

The server is a fresh cluster made by ``initdb`` in a temporary folder, listening on 127.0.0.1
(a free port) and on a Unix socket in that folder. Connections over the socket are trusted; TCP
connections need the password of the superuser ``openalm`` (SCRAM), so a wrong password really
fails. Durability is switched off (``fsync``, ``synchronous_commit``): the cluster lives for one
test module.

PostgreSQL refuses to run as root. When the tests run as root, ``initdb`` and ``pg_ctl`` run as an
unprivileged account (``postgres`` or ``openalm_pg`` if either exists, otherwise ``nobody``; a
system account ``openalm_pg`` is created only when none exists) through ``runuser`` (or ``su``),
and the temporary folder is owned by that account. As another user, the binaries run directly.

The server is always stopped (``pg_ctl stop -m fast``) and its folder deleted, even on failure.

Examples
--------
>>> with running_postgres(tmp_path) as url:  # doctest: +SKIP
...     rows = list(fetch_sql(url, "select 1 as one"))
"""

from __future__ import annotations

import contextlib
import os
import pwd
import secrets
import shlex
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Final

__all__ = [
    "PG_DATABASE",
    "PG_USER",
    "PostgresUnavailableError",
    "find_postgres_binaries",
    "postgres_unavailable_reason",
    "running_postgres",
]

#: Superuser of the test cluster.
PG_USER: Final = "openalm"
#: Database created in the test cluster (the URL's database).
PG_DATABASE: Final = "openalm"

_SEARCH_DIRS: Final = ("/usr/local/bin", "/usr/lib/postgresql/*/bin", "/usr/local/pgsql/bin")
_RUN_AS_CANDIDATES: Final = ("postgres", "openalm_pg", "nobody")
_SYSTEM_ACCOUNT: Final = "openalm_pg"
#: Unix socket paths are limited to 107 bytes; ``/.s.PGSQL.<port>`` takes up to 16.
_MAX_SOCKET_DIR: Final = 90
_START_TIMEOUT_S: Final = 30


class PostgresUnavailableError(RuntimeError):
    """PostgreSQL cannot be started here (binaries absent, no account to run it as)."""


def find_postgres_binaries() -> tuple[Path, Path] | None:
    """``(initdb, pg_ctl)`` from PATH, /usr/local/bin or /usr/lib/postgresql/<v>/bin, or None."""
    initdb = shutil.which("initdb")
    pg_ctl = shutil.which("pg_ctl")
    if initdb and pg_ctl:
        return Path(initdb), Path(pg_ctl)
    for pattern in _SEARCH_DIRS:
        for folder in sorted(Path("/").glob(pattern.lstrip("/")), reverse=True):
            if (folder / "initdb").is_file() and (folder / "pg_ctl").is_file():
                return folder / "initdb", folder / "pg_ctl"
    return None


def postgres_unavailable_reason() -> str | None:
    """Why :func:`running_postgres` cannot work here, or None when it can (for ``pytest.skip``)."""
    if find_postgres_binaries() is None:
        return "PostgreSQL initdb/pg_ctl not found (PATH, /usr/local/bin, /usr/lib/postgresql/*/bin)"
    if os.geteuid() == 0 and shutil.which("runuser") is None and shutil.which("su") is None:
        return "running as root and neither runuser nor su is available to start PostgreSQL unprivileged"
    return None


def _account() -> str | None:
    """The account to run the server as: None for the current user (not root)."""
    if os.geteuid() != 0:
        return None
    for name in _RUN_AS_CANDIDATES:
        with contextlib.suppress(KeyError):
            if pwd.getpwnam(name).pw_uid != 0:
                return name
    useradd = shutil.which("useradd")
    if useradd is None:
        raise PostgresUnavailableError("running as root, no unprivileged account and no useradd to create one")
    subprocess.run([useradd, "--system", "--no-create-home", _SYSTEM_ACCOUNT], check=True, capture_output=True)
    return _SYSTEM_ACCOUNT


def _command(args: Sequence[str], account: str | None) -> list[str]:
    if account is None:
        return list(args)
    runuser = shutil.which("runuser")
    if runuser is not None:
        return [runuser, "-u", account, "--", *args]
    return ["su", account, "-s", "/bin/sh", "-c", shlex.join(args)]


def _run(args: Sequence[str], account: str | None, *, what: str) -> str:
    env = {**os.environ, "LC_ALL": "C", "LANG": "C"}
    done = subprocess.run(_command(args, account), capture_output=True, text=True, env=env, check=False)
    if done.returncode != 0:
        raise PostgresUnavailableError(f"{what} failed (exit {done.returncode}): {done.stderr.strip() or done.stdout}")
    return done.stdout


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _make_root(tmp_dir: Path, account: str | None) -> Path:
    """A new folder for the cluster, reachable by ``account`` and short enough for a socket path."""
    parent: Path | None = Path(tmp_dir)
    if len(str(parent)) + 30 > _MAX_SOCKET_DIR:
        parent = None
    elif account is not None:
        probe = subprocess.run(_command(["test", "-x", str(parent)], account), capture_output=True, check=False)
        if probe.returncode != 0:
            parent = None  # e.g. pytest's tmp_path is private to root
    root = Path(tempfile.mkdtemp(prefix="openalm-pg-", dir=parent))
    if account is not None:
        entry = pwd.getpwnam(account)
        os.chown(root, entry.pw_uid, entry.pw_gid)
    return root


def _configure(data: Path, port: int, sockets: Path) -> None:
    settings = {
        "listen_addresses": "'127.0.0.1'",
        "port": str(port),
        "unix_socket_directories": f"'{sockets}'",
        "fsync": "off",
        "synchronous_commit": "off",
        "full_page_writes": "off",
        "max_connections": "20",
        "shared_buffers": "32MB",
        "dynamic_shared_memory_type": "mmap",
        "logging_collector": "off",
    }
    with (data / "postgresql.conf").open("a", encoding="utf-8") as handle:
        handle.write("\n# openalm.testing.postgres\n")
        handle.writelines(f"{key} = {value}\n" for key, value in settings.items())


def _create_database(sockets: Path, port: int) -> None:
    import psycopg

    deadline = time.monotonic() + _START_TIMEOUT_S
    while True:
        try:
            with psycopg.connect(
                host=str(sockets), port=port, user=PG_USER, dbname="postgres", autocommit=True
            ) as conn:
                conn.execute(f'CREATE DATABASE "{PG_DATABASE}"')
                return
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


@contextlib.contextmanager
def running_postgres(tmp_dir: str | os.PathLike[str]) -> Iterator[str]:
    """Start a throw-away PostgreSQL server; yield its URL; stop it and delete its folder.

    Parameters
    ----------
    tmp_dir:
        Folder under which the cluster folder is made (a fresh folder under the system temp dir
        when the server account cannot reach ``tmp_dir`` or the socket path would be too long).

    Yields
    ------
    str
        ``postgresql://openalm:<password>@127.0.0.1:<port>/openalm``; the password is random.

    Raises
    ------
    PostgresUnavailableError
        The binaries are absent or the server cannot be started (with the server log's tail).
    """
    reason = postgres_unavailable_reason()
    if reason is not None:
        raise PostgresUnavailableError(reason)
    binaries = find_postgres_binaries()
    assert binaries is not None
    initdb, pg_ctl = binaries
    account = _account()
    root = _make_root(Path(tmp_dir), account)
    data, sockets, log = root / "data", root / "sock", root / "postgres.log"
    started = False
    try:
        password = secrets.token_hex(16)
        pwfile = root / "pwfile"
        pwfile.write_text(password + "\n", encoding="utf-8")
        sockets.mkdir()
        if account is not None:
            entry = pwd.getpwnam(account)
            for path in (pwfile, sockets):
                os.chown(path, entry.pw_uid, entry.pw_gid)
        _run(
            [
                *(str(initdb), "-D", str(data), "-U", PG_USER, f"--pwfile={pwfile}"),
                *("--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8", "--locale=C"),
                *("--no-sync", "--no-instructions"),
            ],
            account,
            what="initdb",
        )
        for _attempt in range(3):  # the free port may be taken between probing and binding
            port = _free_port()
            _configure(data, port, sockets)
            try:
                _run(
                    [str(pg_ctl), "-D", str(data), "-l", str(log), "-w", "-t", str(_START_TIMEOUT_S), "start"],
                    account,
                    what="pg_ctl start",
                )
            except PostgresUnavailableError as err:
                tail = log.read_text(encoding="utf-8", errors="replace")[-2000:] if log.exists() else ""
                if "could not bind" in tail or "in use" in tail:
                    continue
                raise PostgresUnavailableError(f"{err}\nserver log:\n{tail}") from err
            started = True
            break
        if not started:
            raise PostgresUnavailableError("pg_ctl start failed three times: no free port")
        _create_database(sockets, port)
        yield f"postgresql://{PG_USER}:{password}@127.0.0.1:{port}/{PG_DATABASE}"
    finally:
        try:
            if started:
                try:
                    _run([str(pg_ctl), "-D", str(data), "-m", "fast", "-w", "stop"], account, what="pg_ctl stop")
                except PostgresUnavailableError:
                    _run([str(pg_ctl), "-D", str(data), "-m", "immediate", "-w", "stop"], account, what="pg_ctl stop")
        finally:
            shutil.rmtree(root, ignore_errors=True)

"""A private PostgreSQL cluster for production mode: its own directory, port and socket, on 127.0.0.1.

Debian's packaged server is used (/usr/lib/postgresql/VERSION/bin), not its
system cluster, so `make prod` needs no service manager and leaves the
machine's own databases alone. PostgreSQL refuses to run as root; as root the
cluster is run as the ``postgres`` user the package creates.
"""

from __future__ import annotations

import hashlib
import os
import pwd
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import psycopg2
from psycopg2 import sql

from bot.servers import StartupError

POSTGRES_BIN_DIRS = Path("/usr/lib/postgresql")
SERVER_USER = "postgres"


class PostgresError(StartupError):
    pass


def cluster_directory(wanted: Path) -> Path:
    """``wanted``, unless the ``postgres`` user could not reach it: then a directory of its own in /var/tmp.

    As root the server runs as ``postgres``, which cannot pass a private parent directory (a checkout
    under /root, pytest's temporary directories).
    """
    # Directories still to be made are made world-searchable (umask 022), as production mode makes them.
    reachable = all(parent.stat().st_mode & 0o001 for parent in wanted.resolve().parents if parent.exists())
    if os.geteuid() != 0 or reachable:
        return wanted
    return Path("/var/tmp/clinic-assistant-postgres") / hashlib.sha256(str(wanted.resolve()).encode()).hexdigest()[:12]


def server_bin() -> Path:
    """The newest installed server's bin directory; PostgresError names the package to install."""
    versions = sorted(POSTGRES_BIN_DIRS.glob("*/bin/pg_ctl"), key=lambda path: int(path.parent.parent.name))
    if not versions:
        raise PostgresError(f"no PostgreSQL server under {POSTGRES_BIN_DIRS}: apt-get install postgresql")
    return versions[-1].parent


@dataclass(frozen=True)
class Database:
    """Where the assistant's conversations live, as endpoints.prod.yml reads it from the environment."""

    host: str
    port: int
    name: str
    user: str
    password: str

    def environment(self) -> dict[str, str]:
        return {
            "POSTGRES_HOST": self.host,
            "POSTGRES_PORT": str(self.port),
            "POSTGRES_DB": self.name,
            "POSTGRES_USER": self.user,
            "POSTGRES_PASSWORD": self.password,
        }


@dataclass(frozen=True)
class PrivateCluster:
    directory: Path  # holds data/, the socket and the log
    database: Database

    @property
    def data(self) -> Path:
        return self.directory / "data"

    @property
    def log(self) -> Path:
        return self.directory / "postgres.log"

    def start(self) -> None:
        """Create the cluster on first use, start it, and create (or update) the database and its user."""
        self.directory.mkdir(parents=True, exist_ok=True)
        self._own(self.directory)
        if not (self.data / "PG_VERSION").exists():
            # Local connections (the socket in our own directory) are trusted; TCP needs the password.
            self._run("initdb", "-D", self.data, "-U", SERVER_USER, "--auth-local=trust", "--auth-host=scram-sha-256")
        self._pg_ctl("start", "-w", "-l", self.log, "-o", self._server_options())
        self._create_database()

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self._pg_ctl("stop", "-m", "fast", "-w")

    def restart(self) -> None:
        """A fast restart, as after an upgrade or a crash: open connections are cut."""
        self._pg_ctl("restart", "-m", "fast", "-w", "-o", self._server_options())

    def _server_options(self) -> str:
        return f"-p {self.database.port} -c listen_addresses={self.database.host} -k {self.directory}"

    def _create_database(self) -> None:
        try:
            admin = psycopg2.connect(
                host=str(self.directory), port=self.database.port, user=SERVER_USER, dbname="postgres"
            )
        except psycopg2.Error as error:
            raise PostgresError(f"could not connect to the new cluster: {error} (log: {self.log})") from None
        admin.autocommit = True  # CREATE DATABASE cannot run in a transaction
        user, name = sql.Identifier(self.database.user), sql.Identifier(self.database.name)
        try:
            with admin.cursor() as cursor:
                cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (self.database.user,))
                verb = "ALTER" if cursor.fetchone() else "CREATE"
                # The password of this run: each start may generate a new one.
                cursor.execute(sql.SQL(verb + " ROLE {} LOGIN PASSWORD %s").format(user), (self.database.password,))
                cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", (self.database.name,))
                if not cursor.fetchone():
                    cursor.execute(sql.SQL("CREATE DATABASE {} OWNER {}").format(name, user))
        finally:
            admin.close()

    def _pg_ctl(self, *args: object) -> None:
        self._run("pg_ctl", "-D", self.data, *args)

    def _run(self, program: str, *args: object) -> None:
        command = [str(server_bin() / program), *map(str, args)]
        if os.geteuid() == 0:
            command = ["runuser", "-u", SERVER_USER, "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, cwd="/")
        if done.returncode != 0:
            raise PostgresError(f"{program} failed: {done.stderr.strip() or done.stdout.strip()} (log: {self.log})")

    @staticmethod
    def _own(directory: Path) -> None:
        if os.geteuid() == 0:
            server = pwd.getpwnam(SERVER_USER)
            shutil.chown(directory, server.pw_uid, server.pw_gid)
        directory.chmod(0o700)

"""Production mode (``make prod``): the assistant as a clinic runs it for real, on one machine.

PostgreSQL holds the conversations, Redis the conversation locks and the
messengers' delivery state, two Rasa server processes share the work, and
nginx in front routes a widget to one server (socket.io is sticky) and spreads
REST and webhook calls over both. Everything listens on 127.0.0.1; every
secret comes from the environment, or is generated for this run. Staff tools
(`bot ask`, `bot report`, `bot purge`, `bot forget`) find this run's servers and
secrets after ``source RUN_DIR/staff.env`` (readable by its owner only).
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import shlex
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import redis

from bot import PROJECT_DIR
from bot.postgres import Database, PrivateCluster, cluster_directory, server_bin
from bot.servers import API_TOKEN_VARIABLE, Stack, StartupError, free_port, run_in_foreground, wait_until_up

RUN_DIR = PROJECT_DIR / "run" / "prod"
NGINX_TEMPLATE = PROJECT_DIR / "deploy" / "nginx.conf.template"
PROD_ENDPOINTS = PROJECT_DIR / "endpoints.prod.yml"
SECRET_VARIABLES = ("POSTGRES_PASSWORD", "REDIS_PASSWORD", API_TOKEN_VARIABLE)
_FIELD = re.compile(r"\{\{ (\w+) \}\}")


def missing_packages() -> list[str]:
    """The Debian packages production mode needs that are not installed."""
    present = {"postgresql": _has_postgres(), "redis-server": _which("redis-server"), "nginx": _which("nginx")}
    return [package for package, installed in present.items() if not installed]


def install_missing_packages() -> None:
    """apt-get the missing packages when running as root; otherwise say exactly what to run."""
    missing = missing_packages()
    if not missing:
        return
    command = ["apt-get", "install", "-y", "--no-install-recommends", *missing]
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        raise StartupError(f"production mode needs {', '.join(missing)}: run  sudo {' '.join(command)}")
    print(f"Installing {', '.join(missing)}…", flush=True)
    environment = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=environment)
    subprocess.run(command, check=True, env=environment, stdout=subprocess.DEVNULL)


def _which(program: str) -> bool:
    return shutil.which(program) is not None or Path("/usr/sbin", program).exists()


def _has_postgres() -> bool:
    try:
        server_bin()
    except RuntimeError:
        return False
    return True


def secrets_from(environ: dict[str, str] | os._Environ) -> dict[str, str]:
    """Each secret from the environment, or a new random one for this run.

    Hex only: Rasa takes its token on the command line, where a value starting with "-" reads as an option.
    """
    return {name: environ.get(name, "").strip() or secrets.token_hex(24) for name in SECRET_VARIABLES}


def render(template: str, values: dict[str, str]) -> str:
    """``template`` with each ``{{ name }}`` replaced; a field without a value is an error, not an empty string."""

    def value(match: re.Match[str]) -> str:
        if match.group(1) not in values:
            raise KeyError(f"{NGINX_TEMPLATE}: no value for {{{{ {match.group(1)} }}}}")
        return values[match.group(1)]

    return _FIELD.sub(value, template)


@dataclass
class ProductionStack(Stack):
    """The action server, two Rasa servers, the demo site, PostgreSQL, Redis and nginx."""

    rasa_port: int = 5005
    second_rasa_port: int = 5006
    action_port: int = 5055
    site_port: int | None = 8000
    nginx_port: int = 8080
    postgres_port: int = 5433
    redis_port: int = 6380
    run_dir: Path = RUN_DIR
    endpoints: Path = PROD_ENDPOINTS
    secrets: dict[str, str] = field(default_factory=lambda: secrets_from(os.environ))
    postgres: PrivateCluster = field(init=False)

    @classmethod
    def on_free_ports(cls, run_dir: Path, **settings: Any) -> ProductionStack:
        """A stack on ports nothing listens on, for tests and measurements beside a running ``make prod``."""
        ports = ("rasa_port", "second_rasa_port", "action_port", "site_port", "nginx_port", "postgres_port")
        return cls(run_dir=run_dir, redis_port=free_port(), **{port: free_port() for port in ports}, **settings)

    def __post_init__(self) -> None:
        database = Database(
            host=self.host,
            port=self.postgres_port,
            name="clinic_assistant",
            user="clinic_assistant",
            password=self.secrets["POSTGRES_PASSWORD"],
        )
        self.postgres = PrivateCluster(cluster_directory(self.run_dir / "postgres"), database)
        if self.log_dir is None:
            self.log_dir = self.run_dir / "logs"

    @property
    def public_url(self) -> str:
        """nginx: the website, the widget, REST and the webhooks."""
        return f"http://{self.host}:{self.nginx_port}"

    @property
    def redis_url(self) -> str:
        return f"redis://:{self.secrets['REDIS_PASSWORD']}@{self.host}:{self.redis_port}/2"

    def rasa_ports(self) -> dict[str, int]:
        return {"rasa": self.rasa_port, "rasa-2": self.second_rasa_port}

    def ports(self) -> dict[str, int]:
        return {
            **super().ports(),
            "the second Rasa server (--second-port)": self.second_rasa_port,
            "nginx (--nginx-port)": self.nginx_port,
            "PostgreSQL (--postgres-port)": self.postgres_port,
            "Redis (--redis-port)": self.redis_port,
        }

    def environment(self) -> dict[str, str]:
        origins = ",".join(dict.fromkeys(f"http://{host}:{self.nginx_port}" for host in (self.host, "localhost")))
        return {
            **super().environment(),
            **self.postgres.database.environment(),
            # Staff commands, the actions storing consultation requests and their delivery read this database too.
            "CLINIC_ENDPOINTS": str(self.endpoints),
            "REDIS_HOST": self.host,
            "REDIS_PORT": str(self.redis_port),
            "REDIS_PASSWORD": self.secrets["REDIS_PASSWORD"],
            # Messenger duplicates and outgoing replies survive a restart (bot/channels/delivery.py).
            "CLINIC_REDIS_URL": self.redis_url,
            API_TOKEN_VARIABLE: self.secrets[API_TOKEN_VARIABLE],
            "WIDGET_ALLOWED_ORIGINS": self.env.get("WIDGET_ALLOWED_ORIGINS", origins),
        }

    def site_rasa_url(self) -> str:
        return self.public_url

    def start(self, timeout: float = 180) -> ProductionStack:
        install_missing_packages()
        self.check_ports_free()
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self._write_staff_environment()
        try:
            self.postgres.start()
            self.start_redis(timeout)
            self.start_servers(timeout)
            self.start_nginx(timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        super().stop()
        self.postgres.stop()

    def start_redis(self, timeout: float = 60) -> None:
        directory = self.run_dir / "redis"
        directory.mkdir(exist_ok=True)
        config = directory / "redis.conf"
        # In a file readable by its owner only, so the password is not on a command line for `ps` to show.
        config.touch(mode=0o600)
        config.write_text(
            f"bind {self.host}\nport {self.redis_port}\ndir {directory}\ndaemonize no\n"
            # The outbox must outlive a restart of Redis too: every write is appended, synced each second.
            'save ""\nappendonly yes\nappendfsync everysec\n'
            f"requirepass {self.secrets['REDIS_PASSWORD']}\n"
        )
        server = self._spawn("redis", ["redis-server", config], self.environment())
        client = redis.Redis.from_url(self.redis_url)
        deadline = time.monotonic() + timeout
        while True:
            if server.poll() is not None:
                raise StartupError(f"redis-server exited with code {server.returncode}; see {self.log_dir}")
            try:
                client.ping()
                return
            except redis.RedisError:
                if time.monotonic() > deadline:
                    raise StartupError(f"Redis did not answer on port {self.redis_port} in {timeout:.0f} s") from None
                time.sleep(0.2)

    def start_nginx(self, timeout: float = 60) -> None:
        servers = "".join(
            f"        server {self.host}:{port} max_fails=1 fail_timeout=5s;\n" for port in self.rasa_ports().values()
        )
        pinned = "".join(f'        "{self.host}:{port}" {self.host}:{port};\n' for port in self.rasa_ports().values())
        values = {
            "run_dir": str(self.run_dir),
            "deploy_dir": str(NGINX_TEMPLATE.parent),
            "pinned_servers": pinned.rstrip("\n"),
            "host": self.host,
            "port": str(self.nginx_port),
            "site_port": str(self.site_port),
            "rasa_servers": servers.rstrip("\n"),
            "max_body": "64k",
        }
        config = self.run_dir / "nginx.conf"
        config.write_text(render(NGINX_TEMPLATE.read_text(encoding="utf-8"), values))
        (self.run_dir / "nginx-temp").mkdir(exist_ok=True)
        command = ["nginx", "-p", self.run_dir, "-c", config, "-g", "daemon off;" + self._nginx_user()]
        nginx = self._spawn("nginx", command, self.environment())
        wait_until_up(f"{self.public_url}/", nginx, timeout)

    @staticmethod
    def _nginx_user() -> str:
        # As root, nginx's workers drop to `nobody`; they must be able to write the temp dirs nginx creates for them.
        return " user nobody nogroup;" if os.geteuid() == 0 else ""

    def _write_staff_environment(self) -> None:
        variables = {
            **self.postgres.database.environment(),
            "CLINIC_ENDPOINTS": str(self.endpoints),
            API_TOKEN_VARIABLE: self.secrets[API_TOKEN_VARIABLE],
        }
        path = self.run_dir / "staff.env"
        path.touch(mode=0o600)
        path.chmod(0o600)
        path.write_text("".join(f"export {name}={shlex.quote(value)}\n" for name, value in variables.items()))


def run(stack: ProductionStack) -> int:
    """Run production mode in the foreground until Ctrl-C (``make prod``)."""
    return run_in_foreground(
        stack,
        f"Starting PostgreSQL, Redis, the action server, two Rasa servers and nginx in {stack.run_dir}…",
        lambda: (
            f"\nThe assistant is ready behind nginx.\n  Website with the chat widget:  {stack.public_url}/\n"
            f"  REST:  curl -s {stack.public_url}/webhooks/rest/webhook "
            '-d \'{"sender":"me","message":"how many sessions do I need?"}\'\n'
            f"  Staff tools (`bot ask --url {stack.public_url}`, `bot report`…):  "
            f"source {stack.run_dir / 'staff.env'}\n  Logs: {stack.log_dir}"
        ),
    )


def add_prod_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "prod", help="production mode: PostgreSQL, Redis, two Rasa servers and the action server behind nginx"
    )
    defaults = ProductionStack.__dataclass_fields__
    for option, name in [
        ("--nginx-port", "nginx_port"),
        ("--port", "rasa_port"),
        ("--second-port", "second_rasa_port"),
        ("--actions-port", "action_port"),
        ("--site-port", "site_port"),
        ("--postgres-port", "postgres_port"),
        ("--redis-port", "redis_port"),
    ]:
        parser.add_argument(option, type=int, dest=name, default=defaults[name].default)
    parser.add_argument("--run-dir", type=Path, default=RUN_DIR, help="data, logs and generated config")


def run_prod(args: argparse.Namespace) -> int:
    options = ("nginx_port", "rasa_port", "second_rasa_port", "action_port", "site_port", "postgres_port", "redis_port")
    return run(ProductionStack(run_dir=args.run_dir.resolve(), **{name: getattr(args, name) for name in options}))

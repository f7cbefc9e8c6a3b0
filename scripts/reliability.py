"""Shared pieces of the reliability scripts (outage, shutdown, overload): start a built Redes on
a fresh database, mint tokens, run wrk with a Lua script that counts statuses, read the RSS."""

import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
import uuid

ROOT = os.path.dirname(os.path.dirname(os.path.realpath(__file__)))
SECRET = "reliability-scripts-secret-reliability-scripts"
SCOPES = ("territories:read organizations:read organizations:write "
          "schools:read schools:write changes:read")
ADMIN_URL = os.environ.get("REDES_TEST_DATABASE_URL",
                           "postgres://postgres@127.0.0.1:5432/postgres")


def binary():
    """The release binary if built, else the debug one (building it if need be)."""
    for profile in ("release", "debug"):
        path = os.path.join(ROOT, "target", profile, "redes")
        if os.path.exists(path):
            return path
    subprocess.run(["cargo", "build", "--bin", "redes"], cwd=ROOT, check=True)
    return os.path.join(ROOT, "target", "debug", "redes")


def require_wrk():
    if shutil.which("wrk"):
        return
    if os.geteuid() == 0 and shutil.which("apt-get"):
        subprocess.run(["apt-get", "install", "-y", "-q", "wrk"], check=True,
                       stdout=subprocess.DEVNULL)
    if not shutil.which("wrk"):
        raise SystemExit("wrk is needed: install it (Debian: apt-get install wrk)")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def psql(sql, url=ADMIN_URL):
    return subprocess.run(["psql", url, "-qAt", "-v", "ON_ERROR_STOP=1", "-f", "-"], input=sql,
                          check=True, capture_output=True, text=True).stdout


class Database:
    """A fresh PostgreSQL database, or a SQLite file; dropped afterwards."""

    def __init__(self, backend, workdir):
        self.backend = backend
        self.name = f"redes_rel_{uuid.uuid4().hex[:10]}"
        if backend == "postgres":
            scheme, rest = ADMIN_URL.split("://", 1)
            self.url = f"{scheme}://{rest.rsplit('/', 1)[0]}/{self.name}"
        else:
            self.url = os.path.join(workdir, "redes.db")

    def __enter__(self):
        if self.backend == "postgres":
            psql(f"CREATE DATABASE {self.name}")
        return self

    def __exit__(self, *_):
        if self.backend == "postgres":
            for _ in range(30):
                try:
                    psql(f"DROP DATABASE IF EXISTS {self.name} WITH (FORCE)")
                    return
                except subprocess.CalledProcessError:
                    time.sleep(1)


class Redes:
    """A running `redes serve`."""

    def __init__(self, database_url, workdir, **settings):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("REDES_")}
        self.env.update({
            "REDES_BIND": f"127.0.0.1:{self.port}",
            "REDES_DATABASE_URL": database_url,
            "REDES_JWT_SECRET": SECRET,
            "REDES_DATA_DIR": os.path.join(workdir, "data"),
            # Load and outage scripts drive one token far beyond a client's limit on purpose.
            "REDES_RATE_LIMIT": "0",
            "REDES_LOG": "warn",
            "REDES_LOG_FORMAT": "json",
        })
        self.env.update({f"REDES_{k.upper()}": str(v) for k, v in settings.items()})
        self.binary = binary()
        self.token = ""
        self.log = open(os.path.join(workdir, "serve.log"), "w")
        self.process = subprocess.Popen([self.binary, "serve"], env=self.env, cwd=workdir,
                                        stdout=self.log, stderr=self.log)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.status("/health/ready") == 200:
                break
            time.sleep(0.1)
        else:
            raise SystemExit(f"Redes did not become ready; see {self.log.name}")
        self.token = self.mint("CL", "CO")

    def mint(self, *territories):
        command = [self.binary, "token", "--sub", "reliability", "--scope", SCOPES, "--ttl", "1d"]
        for territory in territories:
            command += ["--territory", territory]
        return subprocess.run(command, env=self.env, check=True, capture_output=True,
                              text=True).stdout.strip()

    def request(self, method, path, body=None, timeout=10):
        """(status, headers, body) of a request, or (None, error, None) without an answer."""
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.base + path, data=data, method=method, headers={
            "Authorization": f"Bearer {self.token}",
            "Content-Type": "application/json",
        })
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return response.status, dict(response.headers), response.read()
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), error.read()
        except Exception as error:
            return None, repr(error), None

    def status(self, path):
        return self.request("GET", path, timeout=5)[0]

    def peak_rss_mb(self):
        for line in open(f"/proc/{self.process.pid}/status"):
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
        return None

    def rss_mb(self):
        for line in open(f"/proc/{self.process.pid}/status"):
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
        return None

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=60)
        self.log.close()


WRK_LUA = r"""
-- Counts per thread kept in plain globals: wrk copies numbers and strings between threads.
ok2xx, s429, s503, missing_retry_after, others = 0, 0, 0, 0, ""
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function response(status, headers, body)
  if status >= 200 and status < 300 then
    ok2xx = ok2xx + 1
  elseif status == 429 then
    s429 = s429 + 1
  elseif status == 503 then
    s503 = s503 + 1
    if headers["Retry-After"] == nil and headers["retry-after"] == nil then
      missing_retry_after = missing_retry_after + 1
    end
  elseif string.len(others) < 200 then
    others = others .. tostring(status) .. " "
  end
end

function done(summary, latency, requests)
  local ok, t429, t503, missing, other = 0, 0, 0, 0, ""
  for _, thread in ipairs(threads) do
    ok = ok + thread:get("ok2xx")
    t429 = t429 + thread:get("s429")
    t503 = t503 + thread:get("s503")
    missing = missing + thread:get("missing_retry_after")
    other = other .. thread:get("others")
  end
  io.write(string.format(
    'WRK_JSON {"statuses": {"2xx": %d, "429": %d, "503": %d}, "other_statuses": "%s", ' ..
    '"missing_retry_after": %d, "requests": %d, ' ..
    '"socket_errors": {"connect": %d, "read": %d, "write": %d, "timeout": %d}, ' ..
    '"latency_ms": {"p50": %.2f, "p99": %.2f, "max": %.2f}, "duration_s": %.2f}\n',
    ok, t429, t503, other, missing, summary.requests,
    summary.errors.connect, summary.errors.read, summary.errors.write, summary.errors.timeout,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000,
    summary.duration / 1e6))
end
"""


def wrk(url, token, connections, seconds, threads=2, timeout="10s", workdir=None):
    """Starts wrk in the background; `finish(process)` parses its figures."""
    require_wrk()
    script = os.path.join(workdir or tempfile.gettempdir(), f"count-{uuid.uuid4().hex[:6]}.lua")
    open(script, "w").write(WRK_LUA)
    return subprocess.Popen(
        ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{seconds}s",
         "--timeout", timeout, "-s", script, "-H", f"Authorization: Bearer {token}", url],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def finish(process):
    output, _ = process.communicate()
    for line in output.splitlines():
        if line.startswith("WRK_JSON "):
            return json.loads(line[len("WRK_JSON "):])
    raise SystemExit(f"wrk did not report:\n{output}")

"""What the benchmarks in bench/ share (bench/run, bench/rate-limit).

The binaries' snapshots, a throwaway PostgreSQL cluster (initdb/pg_ctl in a
temporary directory, Unix socket only), the analytics emulator with its
/__stats and /__truth, a measured child process (exit status, wall, CPU,
peak RSS), restsyncd's summary lines, and the processes' CPU from /proc.

Python 3 standard library only.
"""

import hashlib
import json
import math
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(REPO, "build", "bin")
RESTSYNCD = os.path.join(BIN, "restsyncd")
EMULATOR = os.path.join(BIN, "analytics-emulator")

# name, path, primary key, is a list resource (singletons hold one record)
RESOURCES = [
    ("accounts", "/v1/accounts", "id", True),
    ("accounts_feeds", "/v1/accounts/current/feeds", "id", True),
    ("users", "/v1/accounts/current/users", "id", True),
    ("smartcode", "/v1/accounts/current/smartcode", "uid", False),
    ("campaigns", "/v1/accounts/current/campaigns", "id", True),
    ("custom_widgets", "/v1/accounts/current/changesets", "id", True),
    ("thresholds", "/v1/accounts/current/thresholds", "uid", False),
    ("integrations", "/v1/accounts/current/integrations", "uid", False),
    ("labels", "/v1/accounts/current/labels", "id", True),
]
LIST_RESOURCES = sum(1 for r in RESOURCES if r[3])
SINGLETONS = len(RESOURCES) - LIST_RESOURCES
TICK = os.sysconf("SC_CLK_TCK")
NICE = []  # ["nice", "-n", N] with --nice: every measured process runs at that priority
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


def log(msg):
    print(f"bench: {msg}", file=sys.stderr, flush=True)


class Interrupted(Exception):
    pass


def on_signal(signum, _frame):
    raise Interrupted(signal.Signals(signum).name)


# ---------------------------------------------------------------- processes


def proc_cpu(pid):
    """user+sys seconds of a live process (and of its reaped children)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0, 0.0
    # fields[0] is state (field 3); utime is field 14, cutime 16
    own = (int(fields[11]) + int(fields[12])) / TICK
    reaped = (int(fields[13]) + int(fields[14])) / TICK
    return own, reaped


def children_of(pid):
    out = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            out.append(int(name))
    return out


def machine_busy():
    """CPU seconds the whole machine has been busy (not idle, not in iowait) since boot."""
    with open("/proc/stat") as f:
        vals = [int(v) for v in f.readline().split()[1:]]
    return (sum(vals[:8]) - vals[3] - vals[4]) / TICK


def prioritize(pid):
    """With --nice: the process's scheduling priority. Under the kernel's
    autogroup scheduling (sched_autogroup_enabled) nice only orders processes
    of one session, so the session's autogroup gets the nice value too."""
    if not NICE:
        return
    try:
        with open(f"/proc/{pid}/autogroup", "w") as f:
            f.write(NICE[2])
    except OSError:
        pass


def stop_process(p, grace=5.0):
    if p is None or p.poll() is not None:
        return
    try:
        p.send_signal(signal.SIGTERM)
        p.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
    except ProcessLookupError:
        pass



# ---------------------------------------------------------------- PostgreSQL


class Cluster:
    """A throwaway PostgreSQL cluster in a temporary directory."""

    def __init__(self, workdir, pg_options):
        self.dir = os.path.join(workdir, "pg")
        self.data = os.path.join(self.dir, "data")
        self.bindir = self._find_bindir()
        self.as_postgres = os.geteuid() == 0
        self.started = False
        self.pg_options = pg_options
        os.makedirs(self.dir)
        if self.as_postgres:
            shutil.chown(workdir, "postgres")
            shutil.chown(self.dir, "postgres")

    @staticmethod
    def _find_bindir():
        root = "/usr/lib/postgresql"
        versions = sorted(
            (v for v in os.listdir(root) if os.path.exists(f"{root}/{v}/bin/initdb")),
            key=lambda v: int(v) if v.isdigit() else 0,
        ) if os.path.isdir(root) else []
        if not versions:
            sys.exit("bench: no PostgreSQL server found (/usr/lib/postgresql/*/bin/initdb); "
                     "run scripts/bootstrap")
        return f"{root}/{versions[-1]}/bin"

    def _cmd(self, argv):
        if self.as_postgres:
            return ["runuser", "-u", "postgres", "--"] + argv
        return argv

    def start(self):
        r = subprocess.run(
            self._cmd([f"{self.bindir}/initdb", "-D", self.data, "-A", "trust", "-U", "postgres",
                       "-E", "UTF8", "--no-locale"]),
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        if r.returncode != 0:
            raise RuntimeError(f"initdb failed: {r.stderr.strip()}")
        opts = f"-c listen_addresses='' -c unix_socket_directories={self.dir}"
        for o in self.pg_options:
            opts += f" -c {o}"
        self.started = True
        log_file = os.path.join(self.dir, "server.log")
        r = subprocess.run(
            NICE + self._cmd([f"{self.bindir}/pg_ctl", "-D", self.data, "-o", opts,
                              "-l", log_file, "-w", "-t", "60", "start"]),
            stdout=subprocess.DEVNULL, start_new_session=True)
        if r.returncode != 0:
            with open(log_file, errors="replace") as f:
                raise RuntimeError("PostgreSQL did not start: " + f.read()[-1000:])
        with open(os.path.join(self.data, "postmaster.pid")) as f:
            self.postmaster = int(f.readline())
        prioritize(self.postmaster)

    def stop(self):
        if self.started:
            subprocess.run(
                self._cmd([f"{self.bindir}/pg_ctl", "-D", self.data, "-m", "immediate", "-w",
                           "stop"]),
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            self.started = False

    def env(self, database):
        e = dict(os.environ)
        for k in list(e):
            if k.startswith("PG"):
                del e[k]
        e.update(PGHOST=self.dir, PGUSER="postgres", PGDATABASE=database)
        return e

    def psql(self, database, sql, timeout=600):
        r = subprocess.run(["psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-c", sql],
                           env=self.env(database), capture_output=True, text=True,
                           timeout=timeout)
        if r.returncode != 0:
            raise RuntimeError(f"psql failed: {r.stderr.strip()} (SQL: {sql[:200]})")
        return r.stdout

    def cpu(self):
        """CPU seconds used by the whole server so far: the postmaster, its
        reaped children (exited backends) and its live children."""
        own, reaped = proc_cpu(self.postmaster)
        live = sum(proc_cpu(c)[0] for c in children_of(self.postmaster))
        return own + reaped + live



# ---------------------------------------------------------------- emulator


class Emulator:
    """analytics-emulator on 127.0.0.1:0 with a random API key; args are its
    other options (--records, --latency-ms, --rate-limit, --quirks, …)."""

    def __init__(self, binary, workdir, args, log_name, records=None):
        self.records = records
        self.key = secrets.token_hex(16)
        self.stderr = open(os.path.join(workdir, log_name), "w")
        self.proc = subprocess.Popen(
            NICE + [binary, "--listen", "127.0.0.1:0", "--api-key", self.key] + args,
            stdout=subprocess.PIPE, stderr=self.stderr, text=True, start_new_session=True)
        prioritize(self.proc.pid)
        try:
            line = self.proc.stdout.readline()  # printed once it listens
        except BaseException:
            self.stop()
            raise
        m = re.match(r"listening (\S+):(\d+)", line or "")
        if not m:
            stop_process(self.proc)
            raise RuntimeError(f"the emulator did not start (said {line!r}); see {self.stderr.name}")
        self.base = f"http://{m.group(1)}:{m.group(2)}"

    def request(self, method, path, body=None, timeout=600):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.base + path, data=data, method=method)
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.read()

    def set_latency(self, ms):
        self.request("POST", "/__config", {"latency_ms": ms})

    def reset_stats(self):
        self.request("POST", "/__stats/reset", {})

    def stats(self):
        return json.loads(self.request("GET", "/__stats"))

    def truth(self, resource):
        return read_json(self.request("GET", f"/__truth/{resource}"))

    def cpu(self):
        return proc_cpu(self.proc.pid)[0]

    def stop(self):
        stop_process(self.proc)
        self.stderr.close()


class JsonNumber(float):
    """A JSON number with a fraction or exponent, with its literal: restsync
    keeps a literal's digits where a double would change its value (page.hpp:
    big numbers and verbatim doubles), and PostgreSQL reads any literal into
    double precision, numeric or jsonb with the value restsync gives it."""

    def __new__(cls, literal):
        n = super().__new__(cls, literal)
        n.literal = literal
        return n

    def beyond_double(self):
        # 1e-400 is 0.0 and 1e400 inf as a double: restsync keeps them as numeric
        mantissa = self.literal.lower().split("e")[0]
        return math.isinf(self) or (self == 0 and any(c in "123456789" for c in mantissa))


def read_json(data):
    return json.loads(data, parse_float=JsonNumber)


# ---------------------------------------------------------------- measured runs


SUMMARY = re.compile(r"\bevent=summary\b")
FIELD = re.compile(r'(\w+)=("(?:[^"\\]|\\.)*"|\S*)')


def parse_summaries(text):
    """restsyncd's `event=summary` lines, one per resource: {resource: {field: value}}."""
    out = {}
    for line in text.splitlines():
        if SUMMARY.search(line):
            f = {k: v.strip('"') for k, v in FIELD.findall(line)}
            out[f.get("resource", "?")] = f
    return out


# Runs a command and reports its exit status, wall, user and sys seconds and
# peak RSS (KB) on the file descriptor argv[1]. A separate, small process:
# Linux counts in a child's ru_maxrss the RSS of the process it was forked
# from until exec, which for this script (holding the truth's records for the
# COPY floor) would be hundreds of MB that restsyncd never used.
SPAWN_HELPER = r"""
import os, sys, time
out = int(sys.argv[1])
t0 = time.monotonic()
pid = os.fork()
if pid == 0:
    os.close(out)
    try:
        os.execv(sys.argv[2], sys.argv[2:])
    finally:
        os._exit(127)
_, status, ru = os.wait4(pid, 0)
wall = time.monotonic() - t0
os.write(out, ("%d %r %r %r %d" % (os.waitstatus_to_exitcode(status), wall, ru.ru_utime,
                                   ru.ru_stime, ru.ru_maxrss)).encode())
"""


class Measured:
    """argv started through SPAWN_HELPER (in a session of its own, at NICE,
    in cwd), its stdout and stderr into log_path."""

    def __init__(self, argv, env, log_path, cwd=None):
        self.log = open(log_path, "w")
        self.rfd, wfd = os.pipe()
        self.proc = subprocess.Popen(NICE + [sys.executable, "-I", "-S", "-c", SPAWN_HELPER,
                                             str(wfd)] + argv,
                                     env=env, cwd=cwd, stdout=self.log,
                                     stderr=subprocess.STDOUT, pass_fds=(wfd,),
                                     start_new_session=True)
        os.close(wfd)
        self.pid = self.proc.pid
        prioritize(self.pid)

    def wait(self, timeout, tick=None, interval=0.01):
        """Waits for the command (calling tick() every interval seconds) and
        returns {exit, wall_s, user_s, sys_s, maxrss_kb}; past timeout seconds
        it is killed: exit "timeout", wall timeout."""
        p = self.proc
        deadline = time.monotonic() + timeout
        try:
            while p.poll() is None:
                if time.monotonic() > deadline:
                    os.killpg(p.pid, signal.SIGKILL)
                    p.wait()
                    break
                if tick:
                    tick()
                time.sleep(interval)
        except BaseException:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
            raise
        finally:
            with os.fdopen(self.rfd) as f:
                report = f.read().split()
            self.log.close()
        if len(report) == 5:
            return {"exit": int(report[0]), "wall_s": float(report[1]),
                    "user_s": float(report[2]), "sys_s": float(report[3]),
                    "maxrss_kb": int(report[4])}
        # killed: the helper never reported
        return {"exit": "timeout", "wall_s": timeout, "user_s": 0.0, "sys_s": 0.0,
                "maxrss_kb": 0}


# ---------------------------------------------------------------- a run's set-up


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown CPU"


def check_tools(binaries):
    """Exits with a message when a binary or psql is missing."""
    missing = [p for p in binaries if not os.access(p, os.X_OK)]
    if missing:
        sys.exit("bench: missing " + ", ".join(os.path.relpath(p, REPO) for p in missing) +
                 "; build first: cmake -S . -B build -G Ninja && cmake --build build")
    for tool in ("psql",):
        if shutil.which(tool) is None:
            sys.exit(f"bench: {tool} not found; run scripts/bootstrap")


def catch_signals():
    """Ctrl-C, SIGTERM and SIGHUP raise Interrupted, so that a run cleans up."""
    for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, on_signal)


def snapshot(workdir, binaries):
    """Copies each (label, path) of binaries into workdir: the build tree may
    be rebuilt while the benchmark runs, and a run must use one build
    throughout. Returns {label: {path, mtime, sha256}} and {label: copy}."""
    info, copies = {}, {}
    for label, src in binaries:
        with open(src, "rb") as f:
            digest = hashlib.sha256(f.read()).hexdigest()[:12]
        mtime = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(os.path.getmtime(src)))
        log(f"{label}: {src}: built {mtime}, sha256 {digest}")
        info[label] = {"path": src, "mtime": mtime, "sha256": digest}
        copies[label] = shutil.copy2(src, os.path.join(workdir, label))
    return info, copies


def print_header(prog, binaries):
    """The command line, the machine and the binaries, before the first case."""
    print(f"{prog} {' '.join(sys.argv[1:])}")
    print(f"machine: {os.cpu_count()} CPUs ({cpu_model()}), "
          f"{os.sysconf('SC_PHYS_PAGES') * os.sysconf('SC_PAGE_SIZE') / 2**30:.0f} GiB, "
          f"load average {os.getloadavg()[0]:.1f} at start")
    for name, b in binaries.items():
        print(f"{name}: {b['path']}, built {b['mtime']}, sha256 {b['sha256']}")
    print(flush=True)


class Workspace:
    """A run's temporary directory, with snapshots of its binaries (restsyncd
    sources labelled r1, r2, … when there are several, else `restsyncd`), its
    PostgreSQL cluster (not started) and the emulator running now. Used as
    `with workspace:`, it stops and removes all of them at the end, also on
    Ctrl-C, SIGTERM or SIGHUP (then .interrupted is set)."""

    def __init__(self, restsyncds, emulator, pg_options=()):
        check_tools(restsyncds + [emulator])
        catch_signals()
        self.dir = tempfile.mkdtemp(prefix="restsync-bench.")
        os.chmod(self.dir, 0o755)
        self.labels = ([f"r{i + 1}" for i in range(len(restsyncds))] if len(restsyncds) > 1
                       else ["restsyncd"])
        self.binaries, self.restsyncds = snapshot(
            self.dir, list(zip(self.labels, restsyncds)) + [("analytics-emulator", emulator)])
        self.emulator = self.restsyncds.pop("analytics-emulator")
        self.cluster = Cluster(self.dir, list(pg_options))
        self.emu = None
        self.interrupted = False

    def start_emulator(self, args, log_name, records=None):
        self.emu = Emulator(self.emulator, self.dir, args, log_name, records)
        return self.emu

    def stop_emulator(self):
        if self.emu is not None:
            self.emu.stop()
            self.emu = None

    def __enter__(self):
        return self

    def __exit__(self, kind, e, _tb):
        if kind is Interrupted:
            log(f"interrupted ({e}); cleaning up")
            self.interrupted = True
        self.stop_emulator()
        self.cluster.stop()
        shutil.rmtree(self.dir, ignore_errors=True)
        return kind is Interrupted

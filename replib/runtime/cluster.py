"""A cluster: a system's nodes as processes on 127.0.0.1, started, faulted and stopped.

    from replib.runtime import Cluster
    from replib.protocols.multipaxos import multipaxos_system

    with Cluster(multipaxos_system(3, clients=2, ops=10), time_unit=0.02) as cluster:
        cluster.run(until=50)                 # 50 time units of real time: 1 second
        cluster.kill("r1")                    # kill -9
        cluster.restart("r1")                 # a new process, reading r1's disk
        cluster.run(until=100, faults=[partition(["r1"], ["r2", "r3"], at=60), heal(at=80)])
        trace, history = cluster.trace(), cluster.history()

The nodes are the builders' objects, run unchanged: each in its own process
(``replib.runtime.process``), talking through the router (``replib.runtime.network``) that
the cluster controls.  **Time** is real, read from the monotonic clock, and expressed in the
nodes' own time unit: a node's ``set_timer(t, 4.0)`` waits 4 x ``time_unit`` seconds, and
``run(until=...)``, faults' ``at=``, the trace and the history all count in that unit, so a
fault schedule written for the simulator runs here unchanged, and a real run reads on the
same scale as a simulated one.

**Cleanup** is not left to luck.  Each node process leads its own process group, which
``kill`` and ``stop`` kill as a whole.  ``stop`` (also run by ``with``, by ``atexit`` when
the interpreter or the notebook's kernel exits, and by ``stop_all``) closes every process's
stdin, waits a moment and kills what is left.  A process also stops by itself when its stdin
closes (its parent died, even by kill -9) and at the cluster's hard deadline
(``max_seconds`` after the cluster was made); the router forwards at most ``max_messages``.
"""

from __future__ import annotations

import atexit
import copy
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import weakref

from ..faults import Fault
from ..network import Constant, Network
from ..sim import check_nodes
from ..validate import finite_time, whole_number
from .disk import Disk
from .events import build_trace, read_events
from .network import Router
from .process import NodeConfig, config_bytes
from .wire import Registry

_ID = re.compile(r"[A-Za-z0-9_.:-]+")
_LIVE: "weakref.WeakSet[Cluster]" = weakref.WeakSet()
_SPAWNED: list = []          # every node process this interpreter started (for the tests)
DEFAULT_TIME_UNIT = 0.02     # seconds per time unit
POLL = 0.02                 # seconds between looks at the clock and the processes
LATE = 1.0                  # time units a fault may finish late and still count as on time
NETWORK_FAULTS = ("partition", "cut", "heal")


def stop_all() -> None:
    """Stop every cluster of this interpreter that is still running and remove its files
    (unless kept): ``atexit`` does this when the interpreter or the kernel exits."""
    for cluster in list(_LIVE):
        cluster.close()


atexit.register(stop_all)


def running_processes() -> list[int]:
    """The pids of node processes started by this interpreter that are still running
    (none, once every cluster is stopped: what the tests check)."""
    return [p.pid for p in _SPAWNED if p.poll() is None]


class Cluster:
    """Run ``nodes`` (from a system builder) as processes, one per node, on 127.0.0.1.

    time_unit: seconds per unit of the nodes' timer delays (and of every time the cluster
    reports).  seed: seeds each node's ``rng`` and the router's dice.  network: a
    ``replib.network.Network`` whose loss, duplication and latency (in time units) the
    router applies (default: no loss, no added delay).  fsync: fsync every save of stable
    fields (False: only to measure what fsync costs).  directory: where disks, events and
    stderr go (default: a new temporary directory, removed by ``close`` unless
    ``keep_files``).  max_seconds: the hard deadline, from now.  max_messages: what the
    router forwards at most.  ports: node id -> UDP port (default: any free port);
    router_port likewise.  registry: the message types allowed on the wire (default:
    ``Registry.for_nodes(nodes)``).
    """

    def __init__(self, nodes, *, time_unit: float = DEFAULT_TIME_UNIT, seed: int = 0,
                 network: Network | None = None, fsync: bool = True, directory=None,
                 keep_files: bool = False, max_seconds: float = 60.0,
                 max_messages: int = 1_000_000, ports: dict | None = None,
                 router_port: int = 0, registry: Registry | None = None):
        nodes = check_nodes(nodes)
        for n in nodes:
            if not _ID.fullmatch(n.id):
                raise ValueError(f"node id {n.id!r} cannot go on the wire: use letters, digits "
                                 f"and _ . : - only")
            cls = type(n)
            if cls.__module__ == "__main__":
                raise ValueError(
                    f"{cls.__name__} is defined in __main__ (a notebook cell or a script), so "
                    f"the node processes cannot import it; put the class in a module")
        finite_time("time_unit", time_unit)
        finite_time("max_seconds", max_seconds)
        whole_number("max_messages", max_messages, 1)
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise ValueError(f"seed must be an integer, got {seed!r}")
        if network is None:
            network = Network(latency=Constant(0.0))
        if not isinstance(network, Network):
            raise ValueError(f"network must be a replib Network, got {network!r}")
        ids = [n.id for n in nodes]
        ports = dict(ports or {})
        for node, port in list(ports.items()) + [("the router", router_port)]:
            if node != "the router" and node not in ids:
                raise ValueError(f"ports names unknown node {node!r}; nodes are {ids}")
            whole_number(f"port of {node}", port, 0, 65535)
        self.nodes = copy.deepcopy(nodes)      # the configuration each process starts from
        self.ids = tuple(ids)
        self.registry = registry if registry is not None else Registry.for_nodes(nodes)
        if not isinstance(self.registry, Registry):
            raise ValueError(f"registry must be a replib.runtime.wire.Registry, got {registry!r}")
        self.time_unit = float(time_unit)
        self.seed = seed
        self.fsync = bool(fsync)
        self.ports = ports
        self.max_seconds = float(max_seconds)
        self.deadline = time.monotonic() + max_seconds
        self.keep_files = keep_files
        self.own_directory = directory is None
        self.directory = None if directory is None else os.fspath(directory)
        self.token = secrets.token_hex(8)
        self.router = Router(self.ids, self.token, network, self.time_unit, seed, max_messages,
                             router_port)
        self.processes: dict[str, subprocess.Popen] = {}
        self._stderr_from: dict[str, int] = {}  # where the running process's stderr begins
        self.incarnation = {i: -1 for i in self.ids}
        self.killed: set = set()               # nodes we killed and have not restarted
        self.started = False
        self.stopped = False
        self.epoch = None
        self.log: list[str] = []               # what the cluster did, in words
        _LIVE.add(self)

    # ---- files ---------------------------------------------------------------------------------
    def path(self, node: str, what: str) -> str:
        """The file of ``node`` for ``what``: "disk", "events" or "stderr"."""
        suffix = {"disk": ".disk.jsonl", "events": ".events.jsonl", "stderr": ".stderr"}[what]
        return os.path.join(self.directory, node + suffix)

    # ---- starting, killing, restarting ---------------------------------------------------------
    def start(self, timeout: float = 30.0) -> "Cluster":
        """Start the router and every node; time 0 is when all of them are up.  If that
        fails, everything started is stopped (and the run's directory removed) first."""
        if self.started:
            raise RuntimeError("this cluster has started already; make a new Cluster to run again")
        self.started = True
        try:
            if self.directory is None:
                self.directory = tempfile.mkdtemp(prefix="replib-run-")
            os.makedirs(self.directory, exist_ok=True)
            self.router.start()
            for node in self.ids:
                self._spawn(node)
            waiting = set(self.ids)
            limit = time.monotonic() + timeout
            while True:
                waiting -= self.router.call(self.router.said_hello)
                if not waiting:
                    break
                self._check_processes()
                if time.monotonic() > limit:
                    raise RuntimeError(f"node(s) {sorted(waiting)} did not start within "
                                       f"{timeout:g} s (a machine this loaded? pass a longer "
                                       f"timeout to start)")
                time.sleep(POLL)
        except BaseException:
            self.close()
            raise
        self.epoch = time.monotonic()
        self.router.call(self.router.open, self.epoch)
        self.log.append(f"t={self.now:.1f}: started {', '.join(self.ids)}")
        return self

    def _spawn(self, node: str) -> None:
        self.incarnation[node] += 1
        incarnation = self.incarnation[node]
        config = NodeConfig(
            node=self.nodes[self.ids.index(node)], ids=self.ids, registry=self.registry,
            router=("127.0.0.1", self.router.port), port=self.ports.get(node, 0),
            token=self.token, incarnation=incarnation, seed=self.seed,
            time_unit=self.time_unit, deadline=self.deadline,
            disk_path=self.path(node, "disk"), events_path=self.path(node, "events"),
            fsync=self.fsync)
        self.router.call(self.router.expect, node, incarnation)
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(_import_path())
        stderr_path = self.path(node, "stderr")
        self._stderr_from[node] = os.path.getsize(stderr_path) if os.path.exists(stderr_path) \
            else 0
        with open(stderr_path, "ab") as stderr:
            proc = subprocess.Popen(
                [sys.executable, "-m", "replib.runtime"], stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL, stderr=stderr, env=env, start_new_session=True,
                close_fds=True)
        proc.stdin.write(config_bytes(config))
        proc.stdin.flush()                     # and keep it open: its closing stops the node
        self.processes[node] = proc
        _SPAWNED.append(proc)

    def kill(self, node: str) -> None:
        """kill -9 ``node``'s process (its whole process group): it loses everything but
        its disk.  Messages for it are dropped until it is restarted."""
        self._check_node(node)
        self._running()
        if node in self.killed:
            return
        proc = self.processes[node]
        _kill_group(proc)
        self.killed.add(node)
        self.router.call(self.router.kill, node)
        self.log.append(f"t={self.now:.1f}: kill -9 {node}")

    def restart(self, node: str, timeout: float = 30.0) -> None:
        """Start a new process for a killed ``node``: it reads its disk and runs
        ``on_restart``, as in the simulator.  Returns when it is up."""
        self._check_node(node)
        self._running()
        if node not in self.killed:
            raise ValueError(f"{node} is running; kill it before restarting it")
        self._spawn(node)
        event = self.router.welcomed[node]
        proc = self.processes[node]
        limit = time.monotonic() + timeout
        while not event.wait(POLL):
            self._check_processes()
            if proc.poll() is not None:
                raise RuntimeError(f"{node} could not restart (exit code {proc.returncode}): "
                                   f"{self._stderr(node)}")
            if time.monotonic() > limit:
                raise RuntimeError(f"{node} did not restart within {timeout:g} s; its stderr: "
                                   f"{self._stderr(node)}")
        self.killed.discard(node)
        self.log.append(f"t={self.now:.1f}: restarted {node}")

    # ---- the network ---------------------------------------------------------------------------
    def partition(self, *groups) -> None:
        """Split the nodes into groups (nodes in no group form one more), as in the simulator."""
        from ..faults import partition
        self.change_network([partition(*groups)])

    def cut(self, src: str, dst: str) -> None:
        """From now on ``dst`` receives nothing from ``src``."""
        from ..faults import cut
        self.change_network([cut(src, dst)])

    def heal(self) -> None:
        """Remove every partition and cut."""
        from ..faults import heal
        self.change_network([heal()])

    def change_network(self, faults) -> None:
        """Apply partitions, cuts and heals (``replib.faults``) at one instant: no message
        slips through between them (``run`` groups the ones due at the same time)."""
        self._running()
        groups = iter(self.router.call(self.router.change, list(faults)))
        for f in faults:
            what = f.describe().split(" at t=")[0]
            if f.kind == "partition":
                what = "partition " + " | ".join(",".join(g) for g in next(groups))
            self.log.append(f"t={self.now:.1f}: {what}")

    def set_network(self, **settings) -> None:
        """Change the network's ``loss``, ``duplicate`` or ``latency`` now."""
        self._running()
        self.router.call(lambda: self.router.set(**settings))

    def apply(self, fault: Fault) -> None:
        """Make a fault from ``replib.faults`` happen now (crash is kill -9)."""
        if not isinstance(fault, Fault):
            raise ValueError(f"apply() takes a fault from replib.faults, got {fault!r}")
        kind = fault.kind
        if kind == "crash":
            self.kill(fault.nodes[0])
        elif kind == "restart":
            self.restart(fault.nodes[0])
        elif kind in NETWORK_FAULTS:
            self.change_network([fault])
        else:
            raise ValueError(f"the runtime does not do {fault.describe()!r}: use the network's "
                             f"loss (set_network(loss=...)) instead of drop rules")

    # ---- time ----------------------------------------------------------------------------------
    @property
    def now(self) -> float:
        """Time since the start, in time units."""
        return 0.0 if self.epoch is None else (time.monotonic() - self.epoch) / self.time_unit

    def run(self, until: float, faults=(), stop_when=None, keep_gaps: bool = False) -> None:
        """Let the nodes run until time ``until`` (time units since the start), making each
        fault happen at its ``at=`` time (in order; one that is late happens at once).
        ``stop_when(cluster)``: stop early once it is true (checked every few ms).
        ``keep_gaps=True``: a fault that finishes late (a restart waits for its process,
        which takes longer on a loaded machine) pushes every later fault, and the end, back
        by as much, so the time between faults is what the schedule says, as a Jepsen
        nemesis sleeps between its steps."""
        self._running()
        if isinstance(until, bool) or not isinstance(until, (int, float)) or until < 0:
            raise ValueError(f"until must be a time >= 0 (in time units), got {until!r}")
        faults = list(faults)
        for f in faults:
            if not isinstance(f, Fault):
                raise ValueError(f"faults must come from replib.faults, got {f!r}")
            if f.at is None:
                raise ValueError(f"'{f.describe()}' has no at= time: the runtime has no global "
                                 f"state for when= conditions to read; give at= times")
        faults.sort(key=lambda f: f.at)
        lag = 0.0                              # time units the schedule has been pushed back
        end = self.epoch + until * self.time_unit
        if end > self.deadline:
            raise ValueError(f"until={until:g} goes past the cluster's hard deadline "
                             f"(max_seconds={self.max_seconds:g} from its creation)")
        while True:
            self._check_processes()
            while faults and faults[0].at + lag <= self.now:
                due = faults[0].at + lag
                self._apply_due(faults)
                if keep_gaps and self.now - due > LATE:
                    lag += self.now - due
                    end = min(self.epoch + (until + lag) * self.time_unit, self.deadline)
                    self.log.append(f"t={self.now:.1f}: that took {self.now - due:.1f}; "
                                    f"the rest of the schedule moves {lag:.1f} later")
            if stop_when is not None and stop_when(self):
                break
            left = end - time.monotonic()
            if left <= 0:
                break
            if faults:
                left = min(left, self.epoch + (faults[0].at + lag) * self.time_unit
                           - time.monotonic())
            time.sleep(max(0.0, min(POLL, left)))
        while faults:                          # due by the end: still happen, in order
            self._apply_due(faults)

    def _apply_due(self, faults: list) -> None:
        """Apply the first fault of the (sorted) list, with the network changes due at the
        same time as it in one go."""
        first = faults.pop(0)
        if first.kind not in NETWORK_FAULTS:
            self.apply(first)
            return
        batch = [first]
        while faults and faults[0].at == first.at and faults[0].kind in NETWORK_FAULTS:
            batch.append(faults.pop(0))
        self.change_network(batch)

    # ---- stopping ------------------------------------------------------------------------------
    def stop(self, grace: float = 1.0) -> None:
        """Stop every node process (close its stdin; kill -9 its group if it lingers) and the
        router.  Safe to call twice, and from ``atexit``."""
        if self.stopped:
            return
        self.stopped = True
        for proc in self.processes.values():
            try:
                proc.stdin.close()
            except OSError:
                pass
        limit = time.monotonic() + grace
        for proc in self.processes.values():
            try:
                proc.wait(timeout=max(0.0, limit - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
            _kill_group(proc)
        self.router.close()

    def close(self) -> None:
        """``stop``, then remove the run's directory (unless it was given or kept)."""
        self.stop()
        if self.own_directory and not self.keep_files and self.directory is not None:
            shutil.rmtree(self.directory, ignore_errors=True)
        _LIVE.discard(self)

    def __enter__(self) -> "Cluster":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()

    def __del__(self):
        try:
            self.close()
        except Exception:                      # noqa: BLE001 - interpreter shutting down
            pass

    def alive(self) -> list[int]:
        """The pids of this cluster's processes that are still running."""
        return [p.pid for p in self.processes.values() if p.poll() is None]

    # ---- what happened -------------------------------------------------------------------------
    def trace(self):
        """Everything that happened, as the simulator's ``Trace`` (times in time units)."""
        node_events = {n: read_events(self.path(n, "events"), self.registry) for n in self.ids}
        router = self.router.call(self.router.snapshot) if self._router_up() else \
            self.router.snapshot()
        nodes = self._fresh_nodes()
        return build_trace(nodes, node_events, router["events"], self.time_unit)

    def history(self) -> list:
        """The clients' operations (``replib.trace.Operation``), times in time units."""
        return self.trace().history()

    def responses(self) -> dict:
        """How many answers each node has recorded so far (clients: operations done); cheap
        enough to poll, e.g. ``run(until=..., stop_when=lambda c: ...)``."""
        out = {}
        for node in self.ids:
            try:
                with open(self.path(node, "events"), encoding="utf-8", errors="replace") as f:
                    out[node] = f.read().count(',"response",')
            except FileNotFoundError:
                out[node] = 0
        return out

    def disk(self, node: str):
        """A copy of ``node`` with the stable fields its disk holds now (volatile fields as
        built); e.g. ``cluster.disk("r1").log``.  While the nodes run, disks read one after
        the other are no consistent snapshot of the system: ``stop`` first to check one."""
        self._check_node(node)
        copy_ = self._fresh_nodes()[self.ids.index(node)]
        Disk(self.path(node, "disk"), node, self.registry).read(copy_)
        return copy_

    def disks(self) -> list:
        """Every node as its disk has it: what invariants over stable state can check."""
        return [self.disk(n) for n in self.ids]

    def stats(self) -> dict:
        """Messages forwarded and dropped by the router, and strays it ignored."""
        snap = self.router.call(self.router.snapshot) if self._router_up() else \
            self.router.snapshot()
        return {k: snap[k] for k in ("forwarded", "dropped", "strays")}

    # ---- helpers -------------------------------------------------------------------------------
    def _fresh_nodes(self) -> list:
        from ..sim import node_rng
        nodes = copy.deepcopy(self.nodes)
        for n in nodes:
            n._attach(self.ids, node_rng(self.seed, n.id))
        return nodes

    def _router_up(self) -> bool:
        return self.router.loop is not None and not self.router.loop.is_closed() and \
            self.router.loop.is_running()

    def _check_node(self, node) -> None:
        if node not in self.ids:
            raise ValueError(f"no node {node!r}; nodes are {list(self.ids)}")

    def _running(self) -> None:
        if not self.started:
            raise RuntimeError("start the cluster first (cluster.start(), or use it in a with "
                               "block)")
        if self.stopped:
            raise RuntimeError("this cluster was stopped; make a new Cluster to run again")
        if time.monotonic() > self.deadline:
            raise RuntimeError(f"the cluster's hard deadline (max_seconds={self.max_seconds:g}) "
                               f"has passed and its processes stopped by themselves")

    def _check_processes(self) -> None:
        """Raise if a node process we did not kill has exited."""
        for node, proc in self.processes.items():
            if node in self.killed:
                continue
            code = proc.poll()
            if code is not None:
                self.stop()
                raise RuntimeError(f"node {node} stopped unexpectedly (exit code {code}): "
                                   f"{self._stderr(node)}")

    def _stderr(self, node: str) -> str:
        """What the node's current process wrote to stderr (its last 2000 characters)."""
        try:
            with open(self.path(node, "stderr"), "rb") as f:
                f.seek(self._stderr_from.get(node, 0))
                text = f.read().decode("utf-8", errors="replace").strip()
        except FileNotFoundError:
            return "(nothing)"
        return text[-2000:] or "(nothing)"

    def __repr__(self):
        state = "stopped" if self.stopped else "running" if self.started else "not started"
        return (f"<Cluster {state}: {', '.join(self.ids)}, time unit {self.time_unit:g} s, "
                f"t={self.now:.1f}>")


def _kill_group(proc: subprocess.Popen) -> None:
    """kill -9 the process group ``proc`` leads, then reap ``proc``."""
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        pass
    if proc.stdin is not None:
        try:
            proc.stdin.close()
        except OSError:
            pass


def _import_path() -> list[str]:
    """What the node processes need on their path: where replib is, then our own path (so
    that node classes from a test module or a package import there too)."""
    here = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    out = [here]
    for p in sys.path:
        p = os.path.abspath(p or os.getcwd())
        if os.path.isdir(p) and p not in out:
            out.append(p)
    return out

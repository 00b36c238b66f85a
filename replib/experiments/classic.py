"""Chapter 08's measurements held against the two classic tables, cell by cell.

* Takada's message counts (*Distributed systems for fun and profit*, chapter 4): 1n async
  primary/backup, 2n sync primary/backup, 4n 2PC and Multi-Paxos, 6n 3PC and Paxos with
  repeated leader election.
* Barrett's table (*Transactions Across Datacenters*, Google I/O 2009): Backups,
  Master/Slave, Multi-Master, 2PC and Paxos, each rated for consistency, transactions,
  latency, throughput, data loss and failover.

Each cell gets a verdict computed from the measured values: "agrees", or "differs" with
the reason.  The measured word comes from a rule stated in ``RULES`` (a rule, not a
judgement made after looking); the reasons for a difference are written once, here, and
filled in with the measured numbers.  A difference without a written reason says so.
"""

from __future__ import annotations

from dataclasses import dataclass

from .compare import APPROACHES

__all__ = ["BARRETT", "BARRETT_COLUMNS", "RULES", "TAKADA", "Cell", "barrett_table",
           "takada_table", "text"]

#: Takada's taxonomy: approach -> k (k * n messages per operation with n replicas)
TAKADA = {a.name: a.taxonomy for a in APPROACHES.values() if a.taxonomy is not None}

#: Barrett's columns, and the approach of chapter 08 that stands for each
BARRETT_COLUMNS = {"Backups": "backups", "M/S": "async", "MM": "multi-master",
                   "2PC": "2pc", "Paxos": "multipaxos"}

#: Barrett's table, row by row (his words, lower case)
BARRETT = {
    "consistency": ("weak", "eventual", "eventual", "strong", "strong"),
    "transactions": ("no", "full", "local", "full", "full"),
    "latency": ("low", "low", "low", "high", "high"),
    "throughput": ("high", "high", "high", "low", "medium"),
    "data loss": ("lots", "some", "some", "none", "none"),
    "failover": ("down", "read only", "read/write", "read/write", "read/write"),
}

#: how each measured word is decided, from the comparison table and the crash sweep
RULES = {
    "consistency": "diverged if some run left two nodes' logs disagreeing after the heal; "
                   "else weak if some run lost an acknowledged write (counting a crashed "
                   "node's disk as gone); else eventual if some history is not "
                   "linearizable; else strong",
    "transactions": "full if every node applied the writes in one order in every run (no "
                    "diverged logs); local if some nodes applied them in different orders",
    "latency": "low if a write is answered after 0 message delays (before any other node "
               "has it); high if it waits for at least one round trip",
    "throughput": "high if its most writes per second are at least 1/2 of the best "
                  "approach's; medium if at least 1/4; low below",
    "data loss": "none if no crash time lost an acknowledged write (the crashed disk gone); "
                 "some if a crash lost at most 1; lots if a crash lost more",
    "failover": "what the probes could do after the leader's crash: down, read only "
                "(read-only) or read/write",
}

#: why a measured cell differs from Barrett's, keyed by (row, approach); the text is
#: formatted with the figures of ``_facts``
REASONS = {
    ("consistency", "async"):
        "Barrett's slaves apply everything the master wrote, in the end; here the primary "
        "crashes with an acknowledged write still on its way, a backup takes over without "
        "it, and the write is gone for good (at {async_lost} of {times} crash times)",
    ("consistency", "multi-master"):
        "Barrett's masters reconcile their copies (e.g. last writer wins, dropping one of "
        "two concurrent writes); these apply each other's writes in arrival order, with no "
        "merge rule, so their logs disagree for good ({mm_diverged} of {times} crash times)",
    ("transactions", "backups"):
        "the copy here is the primary's log, in its order, so a transaction done at the "
        "primary is copied whole; Barrett's \"no\": the backup itself runs no transaction, "
        "it is only a copy",
    ("failover", "async"):
        "failover here is automatic (epochs: a backup takes over), so writes go on; "
        "Barrett's master/slave fails over by hand and its slaves only answer reads until "
        "then (and the automatic failover lost a write at {async_lost} of {times} crash "
        "times)",
    ("failover", "2pc"):
        "clients here may only reach the coordinator, the one node that starts "
        "transactions; Barrett's read/write assumes that any datacenter can coordinate a "
        "transaction, so a crashed coordinator holds up only the transactions it ran",
}


@dataclass(frozen=True)
class Cell:
    """One cell: the classic value, the measured one, the verdict and why."""

    row: str
    column: str
    classic: str
    measured: str
    verdict: str          # "agrees" or "differs"
    why: str = ""


# ---- Takada ------------------------------------------------------------------------------

def _plural(k, word) -> str:
    return f"{k:g} {word}" + ("" if k == 1 else "s")


def takada_table(by_n: dict, piggyback: dict | None = None) -> list:
    """One Cell per approach: Takada's k * n beside the measured messages per write, for
    every n of ``by_n`` (n -> the ``compare`` Table for n replicas).  piggyback: n ->
    Multi-Paxos's messages per write between replicas with Decided carried by the next
    Accept (optional).  The verdict reads the measurement as rounds: a round is one
    message to every other node (n - 1 when the leader is itself a replica, n when the
    coordinator is a node of its own)."""
    ns = sorted(by_n)
    cells = []
    for name, k in TAKADA.items():
        rows = [by_n[n].row(name) for n in ns]
        label = APPROACHES[name].label
        commit = APPROACHES[name].family == "commit"
        others = [n if commit else n - 1 for n in ns]
        measured = [m.messages_per_op for m in rows]
        rounds = {m / o for m, o in zip(measured, others)}
        types = ", ".join(rows[0].messages_by_type)
        classic = ", ".join(f"{k * n}" for n in ns)
        shown = ", ".join(f"{m:g}" for m in measured)
        column = f"{k}n"
        if measured == [k * n for n in ns]:
            cells.append(Cell(label, column, classic, shown, "agrees",
                              f"{_plural(k, 'round')} ({types}) to all n participants"))
            continue
        if len(rounds) != 1:
            cells.append(Cell(label, column, classic, shown, "differs",
                              "not a whole number of rounds at every n"))
            continue
        r = rounds.pop()
        why = (f"{_plural(r, 'round')} ({types}), each to the n - 1 other replicas: the "
               f"leader is one of the n and sends itself nothing over the network")
        if r != k:
            why += f"; the taxonomy counts {_plural(k, 'round')}"
        if name == "multipaxos" and piggyback:
            pig = [piggyback[n] for n in ns]
            why += (f"; with Decided carried by the next Accept, "
                    f"{', '.join(f'{x:g}' for x in pig)} "
                    f"({_plural(pig[0] / others[0], 'round')})")
        cells.append(Cell(label, column, classic, shown, "differs", why))
    return cells


# ---- Barrett -----------------------------------------------------------------------------

def _runs(name, table, sweep) -> list:
    m = table.row(name)
    return [f for f in (m.crash_run, m.partition_run) if f is not None] + sweep.runs[name]


def _measured(row, name, table, sweep) -> str:
    m = table.row(name)
    runs = _runs(name, table, sweep)
    if row in ("consistency", "transactions"):
        diverged = any(f.diverged for f in runs)
        if row == "transactions":
            return "local" if diverged else "full"
        if diverged:
            return "diverged"
        if any(f.lost or f.lost_while_down for f in runs):
            return "weak"
        return "strong" if m.linearizable and all(f.linearizable for f in runs) else "eventual"
    if row == "latency":
        return "low" if m.delays == 0 else "high"
    if row == "throughput":
        best = max(r.throughput for r in table.rows if r.available)
        share = m.throughput / best
        return "high" if share >= 0.5 else "medium" if share >= 0.25 else "low"
    if row == "data loss":
        worst = max(f.lost_while_down for f in sweep.runs[name])
        return "none" if worst == 0 else "some" if worst <= 1 else "lots"
    return {"read-only": "read only"}.get(m.after_crash, m.after_crash)


def _facts(table, sweep) -> dict:
    def count(name, what):
        return sweep.count(name, what) if name in sweep.runs else "?"
    return {"times": len(sweep.times),
            "async_lost": count("async", lambda f: f.lost_while_down),
            "mm_diverged": count("multi-master", lambda f: f.diverged)}


def barrett_table(table, sweep) -> list:
    """One Cell per row and column of Barrett's table: his word, the measured word (by
    ``RULES``) and the verdict.  table: ``compare()``'s Table (every approach of
    BARRETT_COLUMNS, crash and partition runs included); sweep: ``crash_sweep()``."""
    facts = _facts(table, sweep)
    cells = []
    for row, words in BARRETT.items():
        for (column, name), classic in zip(BARRETT_COLUMNS.items(), words):
            measured = _measured(row, name, table, sweep)
            if measured == classic:
                cells.append(Cell(row, column, classic, measured, "agrees"))
                continue
            reason = REASONS.get((row, name))
            why = reason.format(**facts) if reason else "no reason written for this difference"
            cells.append(Cell(row, column, classic, measured, "differs", why))
    return cells


def text(cells, classic_name: str = "classic") -> str:
    """The cells as a table, one line per cell (row, column, classic, measured, verdict),
    then the reason of every difference, numbered."""
    lines, notes = [], []
    width = max(len(c.row) for c in cells)
    value = max(len(x) for c in cells for x in (c.classic, c.measured))
    for c in cells:
        mark = "agrees"
        if c.verdict != "agrees":
            notes.append(f"({len(notes) + 1}) {c.row}, {c.column}: {c.why}")
            mark = f"differs ({len(notes)})"
        lines.append(f"{c.row:<{width}}  {c.column:<7}  {classic_name} {c.classic:<{value}}  "
                     f"measured {c.measured:<{value}}  {mark}")
    return "\n".join(lines + ([""] + notes if notes else []))

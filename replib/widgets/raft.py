"""Chapter 10's widgets: Raft with you as the network (``RaftNetwork``), and the
RaftScope-like state table the trace player shows under its diagram (``raft_state_html``).

``RaftNetwork`` is chapter 05's game (``network.NetworkGame``) on Raft servers: deliver,
drop or duplicate any message, make a server time out (it stands for the next term), crash
and restart servers (they keep ``current_term``, ``voted_for`` and ``log`` on disk).  The
indicator checks the paper's five safety properties after every action.  Start from
scratch with one client write, or from the disks of the paper's figure 8; pass
``server=raft_mutants.CommitsEarlierTerms`` to play the figure-8 bug yourself.
"""

from __future__ import annotations

import html

from ..actions import Fire
from ..clients import RequestTimeout
from ..protocols.raft import (
    RAFT_INVARIANTS,
    ElectionTimeout,
    RaftServer,
    committed,
    figure8_start,
    raft_system,
    raft_table,
)
from ..validate import subclass_of
from ..viz.palette import TINTS
from .network import NetworkGame

STARTS = ("fresh", "figure 8")

HELP = (
    "<b>You are the network (Raft).</b> Nothing happens unless you make it happen: pick an "
    "action and press a button. <b>Deliver</b> hands a message to its receiver and leaves it "
    "in flight (deliver it again to duplicate it); <b>Drop</b> loses it for good; any order "
    "goes. <i>s1 times out</i> makes a server stand for the next term (a follower whose "
    "leader went quiet, or a candidate whose vote split). Servers may crash and restart "
    "from their disks. <b>Undo</b> takes back your last action; <b>Reset</b> starts over.<br>"
    "<b>The challenge:</b> make a server apply an entry that another server applied "
    "differently, or elect two leaders in one term.")


def _bold(text: str, changed: bool) -> str:
    return f"<b>{text}</b>" if changed else text


def _log_cells(log, before=None) -> str:
    """A log as table cells, one per entry, tinted by term (as RaftScope colours them);
    entries not in ``before`` at the same index in bold."""
    if not log:
        return "<td style='color:#777'>(empty)</td>"
    return "".join(
        f"<td style='background:{TINTS[(term - 1) % len(TINTS)]}40;border:1px solid #999;"
        f"padding:0 4px'>"
        f"{_bold(f'{term}:{html.escape(command)}', before is not None and (before[i:i + 1] != [(term, command)]))}"
        f"</td>" for i, (term, command) in enumerate(log))


def raft_rows_html(rows, before=None, caption: str = "") -> str:
    """``raft_table`` rows as an HTML table: server, term, role, vote, commit, the log.
    before: the rows of the step before; what changed since is in bold.  caption: a line
    above the table (the player says which step it shows)."""
    was = {r["server"]: r for r in before or ()}
    head = ("<tr><th>server</th><th>term</th><th>role</th><th>voted for</th>"
            "<th>commit</th><th style='text-align:left'>log (term:command)</th></tr>")
    body = []
    for r in rows:
        old = was.get(r["server"])

        def cell(key, text):
            return f"<td>{_bold(html.escape(text), old is not None and old[key] != r[key])}</td>"
        body.append(f"<tr><td><b>{html.escape(r['server'])}</b></td>{cell('term', str(r['term']))}"
                    f"{cell('role', r['role'])}{cell('voted for', str(r['voted for'] or '-'))}"
                    f"{cell('commit', str(r['commit']))}<td><table><tr>"
                    f"{_log_cells(r['log'], None if old is None else old['log'])}"
                    f"</tr></table></td></tr>")
    top = f"<caption style='text-align:left'>{html.escape(caption)}</caption>" if caption else ""
    return (f"<table style='font-family:monospace;font-size:13px'>{top}{head}{''.join(body)}"
            f"</table>")


def raft_state_html(trace, step: int) -> str:
    """The player's ``states`` function for Raft runs: the servers just after ``step``, what
    the step changed in bold."""
    before = raft_table(trace.states_at(step - 1)) if step > 0 else None
    when = trace.step_events(step)[0].time
    return raft_rows_html(raft_table(trace.states_at(step)), before,
                          f"The servers after step {step} (t = {round(when, 2):g}); changes in bold")


class RaftNetwork(NetworkGame):
    """Raft with you as the network.  start: "fresh" (servers from scratch, client c1
    writing x=1, retrying at the next server on its timeout) or "figure 8" (the disks of
    the paper's figure 8 (b), ``figure8_start``).  servers: how many (fresh only).
    server: a RaftServer subclass to play against (a broken rule from ``raft_mutants``)."""

    HELP = HELP
    NAME = "You are the network (Raft)"

    def __init__(self, start: str = "fresh", servers: int = 3, server=RaftServer):
        if start not in STARTS:
            raise ValueError(f"start must be one of {', '.join(map(repr, STARTS))}, "
                             f"got {start!r}")
        cls = subclass_of("server", server, RaftServer)
        if start == "fresh":
            nodes = raft_system(servers, 1, [("write", "x", 1)], heartbeat=None, server=cls)
        else:
            nodes = figure8_start(cls)
        super().__init__(nodes, [n.id for n in nodes if isinstance(n, RaftServer)])

    def _timer_label(self, action: Fire) -> str:
        node, timer = self.sim.node(action.node), action.timer
        if isinstance(timer, ElectionTimeout):
            return f"{node.id} times out: stands for term {node.current_term + 1}"
        if isinstance(timer, RequestTimeout):
            return f"{node.id} times out: tries the next server"
        return super()._timer_label(action)

    def violated(self) -> list:
        """The names of the safety properties the current state breaks."""
        return [name for name, ok in RAFT_INVARIANTS.items() if not ok(self.sim)]

    def broken(self) -> bool:
        return bool(self.violated())

    def status(self) -> str:
        bad = self.violated()
        if bad:
            return "SAFETY BROKEN: " + ", ".join(bad)
        rows = raft_table(self.sim)
        leaders = [f"{r['server']} leads term {r['term']}" for r in rows if r["role"] == "leader"]
        done = sorted({(i, e) for i, e, _ in committed(self.sim)})
        applied = ", ".join(f"index {i} = term {e[0]}" for i, e in done) or "nothing"
        return (f"Safety holds: {'; '.join(leaders) or 'no leader'}; applied somewhere: "
                f"{applied}")

    def state_rows(self) -> list:
        out = []
        for r in raft_table(self.sim):
            log = " ".join(f"{t}:{c}" for t, c in r["log"]) or "(empty)"
            out.append((r["server"], r["role"], f"term {r['term']}; voted for "
                        f"{r['voted for'] or '-'}; commit {r['commit']}; log {log}"))
        return out


def played(actions, start: str = "figure 8", server=RaftServer) -> RaftNetwork:
    """A game after these actions (e.g. a checker path's ``actions``), done one by one as the
    buttons do them: to read its indicator (``status()``) without clicking."""
    game = RaftNetwork(start, server=server)
    for action in actions:
        if not game.do(action):
            raise ValueError(f"{action} could not be played: {html.unescape(game.message.value)}")
    return game

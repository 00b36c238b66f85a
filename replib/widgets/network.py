"""Chapter 05's "you are the network": deliver, drop and duplicate Paxos messages by hand,
crash and restart acceptors, start proposers, and try to make two values chosen.
(``NetworkGame`` is the machinery without Paxos; chapter 10's Raft game,
``widgets.raft.RaftNetwork``, is another subclass.)

The widget wraps a controlled ``Simulation`` of ``paxos_system`` (three acceptors, two
proposers, one learner by default).  Nothing happens on its own: the list shows every
action enabled now, in words (messages in flight first, then timers, then crashes and
restarts), and the buttons do the selected one.  After each action the agreement line, the
table of node states and the space-time diagram are redrawn.

The network is the one the checker (``replib.check``) explores, ``Controls(drop=True,
duplicate=True, ...)``: it holds a *set* of messages.  Delivering a message leaves it in
flight, so delivering it again is how you duplicate it; Drop removes it for good; sending a
message identical to one already in flight adds nothing.  Any in-flight message may go
next (reordering), and a timer may fire at any moment (a timeout says nothing about
whether a message is on its way).

Every button calls a plain method (``do``, ``undo``, ``reset``), so the behaviour is tested
with pytest; an action that is no longer enabled, or a handler that fails in a variant
class, is reported in the widget instead of raised.
"""

from __future__ import annotations

import html
from types import SimpleNamespace

import ipywidgets as widgets

from ..actions import Controls, Crash, Deliver, Drop, Fire, Restart
from ..node import HandlerError
from ..protocols import paxos
from ..protocols.paxos import (
    Acceptor,
    Backoff,
    Learner,
    Proposer,
    RetryTimeout,
    paxos_system,
)
from ..sim import Simulation
from ..validate import whole_number
from ..viz import space_time
from ..viz.palette import BLUISH_GREEN, VERMILLION
from ..viz.sequence import short_label
from .replication import _img

MAX_CRASHES = 1000     # "as many as you like": the checker needs a number
MAX_ACCEPTORS, MAX_PROPOSERS = 9, 5    # more would make a list of actions nobody can read
LIST_ROWS = 10

HELP = (
    "<b>You are the network.</b> Nothing happens unless you make it happen: pick an action "
    "in the list and press a button. <b>Deliver</b> hands a message to its receiver; the "
    "message <i>stays in flight</i>, so delivering it again duplicates it (the network "
    "holds a set of messages, exactly as the checker explores it: a message identical to "
    "one already in flight adds nothing). <b>Drop</b> loses it for good. Messages may be "
    "delivered in any order. Timers may fire at any time: <i>p1 starts</i> lets a proposer "
    "begin, <i>p1 times out</i> makes it give up its ballot and try a higher one. Acceptors "
    "may crash and restart (they keep <code>promised</code> and <code>accepted</code> on "
    "disk). <b>Undo</b> takes back your last action; <b>Reset</b> starts over.<br>"
    "<b>The challenge:</b> make two different values chosen.")


def chosen_values(nodes) -> set:
    """Every value chosen so far among these live nodes: a (number, value) accepted by a
    phase-2 quorum of acceptors, read from their ``votes``.  The very rule of
    ``paxos.chosen`` (which it calls), applied to node objects instead of a checker state."""
    return paxos.chosen(SimpleNamespace(nodes=tuple(nodes)))


def _text(value) -> str:
    """A field's value as short text: None as a dash, strings unquoted."""
    if value is None:
        return "—"
    if isinstance(value, str):
        return value
    if isinstance(value, tuple):
        return "(" + ", ".join(_text(v) for v in value) + ")"
    return str(value)


def _values_text(values) -> str:
    names = [_text(v) for v in values]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


class NetworkGame:
    """The machinery of "you are the network", for any system of nodes: a controlled
    ``Simulation`` with the checker's network, a list of the enabled actions, buttons that
    do, drop, undo and reset, an indicator, a table of node states and a diagram.  A
    subclass says what the nodes are (``__init__`` passes them here), how timers read
    (``_timer_label``), what the indicator says (``status``, ``broken``) and what the table
    shows (``state_rows``)."""

    HELP = ""
    NAME = "You are the network"

    def __init__(self, nodes, crashable):
        self.controls = Controls(drop=True, duplicate=True, max_crashes=MAX_CRASHES,
                                 crashable=tuple(crashable), restart=True)
        self.sim = Simulation(nodes, controls=self.controls)
        self._start = self.sim.steps        # the nodes' start steps: undo stops here
        self._entries = []

        self.help = widgets.HTML(self.HELP)
        self.status_line = widgets.HTML()
        self.list = widgets.Select(options=[], rows=LIST_ROWS, description="",
                                   layout=widgets.Layout(width="30em"))
        self.go = widgets.Button(description="Deliver", tooltip="do the selected action",
                                 button_style="primary")
        self.drop = widgets.Button(description="Drop", tooltip="lose the selected message")
        self.undo_button = widgets.Button(description="Undo", tooltip="take back the last action")
        self.reset_button = widgets.Button(description="Reset", tooltip="start over")
        self.go.on_click(lambda _: self.do_selected())
        self.drop.on_click(lambda _: self.do_selected(drop=True))
        self.undo_button.on_click(lambda _: self.undo())
        self.reset_button.on_click(lambda _: self.reset())
        self.list.observe(lambda _: self._sync_buttons(), names="value")
        self.message = widgets.HTML()
        self.table = widgets.HTML()
        self.diagram = widgets.HTML()
        self.widget = widgets.VBox([
            self.help, self.status_line,
            widgets.HBox([self.list, widgets.VBox([self.go, self.drop, self.undo_button,
                                                   self.reset_button])]),
            self.message, self.table, self.diagram])
        self.refresh()

    # ---- what a subclass says about its system --------------------------------------------
    def status(self) -> str:
        """The indicator, as text."""
        raise NotImplementedError

    def broken(self) -> bool:
        """Whether the indicator shows a broken property (red)."""
        raise NotImplementedError

    def state_rows(self) -> list:
        """(node, role, what it holds) for the table."""
        raise NotImplementedError

    def _timer_label(self, action: Fire) -> str:
        return f"{action.node}: timer {short_label(action.timer, limit=40)} fires"

    # ---- what the list shows ------------------------------------------------------------
    def actions(self) -> list:
        """(label, action) for everything that may happen next: messages in flight (in the
        order they were sent), then timers, then crashes and restarts.  A message's action
        is its Deliver, or its Drop when the receiver is down (then it can only be dropped:
        "drop Prepare(2) p1→a1 (a1 is down)")."""
        enabled = self.sim.enabled()
        messages, timers, faults = [], [], []
        seen = set()
        for a in enabled:
            if isinstance(a, (Deliver, Drop)):
                key = (a.src, a.dst, a.msg)
                if key in seen:
                    continue
                seen.add(key)
                down = a.dst in self.sim.crashed
                action = Drop(*key) if down else Deliver(*key)
                messages.append((self._message_label(action), action))
            elif isinstance(a, Fire):
                timers.append((self._timer_label(a), a))
            else:
                faults.append((str(a), a))
        return messages + timers + faults

    def _message_label(self, action) -> str:
        what = f"{short_label(action.msg, action.src, action.dst, limit=60)} " \
               f"{action.src}→{action.dst}"
        if isinstance(action, Drop):
            return f"drop {what} ({action.dst} is down)"
        return f"deliver {what}"

    # ---- what the buttons call ------------------------------------------------------------
    def do(self, choice, drop: bool = False) -> bool:
        """Do an action: ``choice`` is an index into ``actions()``, a label from it, or an
        action object (Deliver, Drop, Fire, Crash, Restart, e.g. from a checker path).
        drop=True loses the chosen message instead of delivering it.  Returns whether
        something happened; if not, the widget says why."""
        try:
            action = self._resolve(choice, drop)
            before = self.sim.steps
            try:
                self.sim.perform(action)
            except HandlerError as exc:
                self.sim.rewind(before)          # forget the half-done step
                raise ValueError(f"{exc} (the step was taken back)") from None
        except ValueError as exc:
            self._say(str(exc))
            return False
        self.refresh()
        return True

    def _resolve(self, choice, drop):
        entries = self.actions()
        if isinstance(choice, (Deliver, Drop, Fire, Crash, Restart)):
            if drop and isinstance(choice, Deliver):
                choice = Drop(choice.src, choice.dst, choice.msg)
            if isinstance(choice, Deliver) and choice.dst in self.sim.crashed and \
                    (choice.src, choice.dst, choice.msg) in self.sim.in_flight():
                raise ValueError(f"{choice.dst} is down, so it cannot receive "
                                 f"{short_label(choice.msg, limit=60)}; drop the message, or "
                                 f"restart {choice.dst} first")
            if choice not in self.sim.enabled():
                raise ValueError(f"'{choice}' is not enabled now (it may have happened "
                                 f"already); pick one from the list")
            return choice
        if isinstance(choice, bool) or not isinstance(choice, (int, str)):
            raise ValueError(f"choose an action by its number in the list, its label, or an "
                             f"action object; got {choice!r}")
        if isinstance(choice, int):
            if not 0 <= choice < len(entries):
                raise ValueError(f"there is no action number {choice}: the list has "
                                 f"{len(entries)} (0 to {len(entries) - 1})")
            label, action = entries[choice]
        else:
            found = [a for lab, a in entries if lab == choice]
            if not found:
                raise ValueError(f"'{choice}' is not enabled now (it may have happened "
                                 f"already, or its receiver is down); pick one from the list")
            label, action = choice, found[0]
        if drop and not isinstance(action, (Deliver, Drop)):
            raise ValueError(f"only messages can be dropped; '{label}' is not a message")
        if drop:
            return Drop(action.src, action.dst, action.msg)
        return action      # a message to a node that is down: its entry is its Drop

    def do_selected(self, drop: bool = False) -> bool:
        """What Deliver / Do it (and Drop, with drop=True) do: the action selected in the list."""
        if self.list.value is None:
            self._say("pick an action in the list first")
            return False
        return self.do(self.list.value, drop=drop)

    def undo(self) -> bool:
        """Take back the last action (the run is replayed without it)."""
        if self.sim.steps <= self._start:
            self._say("nothing to undo: you have not done anything yet")
            return False
        self.sim.rewind(self.sim.steps - 1)
        self.refresh()
        return True

    def reset(self) -> None:
        """Start over: every node as at the start, nothing in flight but the start's messages."""
        self.sim.rewind(self._start)
        self.refresh()

    # ---- what the reader sees -------------------------------------------------------------
    def performed(self) -> int:
        """How many actions you have done (undo takes one back)."""
        return self.sim.steps - self._start

    def refresh(self) -> None:
        """Redraw everything from the simulation: list, buttons, status, table, diagram."""
        self.message.value = ""
        previous = None
        if self.list.value is not None and self.list.value < len(self._entries):
            previous = self._entries[self.list.value][0]
        self._entries = self.actions()
        labels = [label for label, _ in self._entries]
        self.list.options = [(label, i) for i, label in enumerate(labels)]
        self.list.value = labels.index(previous) if previous in labels else (0 if labels else None)
        self._sync_buttons()
        self.undo_button.disabled = self.performed() == 0
        text = self.status()
        colour = VERMILLION if self.broken() else BLUISH_GREEN
        mark = "⚠ " if self.broken() else "✓ "
        self.status_line.value = (f"<b style='color:{colour};font-size:14pt'>{mark}"
                                  f"{html.escape(text)}</b>")
        self.table.value = self._table_html()
        self.diagram.value = self._diagram_html(text)

    def _sync_buttons(self) -> None:
        """Deliver for a message, Do it for anything else; Drop only for messages."""
        value = self.list.value
        action = self._entries[value][1] if value is not None and value < len(self._entries) \
            else None
        message = isinstance(action, (Deliver, Drop))
        self.go.description = "Deliver" if message or action is None else "Do it"
        self.go.disabled = action is None or isinstance(action, Drop)
        self.drop.disabled = not message

    def _table_html(self) -> str:
        cells = "".join(
            f"<tr><td style='text-align:left;padding-right:1em'><b>{html.escape(n)}</b></td>"
            f"<td style='text-align:left;padding-right:1em'>{html.escape(role)}</td>"
            f"<td style='text-align:left'>{html.escape(text)}</td></tr>"
            for n, role, text in self.state_rows())
        return f"<table style='font-family:monospace;font-size:15px'>{cells}</table>"

    def _diagram_html(self, status: str) -> str:
        n = self.performed()
        title = f"Your run so far: {n} action{'s' if n != 1 else ''}"
        fig = space_time(self.sim.trace, title=title,
                         highlight=self.sim.steps - 1 if n else None)
        fig.alt_text = f"{title}. {status}. {fig.alt_text}"
        return _img(fig)

    def _say(self, text: str) -> None:
        self.message.value = f"<span style='color:#b00'>⚠ {html.escape(text)}</span>"

    def _repr_mimebundle_(self, **kwargs):
        bundle = self.widget._repr_mimebundle_(**kwargs)
        bundle["text/plain"] = f"{self.NAME}: run this cell in Jupyter to use it."
        return bundle


class YouAreTheNetwork(NetworkGame):
    """Paxos with you as the network: deliver, drop or duplicate any message in flight,
    fire timers, crash and restart acceptors.  Can you make two values chosen?

    acceptors, proposers, values, max_ballots: as for ``paxos_system`` (max_ballots None:
    proposers never run out of numbers).  proposer, acceptor: classes to use instead of
    Paxos's own (a variant to attack)."""

    HELP = HELP
    NAME = "You are the network (Paxos)"

    def __init__(self, acceptors: int = 3, proposers: int = 2, values=None,
                 proposer=Proposer, acceptor=Acceptor, max_ballots: int | None = None):
        whole_number("acceptors", acceptors, 1, MAX_ACCEPTORS)   # a list you can read
        whole_number("proposers", proposers, 1, MAX_PROPOSERS)
        nodes = paxos_system(acceptors=acceptors, proposers=proposers, learners=1,
                             values=values, max_ballots=max_ballots,
                             start_after=[0] * proposers, acceptor=acceptor, proposer=proposer)
        super().__init__(nodes, [n.id for n in nodes if isinstance(n, Acceptor)])

    def _timer_label(self, action: Fire) -> str:
        node, timer = self.sim.node(action.node), action.timer
        if isinstance(timer, Backoff) and isinstance(node, Proposer):
            return f"{node.id} starts" if node.tries == 0 else f"{node.id} starts again"
        if isinstance(timer, RetryTimeout):
            return f"{node.id} times out on ballot {_text(timer.ballot)}"
        return f"{node.id}: timer {short_label(timer, limit=40)} fires"

    def chosen(self) -> set:
        """Every value chosen so far (by a majority of acceptors under one number)."""
        return chosen_values(self.sim.nodes.values())

    def status(self) -> str:
        """The agreement indicator, as text."""
        values = sorted(self.chosen(), key=repr)
        if not values:
            return "Agreement holds: nothing chosen yet"
        if len(values) == 1:
            return f"Agreement holds: chosen: {_text(values[0])}"
        both = "both" if len(values) == 2 else "all"
        return f"AGREEMENT BROKEN: {_values_text(values)} {both} chosen"

    def broken(self) -> bool:
        return len(self.chosen()) > 1

    def state_rows(self) -> list:
        """(node, role, what it holds) for the table, in the system's order."""
        rows = []
        for node in self.sim.nodes.values():
            if isinstance(node, Acceptor):
                role = "acceptor"
                text = f"promised {_text(node.promised)}; accepted {_text(node.accepted)}"
            elif isinstance(node, Proposer):
                role = "proposer"
                text = (f"wants {_text(node.value)}; ballot {_text(node.ballot)}; "
                        f"phase {node.phase}")
            elif isinstance(node, Learner):
                role = "learner"
                text = f"learned {_text(node.learned)}"
            else:
                role, text = type(node).__name__, ""
            if node.id in self.sim.crashed:
                text = "(crashed) " + text
            rows.append((node.id, role, text))
        return rows

"""Chapter 01's explorer, driven through the methods its controls call."""

from replib.widgets.replication import ReplicationExplorer


def test_explorer_draws_and_summarises():
    """It opens with a latency plot, a diagram and a one-line summary of the chosen mode."""
    e = ReplicationExplorer(backups=2, mode="sync", writes=30)
    assert e.summary.value.startswith("<b>sync</b> with 2 backup(s): median write latency")
    assert "2 per backup" in e.summary.value
    assert e.plot.value.startswith("<img") and "Cumulative latency distributions" in e.plot.value
    assert "Space-time diagram" in e.diagram.value


def test_explorer_reports_a_bad_k_and_keeps_the_last_picture():
    """k larger than the backups is explained in the panel; the old plot stays."""
    e = ReplicationExplorer(backups=2, mode="semi-sync", k=1, writes=30)
    plot = e.plot.value
    e.k.value = 5
    assert "k, the acks to wait for" in e.message.value and e.plot.value == plot
    e.k.value = 2
    assert e.message.value == "" and "semi-sync k=2" in e.summary.value


def test_explorer_crash_changes_the_diagram():
    """Choosing a crash re-runs the small run with it: the diagram's text mentions it."""
    e = ReplicationExplorer(backups=2, mode="async", writes=30)
    before = e.diagram.value
    e.fault.value = "crash primary"
    assert e.diagram.value != before and "primary crashed at t=6" in e.diagram.value
    assert "acknowledged write(s) lost" in e.outcome.value


def test_explorer_partition_and_failover():
    """A partition that cuts the primary off, with naive failover, leaves two primaries at
    the end; with epochs the old primary steps down after the heal; a heal before the
    partition is refused with a message."""
    e = ReplicationExplorer(backups=2, mode="async", writes=30)
    e.failover.value = "naive"
    e.fault.value = "partition primary"
    assert "partitioned at t=6" in e.diagram.value
    assert "acting as primary at the end: primary, b1." in e.outcome.value
    e.failover.value = "epochs"
    assert "acting as primary at the end: b1." in e.outcome.value
    e.heal_at.value = 3.0
    assert "must come after the partition" in e.message.value


def test_explorer_tail_slider_changes_the_latencies():
    """A heavier long tail moves the 99th percentile; the constant model ignores the tail."""
    e = ReplicationExplorer(backups=2, mode="sync", writes=60)
    before = e.summary.value
    e.tail.value = 1.4
    assert e.summary.value != before
    e.latency.value = "constant"
    constant = e.summary.value
    e.tail.value = 0.2
    assert e.summary.value == constant and "median write latency 4.00" in constant

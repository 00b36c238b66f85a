"""Chapter 02's explorer, driven through the methods its controls call."""

from replib.widgets.primary_backup import PrimaryBackupExplorer


def test_naive_failover_splits_the_brain_and_epochs_do_not():
    """The default (b1 and c2 cut off, naive failover) ends with two primaries in epoch 1 and
    diverged logs; with epochs, one primary per epoch; with the pre-vote, the healthy primary
    is never deposed."""
    e = PrimaryBackupExplorer()
    assert "<b>split brain</b>" in e.outcome.value
    assert "acting as primary at the end: primary, b1." in e.outcome.value
    assert "Diverged logs: none" not in e.outcome.value
    e.failover.value = "epochs"
    assert "split brain" not in e.outcome.value and "Diverged logs: none" in e.outcome.value
    assert "Primaries by epoch: {1: ['primary'], 3: ['b1']}" in e.outcome.value
    e.failover.value = "epochs + pre-vote"
    assert "Primaries by epoch: {1: ['primary']}" in e.outcome.value
    assert e.diagram.value.startswith("<img")


def test_a_heal_before_the_partition_is_refused_and_the_picture_stays():
    e = PrimaryBackupExplorer()
    picture = e.diagram.value
    e.end.value = 2.0
    assert "must come after the partition starts" in e.message.value
    assert e.diagram.value == picture
    e.end.value = 12.0
    assert e.message.value == ""


def test_the_minority_primary_keeps_answering():
    """Cutting the primary and c1 off: with epochs, c1's writes are still acknowledged by
    the old primary, and the history that results is checked for linearizability."""
    e = PrimaryBackupExplorer(failover="epochs", side="primary and c1 cut off", end=25.0)
    assert "linearizable" in e.outcome.value

"""Exercise checks, one module per chapter topic; ``exercises.check_...`` in the notebooks.

Every check prints one line: "Correct! ..." or "Not yet: <a hint>", and never raises
(``core.exercise``).  Shared answer parsing lives in ``core``.
"""

from .core import (HINT, SUCCESS, Hint, exercise)
from .start_here import (check_first_reply_time, check_replica_log_after_restart,
    check_unacknowledged_write)
from .sync_async import (check_sync_latency, check_async_loss,
    check_sync_writes_with_backup_down, check_async_loss_prediction, check_sync_messages)
from .primary_backup import (check_split_brain_prediction, check_fencing, check_missing_write,
    check_linearizable_prediction)
from .commit import (check_block_prediction, HASTY_SCHEDULE, check_hasty_schedule,
    check_patient_participant, check_majority_counterexample, check_crash_point_prediction)
from .partitions import (check_active_side, check_smallest_safe_q2, check_safe_but_stuck)
from .paxos import (ACCEPTOR_IDS, prediction_schedule, run_prediction_schedule,
    check_chosen_prediction, CHOOSE_VALUE_CASES, check_choose_value, check_fixed_acceptor)
from .livelock import (check_livelock_steps, check_livelock_schedule)
from .proposal_numbers import (check_chubby_next, check_next_number_prediction,
    check_naive_safety_prediction, check_disagreeing_n)
from .comparing import (check_multipaxos_messages, check_keeps_writing,
    check_noop_prediction, check_fill_gaps)
from .reads import check_lease_expiry, check_stale_read_prediction
from .raft import (ELECTION_LOGS, check_who_can_win, check_vote_rule, check_commit_rule,
    check_refusal_prediction)

__all__ = [
    "HINT", "SUCCESS", "Hint", "exercise", "check_first_reply_time",
    "check_replica_log_after_restart", "check_unacknowledged_write", "check_sync_latency",
    "check_async_loss", "check_sync_writes_with_backup_down", "check_async_loss_prediction",
    "check_sync_messages", "check_split_brain_prediction", "check_fencing",
    "check_missing_write", "check_linearizable_prediction", "check_block_prediction",
    "HASTY_SCHEDULE", "check_hasty_schedule", "check_patient_participant",
    "check_majority_counterexample", "check_crash_point_prediction", "check_active_side", "check_smallest_safe_q2",
    "check_safe_but_stuck", "ACCEPTOR_IDS", "prediction_schedule", "run_prediction_schedule",
    "check_chosen_prediction", "CHOOSE_VALUE_CASES", "check_choose_value",
    "check_fixed_acceptor", "check_livelock_steps", "check_livelock_schedule",
    "check_chubby_next", "check_next_number_prediction", "check_naive_safety_prediction",
    "check_disagreeing_n", "check_multipaxos_messages", "check_keeps_writing",
    "check_noop_prediction", "check_fill_gaps", "check_lease_expiry",
    "check_stale_read_prediction", "ELECTION_LOGS", "check_who_can_win",
    "check_vote_rule", "check_commit_rule", "check_refusal_prediction",
]
from .practice import (check_snapshot_deletions, check_failover_prediction,  # noqa: E402
    check_one_at_a_time_prediction, check_catch_up_prediction, check_stale_disk_prediction)
__all__ += ["check_snapshot_deletions", "check_failover_prediction",
            "check_one_at_a_time_prediction", "check_catch_up_prediction",
            "check_stale_disk_prediction"]

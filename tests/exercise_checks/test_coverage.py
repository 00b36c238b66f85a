"""Every exercise check has its table, and every table tries enough answers of each kind:
at least two right answers written differently, three near-miss wrong answers and two
malformed ones; a check that runs the reader's code also meets code that raises and code
that never ends."""

import importlib
import pkgutil

from replib import exercises

from . import __path__ as here

CODE_CHECKS = {"check_fencing", "check_patient_participant", "check_choose_value",
               "check_fixed_acceptor", "check_chubby_next", "check_fill_gaps",
               "check_vote_rule", "check_commit_rule"}


def all_cases() -> dict:
    cases = {}
    for info in pkgutil.iter_modules(here):
        module = importlib.import_module(f"{__package__}.{info.name}")
        for name, table in getattr(module, "CASES", {}).items():
            assert name not in cases, f"{name} has two tables"
            cases[name] = table
    return cases


def test_every_check_has_a_table():
    checks = {n for n in exercises.__all__ if n.startswith("check_")}
    assert checks == set(all_cases())


def test_every_table_tries_enough_answers():
    for name, table in all_cases().items():
        assert len(table["right"]) >= 2, name
        assert len(table["wrong"]) >= 3, name
        assert len(table["malformed"]) >= 2, name
        hints = [fragment for _, fragment in table["malformed"]]
        assert any("your answer is None" in h for h in hints), name
        if name in CODE_CHECKS:
            assert any("raised" in h for h in hints), f"{name}: no answer that raises"
            assert any("still running after" in h for h in hints), f"{name}: no endless loop"


YES_NO_CHECKS = {"check_block_prediction", "check_linearizable_prediction",
                 "check_naive_safety_prediction", "check_failover_prediction",
                 "check_one_at_a_time_prediction", "check_stale_disk_prediction"}


def test_wrong_answers_get_hints_specific_to_them():
    """Near-miss answers of one check do not all share one generic hint (a True/False
    question has one wrong answer, written in several ways)."""
    for name, table in all_cases().items():
        if name in YES_NO_CHECKS:
            continue
        fragments = {fragment for _, fragment in table["wrong"]}
        assert len(fragments) >= 2, name

"""Known answers for the eval harness's shared metrics (``evals/harness/metrics.py``)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from evals.harness.metrics import (
    bootstrap_ci,
    chrf_chars,
    expected_calibration_error,
    hit_at,
    lcs_length,
    macro_f1,
    mrr,
    percentile,
    percentiles,
    precision_recall,
    rank_of,
    ranking_metrics,
    recall_at,
    reciprocal_rank,
    reference_lines,
    rouge_l_chars,
    score_extraction,
    unit_ranking_metrics,
)


def test_rank_of_the_first_gold_item() -> None:
    assert rank_of(["a", "b", "c"], {"c", "b"}) == 2
    assert rank_of(["a", "b", "c"], {"x"}) is None
    assert rank_of([], {"a"}) is None
    assert reciprocal_rank(4) == 0.25 and reciprocal_rank(None) == 0.0
    assert hit_at(3, 3) and not hit_at(4, 3) and not hit_at(None, 10)


def test_recall_hit_and_mrr_of_one_gold_item_per_query() -> None:
    m = ranking_metrics([1, 3, None, 2], ks=(1, 3))
    assert m["n"] == 4
    assert m["R@1"] == 0.25 and m["R@3"] == 0.75
    assert m["MRR"] == pytest.approx((1 + 1 / 3 + 0 + 1 / 2) / 4)
    assert m["MRR_lo"] <= m["MRR"] <= m["MRR_hi"]
    assert mrr([1, 3, None, 2]) == pytest.approx(m["MRR"])
    assert "MRR_lo" not in ranking_metrics([1], ks=(5,), ci=False)
    assert ranking_metrics([], ks=(5,))["R@5"] == 0.0


def test_recall_of_several_gold_units_per_query() -> None:
    assert recall_at([1, None], 1) == 0.5 and recall_at([2, 4], 5) == 1.0
    m = unit_ranking_metrics([[1, None], [None, 4]], ks=(1, 5))
    assert m["R@1"] == 0.25 and m["R@5"] == 0.5
    assert m["hit@1"] == 0.5 and m["hit@5"] == 1.0
    assert m["MRR"] == pytest.approx((1 + 1 / 4) / 2)


def test_percentiles_interpolate_like_numpy() -> None:
    values = [3.0, 1.0, 4.0, 1.5, 9.0, 2.6, 5.3]
    for q in (0, 10, 50, 90, 99, 100):
        assert percentile(values, q) == pytest.approx(float(np.percentile(values, q)))
    assert percentile([1, 2, 3, 4], 50) == 2.5
    assert percentiles(list(range(101))) == {"p50": 50, "p90": 90, "p99": 99}
    assert math.isnan(percentile([], 50))


def test_bootstrap_interval_is_seeded_and_brackets_the_mean() -> None:
    assert bootstrap_ci([0.5] * 10) == (0.5, 0.5)
    assert bootstrap_ci([]) == (0.0, 0.0)
    values = [0.0, 1.0, 0.5, 1.0, 0.0, 0.25, 1.0, 1.0]
    lo, hi = bootstrap_ci(values)
    assert (lo, hi) == bootstrap_ci(values)
    assert 0.0 <= lo < float(np.mean(values)) < hi <= 1.0


def test_macro_f1_and_calibration_error() -> None:
    score, per = macro_f1(["a", "b"], ["a", "a"], ["a", "b"])
    assert per == {"a": pytest.approx(2 / 3), "b": 0.0} and score == pytest.approx(1 / 3)
    assert expected_calibration_error(np.array([0.9, 0.9]), np.array([1.0, 0.0])) == 0.4
    assert precision_recall(2, 4, 0) == (0.5, None)


def test_text_overlap() -> None:
    assert chrf_chars("会议纪要", "会议纪要") == pytest.approx(100.0)
    assert rouge_l_chars("a b c", "abc") == 1.0
    assert score_extraction([{"kind": "action", "line": 8}, {"kind": "decision", "line": 9}],
                            {8: {"action"}, 10: {"decision"}}) == {
        "decision": {"ours": 1, "reference": 1, "hit": 0},
        "action": {"ours": 1, "reference": 1, "hit": 1},
        "any": {"ours": 2, "reference": 2, "hit": 1}}


def test_meeting_notes_metrics() -> None:
    assert lcs_length("会议纪要摘要", "会议议程摘要") == 4
    assert rouge_l_chars("abc", "abc") == 1.0 and rouge_l_chars("", "abc") == 0.0
    note = ("## Present\n\n* Joyee Cheung @joyeecheung\n* Matteo Collina @mcollina\n\n"
            "## Agenda\n\n* Joyee will volunteer to open the vote issue\n"
            "* We did not reach consensus on the warning\n* No objections, it lands\n"
            "* Rosetta will still work\n* Matteo: will it affect 24?\n")
    assert reference_lines(note) == {8: {"action"}, 10: {"decision"}}

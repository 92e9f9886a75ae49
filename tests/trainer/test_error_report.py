"""The error report's measures: alignment recall, runaway rule, length buckets."""
from vocr_train import error_report
from vocr_train.error_report import by_length, is_runaway, kept_in_place, symbol_recall


def test_kept_in_place_marks_each_reference_character_the_alignment_keeps():
    assert kept_in_place("abc", "abc") == [True, True, True]
    assert kept_in_place("a_b", "a b") == [True, False, True]  # substituted
    assert kept_in_place("50%", "50") == [True, True, False]  # dropped
    assert kept_in_place("ab", "xaby") == [True, True]  # insertions around it cost the reference nothing
    assert kept_in_place("", "abc") == []
    assert kept_in_place("abc", "") == [False, False, False]


def test_symbol_recall_counts_occurrences_and_those_kept():
    recall = symbol_recall([("a_b", "a b"), ("_x", "_x")])
    assert recall["_"] == (2, 1)
    assert recall["a"] == (1, 1)
    assert recall["x"] == (1, 1)


def test_a_runaway_is_longer_than_1_3_times_the_reference_plus_3():
    assert not is_runaway("a" * 10, "a" * 16)
    assert is_runaway("a" * 10, "a" * 17)
    assert is_runaway("", "abcd")
    assert not is_runaway("", "abc")


def test_length_buckets_split_at_20_36_50_64():
    pairs = [("a" * n, "a" * n) for n in (20, 21, 36, 37, 50, 51, 64, 65)] + [("b" * 40, "")]
    buckets = by_length(pairs)
    assert list(buckets) == ["<= 20", "21-36", "37-50", "51-64", "> 64"]
    assert [b["lines"] for b in buckets.values()] == [1, 2, 3, 2, 1]
    assert buckets["<= 20"]["cer"] == 0.0
    assert buckets["37-50"]["cer"] == 100.0 * 40 / (37 + 50 + 40)


def test_manifest_evaluation_puts_the_bundle_and_tesseract_side_by_side():
    subsets = {"clean": {"cer": 2.0, "wer": 7.0, "line_acc": 80.0, "lines": 10, "runaways": 0}}
    lengths = {"<= 20": {"lines": 10, "cer": 2.0}}
    engine = {"subsets": subsets, "by_length": lengths}
    report = {"bundle": "b", "engines": {"vocr-serve bundle": engine, "Tesseract 5": engine}}
    evaluation = error_report.manifest_evaluation(report)
    assert evaluation["variants"]["qat-cnn_dynamic-seq"]["accuracy"] == subsets
    assert evaluation["tesseract"] == {"subsets": subsets}
    assert set(evaluation["by_length"]) == {"qat-cnn_dynamic-seq", "tesseract"}
    del report["engines"]["Tesseract 5"]
    assert "tesseract" not in error_report.manifest_evaluation(report)

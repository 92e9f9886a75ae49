"""The Python scorer follows the table of cases the C++ client's scorer runs too."""
import json
from pathlib import Path

import pytest

from vocr_train.evaluate import score

CASES = json.loads((Path(__file__).resolve().parents[1] / "data" / "scoring_cases.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("case", CASES["cases"], ids=[c["name"] for c in CASES["cases"]])
def test_scores_as_the_shared_table_says(case):
    got = score(case["refs"], case["hyps"])
    assert got["cer"] == pytest.approx(case["cer"], abs=1e-5)
    assert got["wer"] == pytest.approx(case["wer"], abs=1e-5)
    assert got["line_acc"] == pytest.approx(case["exact"], abs=1e-5)

from nengtan.benchmark.ranking import rank


def test_competition_ranking_with_ties_and_missing_keys():
    rows = [{"n": "a", "gap": 7.3}, {"n": "b", "gap": None}, {"n": "c", "gap": -2.0},
            {"n": "d", "gap": 7.3}, {"n": "e", "gap": 12.0}, {"n": "f", "gap": float("nan")}]
    out = rank(rows, lambda r: r["gap"])
    assert [(r["n"], r["rank"]) for r in out] == [
        ("c", 1), ("a", 2), ("d", 2), ("e", 4), ("b", None), ("f", None)]

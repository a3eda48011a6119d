"""Binary COPY encoding and decoding against the real PostgreSQL."""

import numpy as np
import pytest
from nengtan.store import pgbinary

pytestmark = pytest.mark.postgres


def test_encode_round_trips_through_postgres(pg_engine):
    rows = pgbinary.encode(
        [np.array([1, -2], np.int32), np.array([1_735_689_600_000_000, 0]),
         np.array([[1.5, np.nan], [3.0, -0.0]]), np.array([[1, 2], [3, 4]], np.int16),
         np.array([20_089, 0]), None],
        ["int4", "timestamptz", "float8[]", "int2[]", "date", "null"])
    raw = pg_engine.raw_connection()
    try:
        cur = raw.cursor()
        cur.execute("CREATE TEMP TABLE t (a int4, b timestamptz, c float8[], d int2[], e date, f text)")
        pgbinary.copy_in(cur, "t", ["a", "b", "c", "d", "e", "f"], rows)
        cur.execute("SELECT a, b::text, c::text, d, e::text, f FROM t ORDER BY a DESC")
        assert cur.fetchall() == [
            (1, "2025-01-01 00:00:00+00", "{1.5,NaN}", [1, 2], "2025-01-01", None),
            (-2, "1970-01-01 00:00:00+00", "{3,-0}", [3, 4], "1970-01-01", None)]
        payload = pgbinary.copy_out(cur, "SELECT a, array_agg(b ORDER BY b), c FROM t GROUP BY a, c "
                                         "ORDER BY a")
        decoded = pgbinary.decode_rows(payload, ["int4", "timestamptz[]", "float8[]"])
        assert [r[0] for r in decoded] == [-2, 1]
        assert decoded[1][1].tolist() == [1_735_689_600_000_000]
        assert np.isnan(decoded[1][2][1]) and decoded[0][2].tolist() == [3.0, -0.0]
    finally:
        raw.close()

"""The radar's anchor: DuckDB's GROUP BY of an access-log export by user and local day, counting
accesses, distinct clients, night accesses (22-06 Stockholm time) and accesses to another unit's
client. The rows are loaded into a table first (not timed); the query runs three times and the
best time in seconds is printed last."""
import sys
import time

import duckdb

con = duckdb.connect()
con.execute(
    "CREATE TABLE log AS SELECT user_id, CAST(event_time AS TIMESTAMPTZ) AS t, subject_id, "
    "access_unit_id, subject_unit_id FROM read_csv(?, header = true, all_varchar = true)",
    [sys.argv[1]],
)
QUERY = """
SELECT user_id, CAST(timezone('Europe/Stockholm', t) AS DATE) AS day, COUNT(*) AS accesses,
       COUNT(DISTINCT subject_id) AS clients,
       SUM(CASE WHEN hour(timezone('Europe/Stockholm', t)) >= 22
                  OR hour(timezone('Europe/Stockholm', t)) < 6 THEN 1 ELSE 0 END) AS night,
       SUM(CASE WHEN access_unit_id <> subject_unit_id THEN 1 ELSE 0 END) AS other_unit
FROM log GROUP BY user_id, day
"""
best = float("inf")
for _ in range(3):
    started = time.perf_counter()
    rows = con.execute(QUERY).fetchall()
    best = min(best, time.perf_counter() - started)
print(len(rows), "groups", file=sys.stderr)
print(best)

"""The peer: the same three-human-step flow driven through SpiffWorkflow, with one durable SQLite
commit per transition (the workflow serialized to JSON and stored, synchronous=FULL, WAL), as a
workflow engine persisting its state after every human step would. Prints one JSON line.

Usage: python spiff_driver.py CASES DB_PATH
"""
import json
import os
import sqlite3
import sys
import time

from SpiffWorkflow.bpmn.parser import BpmnParser
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.util.task import TaskState

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    cases = int(sys.argv[1])
    db_path = sys.argv[2]
    parser = BpmnParser()
    parser.add_bpmn_file(os.path.join(HERE, "three_steps.bpmn"))
    spec = parser.get_spec("three_steps")
    serializer = BpmnWorkflowSerializer()

    db = sqlite3.connect(db_path, isolation_level=None)
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA synchronous = FULL")
    db.execute("CREATE TABLE IF NOT EXISTS workflows (id INTEGER PRIMARY KEY, state TEXT NOT NULL)")

    # Start every case (not timed: loggkoll's cases are opened by a round before its clock runs).
    db.execute("BEGIN")
    for i in range(cases):
        wf = BpmnWorkflow(spec)
        wf.do_engine_steps()
        db.execute("INSERT INTO workflows (id, state) VALUES (?, ?)", (i, serializer.serialize_json(wf)))
    db.execute("COMMIT")

    transitions = 0
    started = time.perf_counter()
    for step in range(3):
        for i in range(cases):
            (state,) = db.execute("SELECT state FROM workflows WHERE id = ?", (i,)).fetchone()
            wf = serializer.deserialize_json(state)
            ready = [t for t in wf.get_tasks(state=TaskState.READY) if t.task_spec.manual]
            if len(ready) != 1:
                raise SystemExit(f"case {i} step {step}: {len(ready)} ready human tasks")
            ready[0].data["outcome"] = "done"
            ready[0].run()
            wf.do_engine_steps()
            db.execute("BEGIN")
            db.execute("UPDATE workflows SET state = ? WHERE id = ?", (serializer.serialize_json(wf), i))
            db.execute("COMMIT")
            transitions += 1
    seconds = time.perf_counter() - started
    done = sum(
        1
        for (state,) in db.execute("SELECT state FROM workflows")
        if serializer.deserialize_json(state).is_completed()
    )
    if done != cases:
        raise SystemExit(f"{cases - done} workflows did not complete")
    print(json.dumps({"transitions": transitions, "seconds": seconds, "per_second": transitions / seconds}))


if __name__ == "__main__":
    main()

"""Grade a class's exercise submissions in one command, as a table.

    python tutorial/grade_class.py SUBMISSIONS/            # one sub-folder per student, each holding their exNN_*.py
    python tutorial/grade_class.py SUBMISSIONS/ --csv marks.csv
    python tutorial/grade_class.py SUBMISSIONS/ --seconds 120  # time limit per student and exercise (default 60)

Each student's files are graded by the same graders as `python -m pytest tutorial/exercises` (a missing file
counts as unwritten). The table shows PASS, or the grader's first line (the hint the student would see). The
students' files are Python and run in this process, as they would under pytest: grade code you would run.
"""
import argparse
import csv
import importlib.util
import os
import signal
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "exercises"))  # the graders
sys.path.insert(0, os.path.dirname(HERE))  # the project's files, which some exercises import

from graders import GRADERS  # noqa: E402


class TimedOut(Exception):
    pass


def stop(signum, frame):
    raise TimedOut("still running after the time limit (an endless loop?)")


def grade(folder, exercise, seconds=60):
    """'PASS', or why not (one line). A file still running after `seconds` is stopped (where the system has
    SIGALRM, i.e. not on Windows), so one endless loop cannot hold up the class."""
    path = os.path.join(folder, exercise + ".py")
    if not os.path.exists(path):
        return "missing"
    grader, names = GRADERS[exercise]
    timed = hasattr(signal, "SIGALRM")
    if timed:
        signal.signal(signal.SIGALRM, stop)
        signal.alarm(seconds)
    try:
        spec = importlib.util.spec_from_file_location(f"{os.path.basename(folder)}_{exercise}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        grader(*(getattr(module, name) for name in names))
        return "PASS"
    except AssertionError as e:
        return str(e).splitlines()[0][:90] if str(e) else "failed"
    except (Exception, SystemExit) as e:  # the student's code crashed, or called exit(): one cell, not the class
        return f"error: {type(e).__name__}: {e}"[:90]
    finally:
        if timed:
            signal.alarm(0)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("submissions", help="a folder with one sub-folder per student")
    p.add_argument("--csv", default="", help="also write the table to this CSV file")
    p.add_argument("--seconds", type=int, default=60, help="time limit per student and exercise")
    a = p.parse_args(argv)
    if a.seconds < 1:
        p.error(f"--seconds must be >= 1, got {a.seconds}")
    if not os.path.isdir(a.submissions):
        raise SystemExit(f"error: {a.submissions} is not a folder (expected one sub-folder per student)")
    students = sorted(d for d in os.listdir(a.submissions) if os.path.isdir(os.path.join(a.submissions, d)))
    if not students:
        raise SystemExit(f"error: {a.submissions} has no sub-folders (expected one per student)")
    exercises = sorted(GRADERS)
    rows = [[s, *(grade(os.path.join(a.submissions, s), e, a.seconds) for e in exercises)] for s in students]
    for s, *marks in rows:
        print(f"{s}: {sum(m == 'PASS' for m in marks)}/{len(marks)} passed")
        for e, m in zip(exercises, marks):
            if m != "PASS":
                print(f"  {e:26s} {m}")
    if a.csv:
        with open(a.csv, "w", newline="") as f:
            csv.writer(f).writerows([["student", *exercises], *rows])
        print(f"wrote {a.csv}")
    return rows


if __name__ == "__main__":
    main()

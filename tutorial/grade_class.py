"""Grade a class's exercise submissions in one command, as a table.

    python tutorial/grade_class.py SUBMISSIONS/            # one sub-folder per student, each holding their exNN_*.py
    python tutorial/grade_class.py SUBMISSIONS/ --csv marks.csv
    python tutorial/grade_class.py SUBMISSIONS/ --seconds 120  # time limit per student and exercise (default 60)

Each student's files are graded by the same graders as `python -m pytest tutorial/exercises` (a missing file
counts as unwritten). The table shows PASS, or the grader's first line (the hint the student would see).

Each file is graded in a process of its own (forked from a clean server process where the system has one, so torch
is imported once), which this process waits for at most `--seconds` and then kills with everything it started. So nothing a
file does reaches another file's grading or the table: not a patched grader, a switched-off gradient, exit(),
os._exit(), KeyboardInterrupt, a cancelled alarm or an endless loop; each ends in that file's own cell. Within
its own process a file runs as under pytest, so grade code you would run: Python has no sandbox, and a file bent
on it can still fake its own cell (a patched grader that is noticed is marked as such).
"""
import argparse
import csv
import importlib.util
import multiprocessing
import os
import signal
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "exercises"))  # the graders
sys.path.insert(0, os.path.dirname(HERE))  # the project's files, which some exercises import

import graders  # noqa: E402
from graders import GRADERS  # noqa: E402


def grader_fingerprint():
    """What a file could patch to pass: the table of graders and the code of every function in graders.py."""
    return ({name: (grader, tuple(names)) for name, (grader, names) in graders.GRADERS.items()},
            {name: f.__code__ for name, f in vars(graders).items() if hasattr(f, "__code__")})


def grade_in_child(path, exercise, conn):
    """Runs in the child process: load the student's file, grade it, send one line back."""
    if hasattr(os, "setsid"):
        os.setsid()  # its own process group: the parent can kill whatever the file starts
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1), os.dup2(devnull, 2)  # the student's prints stay out of the table
    grader, names = GRADERS[exercise]
    before = grader_fingerprint()
    try:
        spec = importlib.util.spec_from_file_location(f"student_{exercise}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        grader(*(getattr(module, name) for name in names))
        verdict = "PASS"
    except AssertionError as e:
        verdict = str(e).splitlines()[0][:90] if str(e) else "failed"
    except BaseException as e:  # a crash, exit(), KeyboardInterrupt: this cell only
        verdict = f"error: {type(e).__name__}: {e}"[:90]
    if grader_fingerprint() != before:
        verdict = "error: the file changed the grader (graders.py); not graded"
    conn.send(verdict)
    conn.close()
    os._exit(0)  # skip interpreter shutdown: nothing the file registered (atexit, threads) runs after the verdict


def start_context():
    """A fresh process per file: forked from a server that has imported torch and run nothing (a fork of a process
    whose torch has used threads can hang), or, without one (Windows), a new interpreter."""
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["torch", "numpy", "graders"])
    return context


def grade(folder, exercise, seconds=60):
    """'PASS', or why not (one line), from a process of its own that is killed after `seconds`."""
    path = os.path.join(folder, exercise + ".py")
    if not os.path.isfile(path):
        return "missing"
    context = start_context()
    receive, send = context.Pipe(duplex=False)
    child = context.Process(target=grade_in_child, args=(path, exercise, send), daemon=True)
    child.start()
    send.close()
    verdict = None
    try:
        if receive.poll(seconds):  # a verdict, or the child's end (EOF)
            verdict = receive.recv()
    except (EOFError, OSError):
        pass
    finally:
        receive.close()
    child.join(timeout=5 if verdict is not None else 0.5)
    timed_out = verdict is None and child.is_alive()
    if child.is_alive():  # still running (or ignoring its end): kill it and everything it started
        if hasattr(os, "killpg"):
            try:
                os.killpg(child.pid, signal.SIGKILL)
            except OSError:
                child.kill()
        else:
            child.kill()
        child.join()
    if timed_out:
        return f"error: still running after the time limit ({seconds} s; an endless loop?)"
    if verdict is None:
        return f"error: the file ended its process before it was graded (exit code {child.exitcode})"
    return verdict


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

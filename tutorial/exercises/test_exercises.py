"""Grades the exercises in this folder: python -m pytest tutorial/exercises  (one: add -k ex03)."""
import importlib

import pytest

from graders import GRADERS


@pytest.mark.parametrize("exercise", sorted(GRADERS))
def test_exercise(exercise):
    grader, names = GRADERS[exercise]
    module = importlib.import_module(exercise)
    grader(*(getattr(module, name) for name in names))

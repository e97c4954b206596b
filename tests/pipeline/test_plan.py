"""The plan of a run (python -m fmrnoise.pipeline.plan, make plan): what it prints, and one line
for a configuration it cannot use."""

from pathlib import Path

import pytest

from fmrnoise.pipeline.plan import main

DEFAULTS = str(Path(__file__).resolve().parents[2] / "config" / "config.yaml")


def test_the_plan_lists_the_users_studies_only(tmp_path, capsys):
    path = tmp_path / "mine.yaml"
    path.write_text("studies:\n  mine: {axes: {T: {values: [0.1, 0.2]}, "
                    "omega_d: {start: -1.2, step: 0.1, num: 5}}}\n")
    assert main(["--defaults", DEFAULTS, str(path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("fmrnoise plan: 1 study, 10 grid points (studies of ")
    assert lines[1] == ("  mine: T 2 × omega_d 5 = 10 points; steady_state, distribution, "
                        "dot_voltage: omega_d 5 = 5 points")


@pytest.mark.parametrize(("text", "message"), [
    (None, "Invalid configuration file: [Errno 2] No such file or directory"),
    ("studies:\n  s: {axes: {T: [1, 2}\n", "Invalid configuration file: while parsing"),
    ("studies:\n  s: {}\nfigures: {fmr_lin: {study: s}}\n",
     "Invalid configuration: figures.fmr_lin: unknown figure"),
])
def test_a_configuration_it_cannot_use_gets_one_line(tmp_path, capsys, text, message):
    path = tmp_path / "mine.yaml"
    if text is not None:
        path.write_text(text)
    assert main(["--defaults", DEFAULTS, str(path)]) == 1
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and err[0].startswith(message), err

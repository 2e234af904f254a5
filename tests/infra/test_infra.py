"""The plumbing every command relies on: atomic writes, output folders claimed before writing."""
from __future__ import annotations

import pytest

from infra.errors import RunExistsError, UserError
from infra.files import atomic_path, replaced_folder, write_text
from infra.run_folder import RunKind, claim_output

SEARCH = RunKind("search", ("options.json", "ray/search"))


def test_a_write_that_fails_midway_leaves_the_previous_file(tmp_path):
    target = tmp_path / "trials.csv"
    write_text(target, "the previous version\n")
    with pytest.raises(RuntimeError), atomic_path(target) as temporary:
        temporary.write_text("half of the new ver")
        raise RuntimeError("killed here")
    assert target.read_text() == "the previous version\n"
    assert [p.name for p in tmp_path.iterdir()] == ["trials.csv"]  # no partial file left behind
    write_text(target, "the new version\n")
    assert target.read_text() == "the new version\n" and (target.stat().st_mode & 0o777) != 0o600


def test_a_replaced_folder_keeps_nothing_stale_and_survives_a_failure(tmp_path):
    configs = tmp_path / "configs"
    with replaced_folder(configs) as staging:
        for name in ("a", "b", "c"):
            (staging / f"{name}.yaml").write_text(name)
    with replaced_folder(configs) as staging:
        (staging / "a.yaml").write_text("only a")
    assert sorted(p.name for p in configs.iterdir()) == ["a.yaml"]
    with pytest.raises(RuntimeError), replaced_folder(configs) as staging:
        (staging / "z.yaml").write_text("z")
        raise RuntimeError("interrupted")
    assert sorted(p.name for p in configs.iterdir()) == ["a.yaml"] and sorted(p.name for p in tmp_path.iterdir()) == [
        "configs"]


def test_claim_decides_new_resume_or_refuse_without_writing(tmp_path):
    assert claim_output(tmp_path / "absent", SEARCH, resume=False) is False
    assert not (tmp_path / "absent").exists()  # claiming writes nothing
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / ".DS_Store").write_text("")
    assert claim_output(tmp_path / "empty", SEARCH, resume=False) is False
    run = tmp_path / "run"
    (run / "ray" / "search").mkdir(parents=True)
    assert claim_output(run, SEARCH, resume=True) is True
    with pytest.raises(RunExistsError, match="already holds a search; pass --resume"):
        claim_output(run, SEARCH, resume=False)
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "todo.txt").write_text("x")
    with pytest.raises(RunExistsError, match=r"is not empty \(todo.txt\) and holds no search"):
        claim_output(tmp_path / "notes", SEARCH, resume=False)
    with pytest.raises(UserError, match="holds no search to resume"):
        claim_output(tmp_path / "notes", SEARCH, resume=True)
    with pytest.raises(RunExistsError, match="already holds a report; choose another --output"):
        (tmp_path / "notes" / "report.html").write_text("")
        claim_output(tmp_path / "notes", RunKind("report", ("report.html",), resumable=False), resume=False)

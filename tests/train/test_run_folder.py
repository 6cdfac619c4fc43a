"""Where `netspec train`, `evaluate` and `export` write: never over an earlier run unless told,
never into an unwritable place with a traceback, and warnings for data that cannot validate."""

from __future__ import annotations

import csv
import os

import pytest

from .conftest import ONE_EPOCH, assert_clean_failure, load_ckpt, make_folder, netspec, summary, write_spec

@pytest.fixture(scope="module")
def finished(tmp_path_factory, folder2):
    """A finished run, to copy: training it again for each test would cost more than the tests."""
    root = tmp_path_factory.mktemp("finished")
    spec = write_spec(root / "tiny.net", options=ONE_EPOCH)
    assert netspec("train", spec, "--data", folder2, "--out", root / "run", "--quiet").code == 0
    return root / "run"


def _files(folder):
    return {p.name: p.read_bytes() for p in folder.iterdir()}


def test_an_existing_run_is_not_trained_over(tmp_path, spec, folder2, finished):
    before = _files(finished)
    result = netspec("train", spec, "--data", folder2, "--out", finished, "--quiet")
    assert_clean_failure(result, "R012")
    text = " ".join(result.err.split())
    assert "already holds a training run" in text and "--overwrite" in text and f"--resume {finished}" in text
    assert _files(finished) == before


def test_overwrite_replaces_the_run_and_keeps_other_files(tmp_path, spec, folder2, finished):
    import shutil

    run = tmp_path / "run"
    shutil.copytree(finished, run)
    (run / "notes.txt").write_text("mine")
    (run / "evaluate-confusion.csv").write_text("true,predicted,count\n")  # the old network's evaluation
    result = netspec("train", spec, "--data", folder2, "--out", run, "--quiet", "--overwrite", "--seed", "7",
                     "--split", "1")
    assert result.code == 0, result
    assert load_ckpt(run / "last.pt")["seed"] == 7
    assert summary(run)["run"]["split"] == 1
    assert not (run / "confusion.png").exists()  # no validation this time: the old picture went with its run
    assert not (run / "evaluate-confusion.csv").exists()
    assert (run / "notes.txt").read_text() == "mine"


def test_a_folder_of_other_files_is_not_trained_into(tmp_path, spec, folder2):
    folder = tmp_path / "papers"
    folder.mkdir()
    (folder / "thesis.tex").write_text("...")
    result = netspec("train", spec, "--data", folder2, "--out", folder, "--quiet")
    assert_clean_failure(result, "R012")
    assert "not empty" in result.err and "--overwrite" in result.err
    assert [p.name for p in folder.iterdir()] == ["thesis.tex"]
    (tmp_path / "empty").mkdir()  # an empty folder is as good as a new one
    assert netspec("train", spec, "--data", folder2, "--out", tmp_path / "empty", "--quiet").code == 0
    assert (tmp_path / "empty" / "summary.json").is_file()


def test_an_empty_out_is_refused(tmp_path, spec, folder2, monkeypatch):
    monkeypatch.chdir(tmp_path)
    before = sorted(p.name for p in tmp_path.iterdir())
    result = netspec("train", spec, "--data", folder2, "--out", "", "--quiet")
    assert result.code == 2, result
    assert "--out" in result.err and "empty" in result.err
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # nothing trained into the current folder


def test_resume_takes_no_out(tmp_path, folder2, finished):
    result = netspec("train", "--resume", finished, "--out", tmp_path / "elsewhere", "--quiet")
    assert result.code == 2, result
    assert not (tmp_path / "elsewhere").exists()


@pytest.mark.parametrize("where", ["a-file", "under-a-file", "proc"])
def test_unwritable_run_folders_are_clean_errors(tmp_path, spec, folder2, where):
    afile = tmp_path / "notes.txt"
    afile.write_text("kept")
    out = {"a-file": afile, "under-a-file": afile / "run", "proc": "/proc/netspec-test/run"}[where]
    result = netspec("train", spec, "--data", folder2, "--out", out, "--quiet")
    assert_clean_failure(result, "F001")
    assert f"cannot write {out}" in result.err
    assert afile.read_text() == "kept"


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_a_read_only_folder_is_refused_before_the_data_is_read(tmp_path, spec):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        # the data folder does not exist: the run folder is checked first
        result = netspec("train", spec, "--data", tmp_path / "nowhere", "--out", locked / "run", "--quiet")
    finally:
        locked.chmod(0o755)
    assert_clean_failure(result, "F001")
    assert "Permission denied" in result.err


def test_unwritable_export_and_evaluate_outputs_are_clean_errors(tmp_path, spec, folder2, finished):
    (tmp_path / "folder.png").mkdir()
    for args in (["export", spec, "-o", "/proc/netspec-test/model.onnx"],
                 ["evaluate", finished, "--data", folder2, "-o", "/proc/netspec-test/confusion.png"],
                 ["evaluate", finished, "--data", folder2, "-o", tmp_path / "folder.png"]):
        result = netspec(*args)
        assert_clean_failure(result, "F001")
        assert "cannot write" in result.err, (args, result)


def test_an_existing_export_is_replaced_only_with_overwrite(tmp_path, spec, finished):
    """The ONNX file, the source file and the weights beside it are exports: never silently replaced."""
    for name, args in (("m.onnx", []), ("m.py", []), ("m.py", ["--weights", finished])):
        out = tmp_path / name
        weights = out.with_suffix(".pt")
        out.write_text("mine")
        if args:
            out.unlink()
            weights.write_text("mine")
        result = netspec("export", spec, "-o", out, *args)
        assert_clean_failure(result, "F002")
        assert "--overwrite" in result.err
        assert (weights if args else out).read_text() == "mine"
        assert netspec("export", spec, "-o", out, *args, "--overwrite").code == 0
        assert (weights if args else out).read_bytes() != b"mine"
        out.unlink()
        weights.unlink(missing_ok=True)


def test_an_empty_export_path_is_refused(tmp_path, spec, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = netspec("export", spec, "-o", "")
    assert result.code == 2 and "empty" in result.err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tiny.net"]


def test_leftover_temporary_files_are_removed_when_a_run_resumes(tmp_path, spec, folder2, finished):
    import shutil

    run = tmp_path / "run"
    shutil.copytree(finished, run)
    (run / "summary.json").unlink()  # as if killed while finishing
    leftovers = [run / ".last.pt.k2j4h1.tmp", run / ".best.pt.0a9x7z.tmp", run / ".metrics.json.q1w2e3.tmp"]
    for path in leftovers:
        path.write_bytes(b"half a checkpoint")
    (run / ".mine.tmp").write_text("not netspec's")
    assert netspec("train", "--resume", run, "--quiet").code == 0
    assert not any(path.exists() for path in leftovers)
    assert (run / ".mine.tmp").exists()


def test_one_class_is_refused(tmp_path, spec):
    data = make_folder(tmp_path / "data", classes=("cat",), n=6)
    result = netspec("train", spec, "--data", data, "--out", tmp_path / "run", "--quiet")
    assert_clean_failure(result, "R013")
    assert "at least 2" in result.err and "cat" in result.err
    assert not (tmp_path / "run").exists()


def test_a_split_that_leaves_no_validation_is_announced(tmp_path, spec):
    data = make_folder(tmp_path / "data", classes=("a", "b"), n=1)  # one image per class: none to hold out
    result = netspec("train", spec, "--data", data, "--out", tmp_path / "run", "--quiet")
    assert result.code == 0, result
    assert "warning[W301]" in result.err and "validation is off" in result.err, result
    assert "validation" not in summary(tmp_path / "run")
    result = netspec("train", spec, "--data", data, "--out", tmp_path / "asked", "--quiet", "--split", "1")
    assert result.code == 0 and "warning" not in result.err, result  # --split 1 asks for no validation


def test_a_split_that_leaves_a_class_out_of_validation_is_announced(tmp_path, spec):
    data = make_folder(tmp_path / "data", classes=("a", "b"), n=6)
    for extra in sorted((data / "b").iterdir())[1:]:
        extra.unlink()  # b keeps one image: it trains on it, and validation never sees b
    result = netspec("train", spec, "--data", data, "--out", tmp_path / "run", "--quiet")
    assert result.code == 0, result
    text = " ".join(result.err.split())
    assert "warning[W302]" in text and "1 of 2 classes (b)" in text, result


CLASSES = [f"c{k:02d}" for k in range(30)] + ["=1+c30"]
"""The last name starts like a spreadsheet formula: the matrix's CSV must not let it run."""


@pytest.fixture(scope="module")
def many_classes(tmp_path_factory):
    """31 classes of 2 images and a network trained on them for one epoch."""
    root = tmp_path_factory.mktemp("many")
    data = make_folder(root / "data", classes=CLASSES, n=2)
    spec = write_spec(root / "wide.net", fc=len(CLASSES), options=ONE_EPOCH)
    result = netspec("train", spec, "--data", data, "--out", root / "run", "--quiet", "--split", "1")
    assert result.code == 0, result
    return data, root / "run"


def test_evaluate_summarises_many_classes_and_writes_the_matrix(many_classes, tmp_path):
    data, run = many_classes
    picture = tmp_path / "eval.png"
    result = netspec("evaluate", run, "--data", data, "-o", picture)
    assert result.code == 0, result
    lines = result.out.splitlines()
    rows = [line for line in lines if line.startswith("│")]
    assert len(rows) == 10 + 1 + 10, result.out  # the lowest and the highest recalls, and what is left out
    assert any("… 11 more" in row for row in rows)
    assert "31 classes: the 10 with the lowest recall, then the 10 with the highest" in " ".join(result.out.split())
    assert "confusion (rows: true" not in result.out
    table = picture.with_suffix(".csv")
    assert str(table) in "".join(result.out.split())
    with table.open(newline="") as handle:
        cells = list(csv.DictReader(handle))
    assert sum(int(cell["count"]) for cell in cells) == 62  # every image, once
    assert {cell["true"] for cell in cells} == {*CLASSES[:-1], "'=1+c30"}
    assert picture.is_file()


def test_evaluate_without_out_writes_the_matrix_in_the_run_folder(many_classes):
    data, run = many_classes
    result = netspec("evaluate", run, "--data", data)
    assert result.code == 0, result
    assert str(run / "evaluate-confusion.csv") in "".join(result.out.split())
    assert (run / "evaluate-confusion.csv").is_file()

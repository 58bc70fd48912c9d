"""``python -m creative render``: what a stop (Ctrl-C, ``kill``) or a refusal leaves.

The promise (docs/creative-studio.md): one ``interrupted:`` line, exit 130 for Ctrl-C and
143 for SIGTERM, no half-written output folder, no folder made for ``--out`` left behind,
and the user's own files (an earlier output, a file beside it) never touched.
"""

import contextlib
import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import creative.__main__ as studio
import creative.cli_safety as creative_safety
import simulation.store.fs as simulation_fs

ROOT = Path(__file__).resolve().parents[2]
SEGMENTS = (
    "audience_id,name,top_interests,keywords,active_hours,mobile_share,price_sensitivity\n"
    "gamers,Night-owl gamers,gaming;tech,gaming headset,night,0.9,0.9\n"
)
QUICK = ["--per-segment", "1", "--size", "preview"]


def _tree(folder: Path) -> dict[str, str]:
    """Every path below ``folder`` (hidden ones too), with a digest of each file's bytes."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        if p.is_file()
        else ""
        for p in sorted(folder.rglob("*"))
    }


@pytest.fixture
def segments(tmp_path):
    path = tmp_path / "segments.csv"
    path.write_text(SEGMENTS, encoding="utf-8")
    return path


@pytest.fixture
def work(tmp_path):
    """A folder of the user's: one file of their own, which nothing may touch."""
    folder = tmp_path / "work"
    folder.mkdir()
    (folder / "notes.txt").write_text("the user's own")
    return folder


def _render(argv, capsys):
    code = studio.main(["render", *argv])
    return code, capsys.readouterr().err.strip().splitlines()


# --- the folder helpers (the studio's copy and the simulator's behave alike) -----------------

HELPERS = pytest.mark.parametrize("fs", [creative_safety, simulation_fs], ids=["creative", "sim"])


@HELPERS
def test_make_folders_reports_only_what_it_made_and_removal_keeps_the_rest(fs, work):
    made = fs.make_folders(work / "a" / "b" / "c")
    assert made == [work / "a" / "b" / "c", work / "a" / "b", work / "a"]  # innermost first
    assert fs.make_folders(work / "a" / "b") == []  # all there already
    fs.remove_folders(made)
    assert sorted(p.name for p in work.iterdir()) == ["notes.txt"]


@HELPERS
def test_a_folder_that_gained_a_file_is_kept_with_its_parents(fs, work):
    made = fs.make_folders(work / "a" / "b" / "c")
    (work / "a" / "b" / "theirs.txt").write_text("x")
    fs.remove_folders(made)
    assert not (work / "a" / "b" / "c").exists()
    assert (work / "a" / "b" / "theirs.txt").read_text() == "x"


@HELPERS
def test_a_folder_made_meanwhile_by_someone_else_is_not_counted(fs, work, monkeypatch):
    (work / "a").mkdir()
    lexists = os.path.lexists
    # As if another process made a/ between the look and the mkdir.
    monkeypatch.setattr(os.path, "lexists", lambda p: p != work / "a" and lexists(p))
    assert fs.make_folders(work / "a" / "b") == [work / "a" / "b"]


@HELPERS
def test_a_folder_that_cannot_be_made_leaves_none_of_its_parents(fs, work):
    with pytest.raises(OSError):
        fs.make_folders(work / "a" / "b" / ("n" * 300))  # longer than any file system allows
    with pytest.raises(OSError):
        fs.make_folders(work / "notes.txt" / "c")  # a file in the way
    assert sorted(p.name for p in work.iterdir()) == ["notes.txt"]
    assert (work / "notes.txt").read_text() == "the user's own"


# --- refusals and stops in process ------------------------------------------------------------


def test_a_refused_out_leaves_no_folder_it_made(segments, work, capsys):
    # The work folder's name (".<name>.tmp-...") is too long once the parents exist.
    out = work / "a" / "b" / ("n" * 250)
    code, err = _render(["--audiences", str(segments), *QUICK, "--out", str(out)], capsys)
    assert code == 2 and len(err) == 1 and err[0].startswith("error: cannot write to"), err
    assert sorted(p.name for p in work.iterdir()) == ["notes.txt"]


@pytest.mark.parametrize(
    ("raised", "code", "line"),
    [
        (ValueError("a size that cannot show the label"), 2, "error: a size that cannot"),
        (KeyboardInterrupt(), 130, "interrupted: nothing was written"),
    ],
)
def test_a_refusal_or_stop_while_rendering_leaves_no_folder_it_made(
    segments, work, capsys, monkeypatch, raised, code, line
):
    def fail(*args, **kwargs):
        raise raised

    monkeypatch.setattr(studio, "_write_outputs", fail)
    argv = ["--audiences", str(segments), *QUICK, "--out", str(work / "a" / "b" / "out")]
    got, err = _render(argv, capsys)
    assert got == code and len(err) == 1 and err[0].startswith(line), err
    assert sorted(p.name for p in work.iterdir()) == ["notes.txt"]


@pytest.mark.parametrize("earlier", [False, True], ids=["new", "replacing"])
def test_a_stop_between_the_renames_puts_everything_back(
    segments, work, capsys, monkeypatch, earlier
):
    out = work / "out"
    argv = ["--audiences", str(segments), *QUICK, "--out", str(out)]
    if earlier:
        assert _render(argv, capsys)[0] == 0
    before = _tree(work)
    replace, stopped = os.replace, []

    def replace_then_stop(src, dst):
        replace(src, dst)
        if Path(dst) == out and not stopped:  # the new output just took its place
            stopped.append(True)
            raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", replace_then_stop)
    code, err = _render([*argv, "--seed", "3"], capsys)
    assert code == 130 and err == ["interrupted: nothing was written"]
    assert stopped and _tree(work) == before  # the earlier output back, no hidden folder left


def test_a_stop_after_the_output_is_written_says_so(segments, work, capsys, monkeypatch):
    class StoppedPrint:
        def write(self, text):
            raise KeyboardInterrupt

        def flush(self):
            pass

    out = work / "out"
    monkeypatch.setattr(sys, "stdout", StoppedPrint())  # Ctrl-C while the summary is printed
    code = studio.main(["render", "--audiences", str(segments), *QUICK, "--out", str(out)])
    monkeypatch.undo()
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 130 and err == [f"interrupted: the output was already complete in {out}"]
    assert (out / "manifest.csv").is_file()


# --- SIGTERM and SIGINT sent to a running render ------------------------------------------------


def _wait_for(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.05)


def _rendering(work: Path) -> bool:
    """The marker: the hidden work folder beside --out holds its first image."""
    return any(
        p.suffix == ".png" for q in work.rglob(".*.tmp-*") if q.is_dir() for p in q.rglob("*")
    )


def _default_sigint() -> None:  # pragma: no cover - runs in the child before exec
    # A child inherits an ignored SIGINT (a CI runner's); Python then never raises
    # KeyboardInterrupt. The default disposition lets it install its own handler.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.mark.skipif(os.name != "posix", reason="signals sent to a child process: POSIX only")
@pytest.mark.parametrize(("signum", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
@pytest.mark.parametrize("earlier", [False, True], ids=["new-folders", "replacing"])
def test_a_signal_mid_render_is_one_line_and_leaves_things_as_they_were(
    segments, work, tmp_path, capsys, signum, code, earlier
):
    if earlier:  # an earlier output in --out, to be kept whole
        out = work / "out"
        assert _render(["--audiences", str(segments), *QUICK, "--out", str(out)], capsys)[0] == 0
    else:  # --out in folders the render makes, to be removed again
        out = work / "a" / "b" / "out"
    before = _tree(work)
    err_path = tmp_path / "stderr.txt"
    with err_path.open("wb") as err:
        # 2 audiences x 150 variants at the feed size: many seconds of rendering.
        proc = subprocess.Popen(
            [sys.executable, "-m", "creative", "render", "--audiences", str(segments),
             "--per-segment", "150", "--size", "feed", "--out", str(out)],
            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=err, preexec_fn=_default_sigint,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )  # fmt: skip
    try:
        _wait_for(lambda: _rendering(work) or proc.poll() is not None, 240, "the first image")
        assert proc.poll() is None, err_path.read_text()  # still rendering when stopped
        proc.send_signal(signum)
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            with contextlib.suppress(OSError):
                proc.kill()
            proc.wait()
    lines = err_path.read_text().strip().splitlines()
    assert proc.returncode == code, lines
    assert lines == ["interrupted: nothing was written"]
    assert _tree(work) == before  # no output, no work folder, no folder made; notes.txt as was

"""Ctrl-C anywhere in the command line: one line saying what was written, exit code 130, never a traceback."""

import os
import subprocess
import sys
import textwrap

import pytest

import chainrule.cli as cli
from chainrule.cli import train

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _child(code, *args):
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code), ROOT, *args], capture_output=True, text=True,
                          timeout=120, env={**os.environ, "MPLBACKEND": "Agg"})


def test_ctrl_c_during_the_lazy_matplotlib_import_still_leaves_curves_png(tmp_path):
    proc = _child("""
        import sys
        sys.path.insert(0, sys.argv[1])

        class CtrlC:  # Ctrl-C while matplotlib imports its submodules, the first time only
            fired = False

            def find_spec(self, name, path=None, target=None):
                if name == "matplotlib.colors" and not CtrlC.fired:
                    CtrlC.fired = True
                    raise KeyboardInterrupt
                return None

        sys.meta_path.insert(0, CtrlC())
        from chainrule.cli import main
        sys.exit(main(["train", "--epochs", "2", "--batch-size", "512", "--no-progress", "--out", sys.argv[2]]))
    """, str(tmp_path))
    assert proc.returncode == 130, proc.stderr
    assert proc.stderr.splitlines() == [
        f"python -m chainrule train: interrupted after epoch 1/2; the checkpoint of the last finished epoch (1) is "
        f"kept in {tmp_path / 'model.safetensors'} (curves.png shows it); continue with --resume"
    ]
    assert (tmp_path / "curves.png").read_bytes()[:4] == b"\x89PNG"


def test_ctrl_c_while_chainrule_is_imported_at_start_up(tmp_path):
    proc = _child("""
        import os, signal, sys
        sys.path.insert(0, sys.argv[1])
        sys.argv = ["-m"]  # as while `python -m chainrule` is being located and imported

        class CtrlC:  # Ctrl-C as chainrule's own imports run
            def find_spec(self, name, path=None, target=None):
                if name == "chainrule.core":
                    os.kill(os.getpid(), signal.SIGINT)
                return None

        sys.meta_path.insert(0, CtrlC())
        import chainrule
        print("not reached")
    """)
    assert proc.returncode == 130 and proc.stdout == "", (proc.stdout, proc.stderr)
    assert proc.stderr.splitlines() == ["python -m chainrule: interrupted at start-up; nothing was written"]


def test_ctrl_c_after_the_last_epoch_was_saved_says_so(tmp_path, capsys, monkeypatch):
    def interrupted(*args):
        raise KeyboardInterrupt

    monkeypatch.setattr(train, "evaluate", interrupted)  # the final evaluation, after the last checkpoint
    assert cli.main(["train", "--epochs", "1", "--batch-size", "512", "--no-progress", "--out", str(tmp_path)]) == 130
    err = capsys.readouterr().err
    assert err.splitlines() == [
        f"python -m chainrule train: interrupted after the last epoch (1/1) was saved; the checkpoint of the last "
        f"finished epoch (1) is kept in {tmp_path / 'model.safetensors'} (curves.png shows it)"
    ]


def test_a_command_that_reports_nothing_itself(tmp_path, capsys, monkeypatch):
    import chainrule.viz

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(chainrule.viz, "draw", interrupted)
    assert cli.main(["graph", "x*y", "x=2", "y=3", "--out", str(tmp_path / "g.svg")]) == 130
    assert capsys.readouterr().err == "python -m chainrule graph: interrupted; nothing was written\n"
    assert os.listdir(tmp_path) == []


def test_the_handler_before_and_after_main_starts(capsys):
    import signal

    old = signal.getsignal(signal.SIGINT)
    with pytest.raises(SystemExit) as stop:
        cli._on_interrupt(signal.SIGINT, None)  # still importing: exit at once, quietly
    assert stop.value.code == 130
    assert capsys.readouterr().err == "python -m chainrule: interrupted at start-up; nothing was written\n"
    cli._running = True
    try:
        with pytest.raises(KeyboardInterrupt):  # running: the command reports what it wrote
            cli._on_interrupt(signal.SIGINT, None)
    finally:
        cli._running = False
    assert signal.getsignal(signal.SIGINT) is old

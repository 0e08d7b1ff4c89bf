"""--fix respects the file system (issue 12, point 6): a file that cannot be opened for writing is
left alone with one error line; hard links, mode and owner are kept; symbolic links are written
through; nothing is left behind.

Root can write any file, so the permission tests run in a forked child that has given up root
(uid/gid 65534, "nobody"), in a folder under /tmp that it can reach; everything the fix needs is
imported before the fork.
"""

import json
import os
import shutil
import stat
import tempfile

import pytest

from cnnlint.atomic import write_file
from conftest import fork_for_a_test
from cnnlint.findings import Finding, Fix, Severity
from cnnlint.fix import apply_fixes

CODE = "x = 1\n"
FIXED = "import os\nx = 1\n"
NOBODY = 65534


def fix_of(path):
    return Finding("CNL201", Severity.ERROR, "m", str(path), 1, 1, fix=Fix(1, 1, 1, 1, "import os\n"))


@pytest.fixture
def shared_folder():
    """A folder every user may write in (as /tmp is), removed afterwards."""
    folder = tempfile.mkdtemp(prefix="cnnlint-fixfs-")
    os.chmod(folder, 0o777)
    apply_fixes([fix_of(os.path.join(folder, "warmup.py"))], write=False)  # imports libcst & co. before a fork
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def as_nobody(work):
    """work() run by a user who is not root and owns nothing here; its JSON-able result."""
    if os.geteuid() != 0:
        return work()
    read_end, write_end = os.pipe()
    pid = fork_for_a_test()
    if pid == 0:  # the child: drop root, work, send the result, leave
        try:
            os.setgroups([])
            os.setgid(NOBODY)
            os.setuid(NOBODY)
            os.write(write_end, json.dumps(work()).encode())
        finally:
            os._exit(0)
    os.close(write_end)
    _, status = os.waitpid(pid, 0)
    with os.fdopen(read_end, "rb") as fh:
        result = json.loads(fh.read().decode())
    assert status == 0
    return result


def script(folder, mode):
    """train.py holding CODE in `folder`, with `mode`; its path and stat."""
    path = os.path.join(folder, "train.py")
    with open(path, "w") as fh:
        fh.write(CODE)
    os.chmod(path, mode)
    return path, os.stat(path)


def read(path):
    with open(path) as fh:
        return fh.read()


def fix_errors(path):
    outcome = apply_fixes([fix_of(path)], write=True)
    return [len(outcome.fixed), outcome.errors]


def test_read_only_file_in_a_writable_folder_is_left_alone(shared_folder):
    path, before = script(shared_folder, 0o444)
    fixed, errors = as_nobody(lambda: fix_errors(path))
    assert fixed == 0
    assert errors == [f"{path}: fixes not applied: cannot write the file: Permission denied"]
    after = os.stat(path)
    assert (after.st_ino, after.st_uid, stat.S_IMODE(after.st_mode)) == (before.st_ino, before.st_uid, 0o444)
    assert read(path) == CODE
    assert sorted(os.listdir(shared_folder)) == ["train.py"]


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="needs a file of another user: run as root")
def test_another_users_writable_file_keeps_its_owner(shared_folder):
    """A user who may write the file but not give it away: rewritten in place, not replaced by a file of theirs."""
    path, before = script(shared_folder, 0o666)
    assert as_nobody(lambda: fix_errors(path)) == [1, []]
    after = os.stat(path)
    assert (after.st_ino, after.st_uid, after.st_gid) == (before.st_ino, before.st_uid, before.st_gid)
    assert read(path) == FIXED
    assert sorted(os.listdir(shared_folder)) == ["train.py"]


def test_hard_links_keep_sharing_the_fixed_content(tmp_path):
    path = tmp_path / "train.py"
    path.write_text(CODE)
    other = tmp_path / "same.py"
    os.link(path, other)
    inode = os.stat(path).st_ino
    assert fix_errors(str(path)) == [1, []]
    assert os.stat(path).st_ino == inode and os.stat(path).st_nlink == 2
    assert other.read_text() == FIXED
    assert sorted(p.name for p in tmp_path.iterdir()) == ["same.py", "train.py"]


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="giving a file away needs root")
def test_owner_group_and_mode_kept_by_root(tmp_path):
    path = tmp_path / "train.py"
    path.write_text(CODE)
    os.chown(path, NOBODY, NOBODY)
    os.chmod(path, 0o640)
    assert fix_errors(str(path)) == [1, []]
    st = os.stat(path)
    assert (st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)) == (NOBODY, NOBODY, 0o640)
    assert path.read_text() == FIXED


def test_symlink_written_through_to_its_target(tmp_path):
    (tmp_path / "real").mkdir()
    real = tmp_path / "real" / "train.py"
    real.write_text(CODE)
    link = tmp_path / "train.py"
    link.symlink_to(real)
    assert fix_errors(str(link)) == [1, []]
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert real.read_text() == FIXED
    assert sorted(p.name for p in (tmp_path / "real").iterdir()) == ["train.py"]


def test_failed_in_place_write_puts_the_old_content_back(tmp_path, monkeypatch):
    path = tmp_path / "train.py"
    path.write_text(CODE)
    os.link(path, tmp_path / "same.py")
    real_fsync = os.fsync
    calls = []

    def fsync_fails_on_the_original(fd):
        calls.append(fd)
        if len(calls) == 2:  # the first fsync is the temporary copy's
            raise OSError(5, "Input/output error")
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync_fails_on_the_original)
    with pytest.raises(OSError):
        write_file(str(path), FIXED.encode())
    assert path.read_text() == CODE
    assert sorted(p.name for p in tmp_path.iterdir()) == ["same.py", "train.py"]

"""Reading and writing files in folders the project was given (run folders, a sweep's root, --into, --plot's
folder), safely. Not part of the method; every write of lab/runs.py, lab/sweep.py, lab/figures.py and
lab/infomec_tools.py goes through these functions, and so does their reading of a user's file (train.py writes
only through lab/runs.py).

  - No write follows a link planted in such a folder: a path that is a symbolic link is refused with one line
    naming it, and a file's temp file has a fresh name, created exclusively (a link at that name is an error,
    not a target), then renamed over the file. The folder you name yourself may be a link (a run kept on
    another disk is normal); a link inside it, where the project names the files, is what is refused.
  - No read waits forever: a FIFO, device or folder where a file is expected is refused before it is read
    (opening a FIFO to read waits for a writer that never comes).
Standard library only, so that lab/infomec_tools.py stays free of torch.
"""
import errno
import os
import stat

NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)  # POSIX; elsewhere the islink check stands alone
NONBLOCK = getattr(os, "O_NONBLOCK", 0)  # a FIFO then opens (or fails) at once instead of waiting


def refuse_link(path):
    """SystemExit naming `path` if it is a symbolic link (to a file or a folder)."""
    if os.path.islink(path):
        raise SystemExit(f"error: {path} is a symbolic link (to {os.readlink(path)}); refused: the project never "
                         "writes through a link inside a folder it was given. Remove the link (or copy what it "
                         "points to in its place)")


def refuse_odd_entries(folder):
    """Refuse a folder that holds a link or a FIFO, device or socket, naming the first one: checked before any work
    (each write and read would refuse it later anyway, after minutes of training)."""
    for entry in sorted(os.scandir(folder), key=lambda e: e.name):
        refuse_link(entry.path)
        if not (entry.is_file() or entry.is_dir()):
            raise SystemExit(f"error: {entry.path} is not a regular file (a FIFO, device or socket); refused: "
                             "remove it")


def open_to_write(path, append=False):
    """`path` opened in place (a log to append to, the run folder's lock), never through a link, and only if it is
    a regular file with no other name (a hard link's other name would change too). append=False truncates."""
    refuse_link(path)  # the clear message; O_NOFOLLOW closes the gap between this check and the open
    try:  # (not truncated yet: only once it is known to be a file of this folder's own)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | (os.O_APPEND if append else 0) | NOFOLLOW | NONBLOCK, 0o666)
    except OSError as e:
        if e.errno == errno.ELOOP:
            refuse_link(path)
        if e.errno != errno.ENXIO:  # ENXIO: a FIFO that nobody reads, refused below
            raise
        fd = None
    info = None if fd is None else os.fstat(fd)
    if info is None or not stat.S_ISREG(info.st_mode) or info.st_nlink > 1:
        if fd is not None:
            os.close(fd)
        what = "has another name (a hard link)" if info is not None and stat.S_ISREG(info.st_mode) else \
            "is not a regular file (a FIFO, device or folder)"
        raise SystemExit(f"error: {path} {what}; refused: writing it would write elsewhere. Remove it")
    if NONBLOCK:
        os.set_blocking(fd, True)
    if not append:
        os.truncate(fd, 0)
    return os.fdopen(fd, "a" if append else "w")


def write_atomically(path, write, binary=False):
    """Write a new `path`: write(f) fills a temp file of a fresh name in the same folder, which then replaces
    `path` in one rename, so a reader (or a crash) sees the old file or the new one, never half of one. A link at
    `path` is refused; a failed write removes the temp file and raises."""
    refuse_link(path)
    folder, name = os.path.split(path)
    while True:
        tmp = os.path.join(folder, f"{name}.{os.getpid()}-{os.urandom(4).hex()}.tmp")
        try:  # O_EXCL: fails on anything already at that name, a planted link included (never follows it)
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | NOFOLLOW, 0o666)
            break
        except FileExistsError:
            continue  # (astronomically unlikely with 32 random bits: another name)
    try:
        with os.fdopen(fd, "wb" if binary else "w") as f:
            write(f)
        os.replace(tmp, path)  # atomic on POSIX and Windows
    except BaseException:
        try:
            os.remove(tmp)
        except OSError:
            pass
        raise


def save_figure(fig, path, **savefig_kwargs):
    """fig.savefig to `path` (its format from the extension) through write_atomically, then close the figure."""
    import matplotlib.pyplot as plt

    try:
        fmt = os.path.splitext(path)[1][1:].lower() or "png"
        write_atomically(path, lambda f: fig.savefig(f, format=fmt, **savefig_kwargs), binary=True)
    finally:
        plt.close(fig)


def open_to_read(path, binary=False):
    """`path` opened to read, if it is a regular file (a link to one is fine: reading does not write outside);
    ValueError naming it otherwise. OSError (e.g. FileNotFoundError) as open() raises it."""
    fd = os.open(path, os.O_RDONLY | NONBLOCK)  # a FIFO opens at once: no writer is waited for
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise ValueError(f"{path} is not a regular file (a FIFO, device or folder), refused before reading it")
    if NONBLOCK:
        os.set_blocking(fd, True)
    return os.fdopen(fd, "rb" if binary else "r")

"""proctree.py - which processes run in a directory, and whose children they
are, read from /proc.  Used by tools/fault_campaign.py and the workflow
tests (tests/workflow/stop_check.py)."""
import os


def processes_in(directory):
    """pids of the processes whose working directory is directory."""
    pids = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            if os.readlink(f"/proc/{pid}/cwd") == directory:
                pids.append(int(pid))
        except OSError:
            pass
    return pids


def children_of(ppid):
    """pids of the processes whose parent is ppid."""
    kids = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/stat") as f:
                if int(f.read().rsplit(")", 1)[1].split()[1]) == ppid:
                    kids.append(int(pid))
        except OSError:
            pass
    return kids


def comm(pid):
    try:
        with open(f"/proc/{pid}/comm") as f:
            return f.read().strip()
    except OSError:
        return ""

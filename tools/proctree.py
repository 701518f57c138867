"""proctree.py - which processes run in a directory, whose children they are,
which belong to a session, read from /proc.  Used by tools/fault_campaign.py
and the tests (tests/workflow/stop_check.py, tests/export/export_check.py)."""
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


def stats():
    """(pid, fields of /proc/PID/stat after the command: state, ppid, pgrp,
    session, ...) of every process, zombies too."""
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/stat") as f:
                yield int(pid), f.read().rsplit(")", 1)[1].split()
        except OSError:
            pass


def children_of(ppid):
    """pids of the processes whose parent is ppid."""
    return [pid for pid, fields in stats() if int(fields[1]) == ppid]


def session_members(sid):
    """The processes (zombies too) of session sid, as 'PID STATE'."""
    return [f"{pid} {fields[0]}" for pid, fields in stats() if int(fields[3]) == sid]


def comm(pid):
    try:
        with open(f"/proc/{pid}/comm") as f:
            return f.read().strip()
    except OSError:
        return ""

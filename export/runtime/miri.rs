// miri.rs - the calls an exported Rust test makes, one thin function each.
//
// `epollfuzz export --rust` copies the sections a test uses, after its
// `fn main`; a line `// ---- NAME ----` starts the section of helper NAME
// and is not copied.  Each call returns `Ok(what it returned)` or
// `Err(errno)`, so that a step is one `assert_eq!` against what Linux did.
// The sections must stay rustfmt-clean under rustfmt's defaults and under
// Miri's rustfmt.toml, and warning-free on their own (tests/export_rust
// builds this file with every section, after `use std::thread;` and
// `use std::time::Duration;`, which a test that calls spawn_blocking has).

// ---- result ----
/// What a call returned, or the errno it failed with.
fn result<T: From<i8> + PartialEq>(ret: T) -> Result<T, i32> {
    if ret == T::from(-1) {
        Err(std::io::Error::last_os_error().raw_os_error().unwrap())
    } else {
        Ok(ret)
    }
}

// ---- epoll_create ----
fn epoll_create(size: i32) -> Result<i32, i32> {
    result(unsafe { libc::epoll_create(size) })
}

// ---- epoll_create1 ----
fn epoll_create1(flags: i32) -> Result<i32, i32> {
    result(unsafe { libc::epoll_create1(flags) })
}

// ---- epoll_ctl ----
/// epoll_ctl with an event of these events and data (also for EPOLL_CTL_DEL).
fn epoll_ctl(epfd: i32, op: i32, fd: i32, events: i32, data: u64) -> Result<i32, i32> {
    let mut event = libc::epoll_event { events: 0, u64: 0 };
    event.events = events as u32;
    event.u64 = data;
    result(unsafe { libc::epoll_ctl(epfd, op, fd, &mut event) })
}

// ---- epoll_wait ----
/// epoll_wait with room for maxevents events (for one, when maxevents is not positive); the
/// events it returned, as (events, data).
fn epoll_wait(epfd: i32, maxevents: i32, timeout: i32) -> Result<Vec<(i32, u64)>, i32> {
    let empty = libc::epoll_event { events: 0, u64: 0 };
    let mut events = vec![empty; maxevents.max(1) as usize];
    let n = result(unsafe { libc::epoll_wait(epfd, events.as_mut_ptr(), maxevents, timeout) })?;
    let events = events[..n as usize].iter();
    Ok(events.map(|e| (e.events as i32, e.u64)).collect())
}

// ---- epoll_pwait ----
/// epoll_pwait with no signal mask, as epoll_wait.
fn epoll_pwait(epfd: i32, maxevents: i32, timeout: i32) -> Result<Vec<(i32, u64)>, i32> {
    let empty = libc::epoll_event { events: 0, u64: 0 };
    let mut events = vec![empty; maxevents.max(1) as usize];
    let ptr = events.as_mut_ptr();
    let n = result(unsafe { libc::epoll_pwait(epfd, ptr, maxevents, timeout, std::ptr::null()) })?;
    let events = events[..n as usize].iter();
    Ok(events.map(|e| (e.events as i32, e.u64)).collect())
}

// ---- epoll_pwait2 ----
/// epoll_pwait2 with no signal mask, the timeout in ns as a timespec (None: no timespec); a raw
/// syscall, as the libc crate may lack the wrapper.
fn epoll_pwait2(epfd: i32, maxevents: i32, ns: Option<i64>) -> Result<Vec<(i32, u64)>, i32> {
    let empty = libc::epoll_event { events: 0, u64: 0 };
    let mut events = vec![empty; maxevents.max(1) as usize];
    let mut spec: libc::timespec = unsafe { std::mem::zeroed() };
    let ts: *const libc::timespec = match ns {
        Some(ns) => {
            spec.tv_sec = (ns / 1_000_000_000) as libc::time_t;
            spec.tv_nsec = (ns % 1_000_000_000) as libc::c_long;
            &spec
        }
        None => std::ptr::null(),
    };
    let (ptr, sigset) = (events.as_mut_ptr(), std::ptr::null::<libc::sigset_t>());
    let nr = libc::SYS_epoll_pwait2;
    let n = result(unsafe { libc::syscall(nr, epfd, ptr, maxevents, ts, sigset, 8) })?;
    let events = events[..n as usize].iter();
    Ok(events.map(|e| (e.events as i32, e.u64)).collect())
}

// ---- pipe2 ----
fn pipe2(flags: i32) -> Result<(i32, i32), i32> {
    let mut fds = [-1; 2];
    result(unsafe { libc::pipe2(fds.as_mut_ptr(), flags) })?;
    Ok((fds[0], fds[1]))
}

// ---- eventfd ----
fn eventfd(initval: u32, flags: i32) -> Result<i32, i32> {
    result(unsafe { libc::eventfd(initval, flags) })
}

// ---- socketpair ----
fn socketpair(ty: i32) -> Result<(i32, i32), i32> {
    let mut fds = [-1; 2];
    result(unsafe { libc::socketpair(libc::AF_UNIX, ty, 0, fds.as_mut_ptr()) })?;
    Ok((fds[0], fds[1]))
}

// ---- dup ----
fn dup(fd: i32) -> Result<i32, i32> {
    result(unsafe { libc::dup(fd) })
}

// ---- dup2 ----
fn dup2(fd: i32, newfd: i32) -> Result<i32, i32> {
    result(unsafe { libc::dup2(fd, newfd) })
}

// ---- dup3 ----
fn dup3(fd: i32, newfd: i32, flags: i32) -> Result<i32, i32> {
    result(unsafe { libc::dup3(fd, newfd, flags) })
}

// ---- close ----
fn close(fd: i32) -> Result<i32, i32> {
    result(unsafe { libc::close(fd) })
}

// ---- close_range ----
/// close_range (a raw syscall: the libc crate may lack a wrapper); first and last are unsigned.
fn close_range(first: i32, last: i32, flags: i32) -> Result<libc::c_long, i32> {
    let (first, last, flags) = (first as u32, last as u32, flags as u32);
    result(unsafe { libc::syscall(libc::SYS_close_range, first, last, flags) })
}

// ---- fcntl ----
fn fcntl(fd: i32, cmd: i32, arg: i32) -> Result<i32, i32> {
    result(unsafe { libc::fcntl(fd, cmd, arg) })
}

// ---- write ----
/// A write of len bytes (what they hold does not matter).
fn write(fd: i32, len: usize) -> Result<isize, i32> {
    let bytes = vec![b'x'; len];
    result(unsafe { libc::write(fd, bytes.as_ptr().cast(), len) })
}

// ---- write_value ----
/// A write of len bytes to an eventfd, the first 8 holding value.
fn write_value(fd: i32, len: usize, value: u64) -> Result<isize, i32> {
    let mut bytes = vec![0; len.max(8)];
    bytes[..8].copy_from_slice(&value.to_ne_bytes());
    result(unsafe { libc::write(fd, bytes.as_ptr().cast(), len) })
}

// ---- read ----
/// A read of up to len bytes: how many it read.
fn read(fd: i32, len: usize) -> Result<isize, i32> {
    let mut bytes = vec![0u8; len];
    result(unsafe { libc::read(fd, bytes.as_mut_ptr().cast(), len) })
}

// ---- read_value ----
/// A read of up to len bytes from an eventfd: the counter it read.
fn read_value(fd: i32, len: usize) -> Result<u64, i32> {
    let mut bytes = vec![0u8; len.max(8)];
    let n = result(unsafe { libc::read(fd, bytes.as_mut_ptr().cast(), len) })?;
    assert_eq!(n, 8, "a read from an eventfd returned {n} bytes");
    Ok(u64::from_ne_bytes(bytes[..8].try_into().unwrap()))
}

// ---- shutdown ----
fn shutdown(fd: i32, how: i32) -> Result<i32, i32> {
    result(unsafe { libc::shutdown(fd, how) })
}

// ---- closed_fd ----
/// A number no fd is open at: one just opened and closed again, so the next fd made gets it
/// back, as it would have.
fn closed_fd() -> i32 {
    let fd = eventfd(0, 0).unwrap();
    close(fd).unwrap();
    fd
}

// ---- one_cpu ----
/// Keeps the test, and the threads it starts, on one of the CPUs it may run on (which one
/// depends on the process id, so that tests run side by side spread out), as epollfuzz records
/// a trace: a thread that a call wakes runs once that call has returned, not beside it.
fn one_cpu() {
    let mut mask = [0u64; 16];
    let size = std::mem::size_of_val(&mask);
    result(unsafe { libc::sched_getaffinity(0, size, mask.as_mut_ptr().cast()) }).unwrap();
    let mut cpus = Vec::new();
    for cpu in 0..size * 8 {
        if mask[cpu / 64] >> (cpu % 64) & 1 != 0 {
            cpus.push(cpu);
        }
    }
    let cpu = cpus[std::process::id() as usize % cpus.len()];
    mask = [0; 16];
    mask[cpu / 64] = 1 << (cpu % 64);
    result(unsafe { libc::sched_setaffinity(0, size, mask.as_ptr().cast()) }).unwrap();
}

// ---- spawn_blocking ----
/// Runs call on a thread of its own, and returns once that thread is about to make it and has
/// had 10 ms to fall asleep in it: the heuristic Miri's own tests order threads with.
fn spawn_blocking<T, F>(call: F) -> thread::JoinHandle<T>
where
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    let (started, start) = std::sync::mpsc::channel();
    let handle = thread::spawn(move || {
        started.send(()).unwrap();
        call()
    });
    start.recv().unwrap();
    thread::sleep(Duration::from_millis(10));
    handle
}

// ---- finished ----
/// What a call returned if it has returned by now, taking its thread: for a call whose end
/// depends on how woken threads race. None while it still sleeps (or once taken).
fn finished<T>(handle: &mut Option<thread::JoinHandle<T>>) -> Option<T> {
    if !handle.as_ref()?.is_finished() {
        return None;
    }
    Some(handle.take()?.join().unwrap())
}

// ---- one_of ----
/// Where woken threads race, Linux allows several results for one step: `got` must be one of
/// the alternatives still possible (bit k of `possible`: the k-th outcome Linux allows).
/// Returns the outcomes that stay possible.
fn one_of<T: std::fmt::Debug + PartialEq>(
    step: &str,
    got: T,
    possible: u64,
    alts: &[(u64, T)],
) -> u64 {
    let mut left = 0;
    for (outcomes, want) in alts {
        if outcomes & possible != 0 && *want == got {
            left |= outcomes & possible;
        }
    }
    if left == 0 {
        panic!("{step}: got {got:?}, not allowed ({possible:#b}): {alts:?}");
    }
    left
}

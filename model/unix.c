/*
 * unix.c - AF_UNIX socketpairs (net/unix/af_unix.c, net/core/sock.c).
 *
 * Modelled down to the memory accounting that decides writability: every
 * skb is charged its truesize to the sender's sk_wmem_alloc until the
 * receiver consumes it.  Only socketpairs exist here, so the paths of
 * unconnected datagram senders (peer_wait, the receive-queue limit) are
 * never taken.
 *
 * Blocking, everyone sleeps on the socket's own sk_sleep(sk) queue, in
 * three ways: a stream reader in unix_stream_data_wait() and a sender in
 * sock_wait_for_wmem() with prepare_to_wait() (at the head, not exclusive:
 * every wakeup of the queue wakes them all), a datagram or seqpacket reader
 * in __skb_wait_for_more_packets() with prepare_to_wait_exclusive() (at
 * the tail, one per wakeup) and receiver_wake_function(), which lets only
 * keys with EPOLLIN or EPOLLERR (or none) wake it.  Data for a reader is
 * sk_data_ready (a keyed wake-one), room for a sender unix_write_space
 * (only once the sender is under a quarter of sndbuf), a shutdown or the
 * peer's close sk_state_change (everyone).
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include "internal.h"

#define RCV_SHUTDOWN 1
#define SEND_SHUTDOWN 2
#define SHUTDOWN_MASK 3
#define PAGE_SIZE 4096

/* include/linux/skbuff.h on x86_64 with 64-byte cache lines. */
#define SKB_DATA_ALIGN(x) (((x) + 63u) & ~(size_t)63u)
#define SKB_SHINFO_SIZE 320u  /* SKB_DATA_ALIGN(sizeof(struct skb_shared_info)) */
#define SKB_STRUCT_SIZE 256u  /* SKB_DATA_ALIGN(sizeof(struct sk_buff)) */
#define SKB_MAX_HEAD (PAGE_SIZE - SKB_SHINFO_SIZE)         /* SKB_MAX_HEAD(0) */
#define SKB_MAX_ALLOC ((PAGE_SIZE << 2) - SKB_SHINFO_SIZE) /* SKB_MAX_ORDER(0, 2) */
#define UNIX_SKB_FRAGS_SZ 32768u

struct skb {
	struct skb *next;
	struct usock *owner; /* the sender, charged truesize */
	size_t len, consumed;
	int64_t truesize;
};

struct usock {
	int type;            /* SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET */
	struct usock *peer;  /* unix_peer(); kept by the survivor of a close */
	unsigned shutdown;   /* sk_shutdown */
	int err;             /* sk_err */
	bool dead;           /* SOCK_DEAD: orphaned by release */
	int64_t wmem_alloc;  /* refcount sk_wmem_alloc: 1 + charged truesize */
	int sndbuf;
	struct skb *rq_head, *rq_tail; /* sk_receive_queue */
	struct wait_queue wq;          /* sk->sk_wq */
};

/* kmalloc_size_roundup() for SLUB with 4 KiB pages: power-of-two caches
 * above 192 bytes, the page allocator above 8 KiB. */
static size_t kmalloc_roundup(size_t size)
{
	size_t bucket = 512; /* skb heads are at least SKB_SHINFO_SIZE + 64 */

	while (bucket < size)
		bucket <<= 1;
	return bucket;
}

/*
 * An skb's truesize: its head (kmalloc'd data plus skb_shared_info) plus
 * the struct sk_buff, plus whole pages for paged data.  Matches what
 * SIOCOUTQ shows on 6.18: 1..192 bytes cost 768, 193..704 cost 1280, ...
 */
int64_t unix_skb_truesize(size_t head_len, size_t data_len)
{
	size_t head = kmalloc_roundup(SKB_DATA_ALIGN(head_len) + SKB_SHINFO_SIZE);
	size_t pages = (data_len + PAGE_SIZE - 1) / PAGE_SIZE * PAGE_SIZE;

	return (int64_t)(head + SKB_STRUCT_SIZE + pages);
}

static struct usock *sock_of(struct file *f)
{
	return f->priv;
}

/* unix_writable(): a quarter of sndbuf, counted with the refcount's bias. */
static bool unix_writable(const struct usock *sk, int64_t wmem)
{
	return (wmem << 2) <= sk->sndbuf;
}

/* sock_def_readable(): a keyed, synchronous wake-one of the receiver. */
static void sk_data_ready(struct model *m, struct usock *sk)
{
	wake_up(m, &sk->wq, EPOLLIN | EPOLLPRI | EPOLLRDNORM | EPOLLRDBAND, 1);
}

/* sock_def_wakeup(): everyone, no key. */
static void sk_state_change(struct model *m, struct usock *sk)
{
	if (!sk->dead)
		wake_up(m, &sk->wq, 0, 0);
}

/*
 * sock_wfree() -> unix_write_space(): the sender is uncharged; while it
 * runs, sk_wmem_alloc still holds one extra reference, so writability is
 * judged one above the final count.
 */
static void skb_free(struct model *m, struct skb *skb)
{
	struct usock *owner = skb->owner;

	owner->wmem_alloc -= skb->truesize - 1;
	if (!owner->dead && unix_writable(owner, owner->wmem_alloc))
		wake_up(m, &owner->wq, EPOLLOUT | EPOLLWRNORM | EPOLLWRBAND, 1);
	owner->wmem_alloc -= 1;
	model_free_early(m, skb);
}

static void queue_tail(struct usock *sk, struct skb *skb)
{
	if (sk->rq_tail)
		sk->rq_tail->next = skb;
	else
		sk->rq_head = skb;
	sk->rq_tail = skb;
}

static struct skb *unlink_head(struct usock *sk)
{
	struct skb *skb = sk->rq_head;

	sk->rq_head = skb->next;
	if (!sk->rq_head)
		sk->rq_tail = NULL;
	return skb;
}

/* sock_error(): reports sk_err once and clears it. */
static int sock_error(struct usock *sk)
{
	int err = sk->err;

	sk->err = 0;
	return -err;
}

/* What sock_wait_for_wmem() waits for: the charged memory, counted with
 * the refcount's bias, below sndbuf (one byte stricter than the test that
 * sent it to sleep), or SEND_SHUTDOWN, or an error. */
static bool wmem_wait_over(const struct usock *sk)
{
	return sk->wmem_alloc < sk->sndbuf || (sk->shutdown & SEND_SHUTDOWN) || sk->err;
}

/* What __skb_wait_for_more_packets() and unix_stream_data_wait() wait
 * for: data, an error, or the receiving side shut. */
static bool data_wait_over(const struct usock *sk)
{
	return sk->rq_head || sk->err || (sk->shutdown & RCV_SHUTDOWN);
}

/*
 * Whether a sleeper on this socket must have been woken.  A reader: what it
 * waits for holds.  A sender: only unix_write_space() wakes it for room,
 * and only once the socket is writable by unix_writable()'s quarter, so a
 * sender still asleep with room between a quarter and all of sndbuf is
 * right to be.
 */
static bool unix_io_ready(const struct file *f, const struct io *io)
{
	const struct usock *sk = f->priv;

	if (!io->write)
		return data_wait_over(sk);
	return sk->err || (sk->shutdown & SEND_SHUTDOWN) ||
	       unix_writable(sk, sk->wmem_alloc);
}

/*
 * sock_alloc_send_pskb(): a pending error first, then SEND_SHUTDOWN, then
 * room: allocation succeeds while the charged memory is below sndbuf, so
 * the last skb may overshoot it.  Without room: EAGAIN, or (blocking) a
 * sleep in sock_wait_for_wmem(), after which the loop begins again.
 */
static int alloc_send_skb(struct model *m, struct file *f, struct usock *sk,
			  struct io *io, size_t head_len, size_t data_len,
			  struct skb **out)
{
	int err;

	if (io->resumed) {
		io->resumed = false;
		if (!wmem_wait_over(sk))
			return (int)io_sleep(io, &sk->wq, SLEEP_HEAD, 0);
	}
	if ((err = sock_error(sk)))
		return err;
	if (sk->shutdown & SEND_SHUTDOWN)
		return -EPIPE;
	if (sk->wmem_alloc - 1 >= sk->sndbuf) {
		if (io->nonblock)
			return -EAGAIN;
		return (int)io_sleep(io, &sk->wq, SLEEP_HEAD, 0);
	}
	struct skb *skb = model_alloc(m, sizeof(*skb));

	skb->owner = sk;
	skb->len = head_len + data_len;
	skb->truesize = unix_skb_truesize(head_len, data_len);
	sk->wmem_alloc += skb->truesize;
	*out = skb;
	return 0;
}

/* ---------------------------------------------------------- SOCK_STREAM */

/*
 * unix_poll(), and unix_dgram_poll() for SOCK_DGRAM and SOCK_SEQPACKET: for
 * the ends of a socketpair they give the same mask.  They differ in what
 * the model never reaches: OOB data (PRI), a stream end in TCP_CLOSE, and
 * the peer_wait hook of unconnected datagram senders (never taken between
 * the ends of a pair, where unix_peer(other) == sk).  A peer's close sets
 * no shutdown bits on a datagram end, so it shows nothing there.
 */
static uint32_t unix_poll(struct model *m, struct file *f, int depth,
				 bool peek)
{
	struct usock *sk = sock_of(f);
	uint32_t mask = 0;

	if (sk->err)
		mask |= EPOLLERR;
	if (sk->shutdown == SHUTDOWN_MASK)
		mask |= EPOLLHUP;
	if (sk->shutdown & RCV_SHUTDOWN)
		mask |= EPOLLRDHUP | EPOLLIN | EPOLLRDNORM;
	if (sk->rq_head)
		mask |= EPOLLIN | EPOLLRDNORM;
	if (unix_writable(sk, sk->wmem_alloc))
		mask |= EPOLLOUT | EPOLLWRNORM | EPOLLWRBAND;
	return mask;
}

static struct wait_queue *unix_queue(struct file *f)
{
	return &sock_of(f)->wq;
}

/*
 * unix_stream_sendmsg(): SEND_SHUTDOWN is EPIPE even for a zero-length
 * write; data goes in skbs of at most sndbuf/2 - 64 bytes (and at most one
 * linear head plus 32 KiB of pages), each queued on the peer with its own
 * wakeup.  A failure after some bytes were sent returns the count.  A
 * blocking send that runs out of room sleeps with what it has sent, and
 * woken goes on with the next skb; the peer's close wakes it to ECONNRESET
 * (when the close found data unread) or EPIPE, or its count.
 */
static int64_t unix_stream_write(struct model *m, struct file *f, struct io *io)
{
	struct usock *sk = sock_of(f), *other = sk->peer;
	size_t len = io->len, sent = (size_t)io->done;
	int err = 0;

	if (!io->resumed && (sk->shutdown & SEND_SHUTDOWN))
		return -EPIPE;
	while (sent < len) {
		size_t size = len - sent;
		size_t cap = (size_t)(sk->sndbuf >> 1) - 64;
		struct skb *skb;

		if (size > cap)
			size = cap;
		if (size > SKB_MAX_HEAD + UNIX_SKB_FRAGS_SZ)
			size = SKB_MAX_HEAD + UNIX_SKB_FRAGS_SZ;
		size_t data_len = size > SKB_MAX_HEAD ? size - SKB_MAX_HEAD : 0;
		data_len = (data_len + PAGE_SIZE - 1) / PAGE_SIZE * PAGE_SIZE;
		if (data_len > size)
			data_len = size;

		err = alloc_send_skb(m, f, sk, io, size - data_len, data_len, &skb);
		if (err == MODEL_BLOCKED) {
			io->done = (int64_t)sent;
			return MODEL_BLOCKED;
		}
		if (err)
			break;
		if (other->dead || (other->shutdown & RCV_SHUTDOWN)) {
			skb_free(m, skb); /* consume_skb(): sock_wfree() wakes too */
			err = -EPIPE;
			break;
		}
		queue_tail(other, skb);
		sk_data_ready(m, other);
		sent += size;
	}
	return sent ? (int64_t)sent : err;
}

/*
 * unix_stream_read_generic(): copies across skbs until the buffer is full
 * or the queue is empty; each skb consumed whole is freed, which uncharges
 * its sender.  With nothing queued: a pending error (once), then EOF after
 * RCV_SHUTDOWN, else EAGAIN, or (blocking) a sleep in
 * unix_stream_data_wait() until data, an error or RCV_SHUTDOWN; then it
 * reads whatever is there (one byte is enough: sock_rcvlowat() is 1).
 */
static int64_t unix_stream_read(struct model *m, struct file *f, struct io *io,
				struct result *res)
{
	struct usock *sk = sock_of(f);
	size_t copied = 0, len = io->len;

	if (len == 0) /* sock_read_iter() */
		return 0;
	if (io->resumed && !data_wait_over(sk))
		return io_sleep(io, &sk->wq, SLEEP_HEAD, 0);
	while (len) {
		struct skb *skb = sk->rq_head;

		if (!skb) {
			if (copied)
				break;
			int err = sock_error(sk);
			if (err)
				return err;
			if (sk->shutdown & RCV_SHUTDOWN)
				return 0;
			if (io->nonblock)
				return -EAGAIN;
			return io_sleep(io, &sk->wq, SLEEP_HEAD, 0);
		}
		size_t chunk = skb->len - skb->consumed;

		if (chunk > len)
			chunk = len;
		skb->consumed += chunk;
		copied += chunk;
		len -= chunk;
		if (skb->consumed < skb->len)
			break;
		skb_free(m, unlink_head(sk));
	}
	return (int64_t)copied;
}

/*
 * unix_shutdown(): marks this end, then (stream and seqpacket) the peer with
 * the mirror image (our RCV is its SEND), waking both with no key, this end
 * first.  A dead peer's wait queue is gone, so it wakes nobody.
 */
static int unix_shutdown(struct model *m, struct file *f, int how)
{
	struct usock *sk = sock_of(f), *other = sk->peer;
	unsigned mode, peer_mode = 0;

	if (how < SHUT_RD || how > SHUT_RDWR)
		return -EINVAL;
	mode = (unsigned)how + 1;
	sk->shutdown |= mode;
	sk_state_change(m, sk);
	if (!other || sk->type == SOCK_DGRAM) /* no mirror for datagrams */
		return 0;
	if (mode & RCV_SHUTDOWN)
		peer_mode |= SEND_SHUTDOWN;
	if (mode & SEND_SHUTDOWN)
		peer_mode |= RCV_SHUTDOWN;
	other->shutdown |= peer_mode;
	sk_state_change(m, other);
	return 0;
}

/*
 * unix_release_sock(): a stream or seqpacket peer can no longer send or
 * receive, and gets ECONNRESET when we die with unread data (a datagram
 * peer is told nothing); then our queue is purged, which uncharges the
 * peer skb by skb (a write-space wakeup each).
 */
static void unix_release(struct model *m, struct file *f)
{
	struct usock *sk = sock_of(f), *other = sk->peer;
	struct skb *first = sk->rq_head;

	/* With CONFIG_AF_UNIX_OOB a first skb with nothing left in it (an
	 * empty seqpacket record) does not count as unread data. */
	if (first && first->len == first->consumed)
		first = first->next;
	bool unread = first != NULL;

	sk->dead = true;
	sk->shutdown = SHUTDOWN_MASK;
	sk->peer = NULL;
	if (other && sk->type != SOCK_DGRAM) {
		other->shutdown = SHUTDOWN_MASK;
		if (unread)
			other->err = ECONNRESET;
		sk_state_change(m, other);
	}
	while (sk->rq_head)
		skb_free(m, unlink_head(sk));
}

const struct file_ops unix_stream_ops = {
	.name = "unix stream socket",
	.poll = unix_poll,
	.poll_queue = unix_queue,
	.read = unix_stream_read,
	.write = unix_stream_write,
	.io_ready = unix_io_ready,
	.shutdown = unix_shutdown,
	.release = unix_release,
};

/* ------------------------------------------- SOCK_DGRAM, SOCK_SEQPACKET */

/*
 * unix_seqpacket_sendmsg() and unix_dgram_sendmsg().  The skb is allocated
 * before the peer is looked at, so a send that then fails (no peer, a dead
 * one, one that shut its receiving side) frees it again, and that free wakes
 * the sender's write-space watchers.  A connected datagram end whose peer
 * died is disconnected by its next send (ECONNREFUSED) and is ENOTCONN
 * after; a seqpacket end says EPIPE.  That disconnect wakes the sender's
 * watchers once more before the freed skb does, so a datagram send to a
 * dead peer is two write-space wakeups: two epoll waiters woken, which the
 * scheduler may let scan in either order.
 */
static int64_t unix_dgram_write(struct model *m, struct file *f, struct io *io)
{
	struct usock *sk = sock_of(f), *other;
	struct skb *skb;
	size_t len = io->len, data_len = 0;
	int err;

	if (!io->resumed) {
		if (sk->type == SOCK_SEQPACKET && (err = sock_error(sk)))
			return err;
		if (len > (size_t)sk->sndbuf - 32)
			return -EMSGSIZE;
	}
	if (len > SKB_MAX_ALLOC) {
		data_len = len - SKB_MAX_ALLOC;
		if (data_len > 17 * PAGE_SIZE) /* MAX_SKB_FRAGS */
			data_len = 17 * PAGE_SIZE;
		data_len = (data_len + PAGE_SIZE - 1) / PAGE_SIZE * PAGE_SIZE;
	}
	err = alloc_send_skb(m, f, sk, io, len - data_len, data_len, &skb);
	if (err)
		return err;
	skb->len = len;
	other = sk->peer;
	if (!other) {
		err = -ENOTCONN;
	} else if (other->dead) {
		err = sk->type == SOCK_SEQPACKET ? -EPIPE : -ECONNREFUSED;
		if (sk->type == SOCK_DGRAM) {
			/* unix_dgram_peer_wake_disconnect_wakeup(): dropping
			 * the dead peer wakes our own queue with a write-space
			 * key, whatever the buffer holds; then
			 * unix_dgram_disconnected() purges our queue (its skbs
			 * belong to the dead peer: no wakeup). */
			sk->peer = NULL;
			wake_up(m, &sk->wq, EPOLLOUT | EPOLLWRNORM | EPOLLWRBAND, 1);
			while (sk->rq_head)
				skb_free(m, unlink_head(sk));
		}
	} else if (other->shutdown & RCV_SHUTDOWN) {
		err = -EPIPE;
	}
	if (err) {
		skb_free(m, skb); /* consume_skb() */
		return err;
	}
	queue_tail(other, skb);
	sk_data_ready(m, other);
	return (int64_t)len;
}

/*
 * __unix_dgram_recvmsg(): a pending error comes first, even before queued
 * data; then one datagram, truncated to the buffer and freed whole.  An
 * empty queue is EAGAIN, except that a seqpacket end whose receiving side
 * is shut reads EOF.  Blocking, __skb_wait_for_more_packets() looks again:
 * an error, or RCV_SHUTDOWN (EOF, datagram ends too), or it sleeps, one
 * reader woken per datagram; woken, the whole receive begins again.
 */
static int64_t unix_dgram_read(struct model *m, struct file *f, struct io *io,
			       struct result *res)
{
	struct usock *sk = sock_of(f);
	struct skb *skb;
	size_t n, len = io->len;
	int err;

	if (len == 0) /* sock_read_iter() */
		return 0;
	if ((err = sock_error(sk)))
		return err;
	if (!sk->rq_head) {
		if (!io->nonblock) {
			if (sk->shutdown & RCV_SHUTDOWN)
				return 0;
			return io_sleep(io, &sk->wq, SLEEP_EXCLUSIVE,
					EPOLLIN | EPOLLERR);
		}
		if (sk->type == SOCK_SEQPACKET && (sk->shutdown & RCV_SHUTDOWN))
			return 0;
		return -EAGAIN;
	}
	skb = unlink_head(sk);
	n = skb->len < len ? skb->len : len;
	skb_free(m, skb);
	return (int64_t)n;
}

const struct file_ops unix_dgram_ops = {
	.name = "unix datagram socket",
	.poll = unix_poll,
	.poll_queue = unix_queue,
	.read = unix_dgram_read,
	.write = unix_dgram_write,
	.io_ready = unix_io_ready,
	.shutdown = unix_shutdown,
	.release = unix_release,
};

/* ---------------------------------------------------------- socketpair */

static struct usock *usock_new(struct model *m, int type)
{
	struct usock *sk = model_alloc(m, sizeof(*sk));

	sk->type = type;
	sk->wmem_alloc = 1;
	sk->sndbuf = m->sndbuf;
	waitq_init(&sk->wq);
	return sk;
}

/*
 * __sys_socketpair(): flag bits beyond SOCK_NONBLOCK|SOCK_CLOEXEC are
 * EINVAL; both fds are reserved before the sockets exist, so EMFILE comes
 * before a bad type (EINVAL at or above SOCK_MAX, ESOCKTNOSUPPORT for
 * types AF_UNIX lacks; unix_create() turns SOCK_RAW into SOCK_DGRAM).
 */
int64_t sys_socketpair(struct model *m, int64_t type, struct result *res)
{
	uint32_t flags = (uint32_t)type & ~0xfu;
	int kind = (int)((uint32_t)type & 0xf);
	int fd0, fd1;

	if (flags & ~(uint32_t)(SOCK_NONBLOCK | SOCK_CLOEXEC))
		return -EINVAL;
	fd0 = fd_alloc(m);
	if (fd0 < 0)
		return fd0;
	fd1 = fd_alloc_above(m, fd0);
	if (fd1 < 0)
		return fd1;
	if (kind >= 11) /* SOCK_MAX */
		return -EINVAL;
	if (kind == SOCK_RAW)
		kind = SOCK_DGRAM;
	if (kind != SOCK_STREAM && kind != SOCK_DGRAM && kind != SOCK_SEQPACKET)
		return -ESOCKTNOSUPPORT;

	struct usock *a = usock_new(m, kind), *b = usock_new(m, kind);
	const struct file_ops *ops = kind == SOCK_STREAM ? &unix_stream_ops
							 : &unix_dgram_ops;
	unsigned fl = flags & SOCK_NONBLOCK ? O_NONBLOCK : 0;

	a->peer = b;
	b->peer = a;
	fd_install(m, fd0, file_new(m, ops, a, fl));
	fd_install(m, fd1, file_new(m, ops, b, fl));
	res->fds[0] = fd0;
	res->fds[1] = fd1;
	res->has |= RES_FDS;
	return 0;
}

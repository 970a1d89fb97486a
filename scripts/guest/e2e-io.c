// SPDX-License-Identifier: GPL-2.0
/*
 * End-to-end I/O check for a guest whose block and network devices sit
 * behind an IOMMU with a granule (16K/64K) larger than the CPU page (4K).
 * Data moves with deliberately awkward disk offsets, lengths and buffer
 * offsets, and every byte is checked against a seeded pattern.
 *
 *   e2e-io gen FILE SIZE SEED        write SIZE (k/M/G) bytes of pattern(SEED)
 *   e2e-io blk DEV SEED WSEED        DEV holds pattern(SEED): read workloads in
 *                                    its first 32 MiB, pattern(WSEED) written
 *                                    to the write regions in the second half
 *   e2e-io verify FILE SEED WSEED    the image after blk: pattern(WSEED) in the
 *                                    write regions, pattern(SEED) elsewhere
 *   e2e-io net IP PORT BYTES SEED    stream pattern(SEED) through a TCP echo
 *   e2e-io rate DEV seq|rand BLOCK MS
 *                                    O_DIRECT reads of BLOCK bytes for MS
 *                                    milliseconds, sequential or at random
 *                                    BLOCK-aligned offsets (make bench)
 *
 * The byte at offset o of pattern(s) is byte (o & 7) (little endian) of
 * splitmix64(s ^ ((o >> 3) * 0x9E3779B97F4A7C15)).
 *
 * Every output line starts with "e2e-io: "; the exit status is 0 only when
 * every byte was verified, 1 on a mismatch or an I/O error, 2 on bad usage.
 *
 * Built static against the kernel's nolibc for the guest (NOLIBC is then
 * defined) and against the C library for the host: see scripts/e2e-io.sh.
 */

#ifndef NOLIBC
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>
#else
/*
 * nolibc has no positioned or vectored-positioned I/O, no sockets and no
 * madvise(): call the system calls directly.  The renames keep the rest of
 * the program identical for both builds, and clear of nolibc should it
 * grow functions of the same names.
 */
#include <linux/in.h>

#define pread e2e_pread
#define pwrite e2e_pwrite
#define preadv e2e_preadv
#define pwritev e2e_pwritev
#define madvise e2e_madvise
#define socket e2e_socket
#define connect e2e_connect
#define getsockopt e2e_getsockopt
#define send e2e_send
#define recv e2e_recv
#define shutdown e2e_shutdown

#ifndef AF_INET
#define AF_INET		2
#endif
#ifndef SOCK_STREAM
#define SOCK_STREAM	1
#endif
#ifndef SOCK_NONBLOCK
#define SOCK_NONBLOCK	O_NONBLOCK
#endif
#ifndef SOCK_CLOEXEC
#define SOCK_CLOEXEC	O_CLOEXEC
#endif
#ifndef SOL_SOCKET
#define SOL_SOCKET	1
#endif
#ifndef SO_ERROR
#define SO_ERROR	4
#endif
#ifndef MSG_NOSIGNAL
#define MSG_NOSIGNAL	0x4000
#endif
#ifndef SHUT_WR
#define SHUT_WR		1
#endif

static ssize_t pread(int fd, void *buf, size_t len, off_t off)
{
	return syscall(__NR_pread64, fd, buf, len, off);
}

static ssize_t pwrite(int fd, const void *buf, size_t len, off_t off)
{
	return syscall(__NR_pwrite64, fd, buf, len, off);
}

/* The high half of the position is ignored on 64-bit. */
static ssize_t preadv(int fd, const struct iovec *iov, int cnt, off_t off)
{
	return syscall(__NR_preadv, fd, iov, cnt, off, 0);
}

static ssize_t pwritev(int fd, const struct iovec *iov, int cnt, off_t off)
{
	return syscall(__NR_pwritev, fd, iov, cnt, off, 0);
}

static int madvise(void *addr, size_t len, int advice)
{
	return syscall(__NR_madvise, addr, len, advice);
}

static int socket(int domain, int type, int protocol)
{
	return syscall(__NR_socket, domain, type, protocol);
}

static int connect(int fd, const void *addr, unsigned int len)
{
	return syscall(__NR_connect, fd, addr, len);
}

static int getsockopt(int fd, int level, int name, void *val,
		      unsigned int *len)
{
	return syscall(__NR_getsockopt, fd, level, name, val, len);
}

static ssize_t send(int fd, const void *buf, size_t len, int flags)
{
	return syscall(__NR_sendto, fd, buf, len, flags, NULL, 0);
}

static ssize_t recv(int fd, void *buf, size_t len, int flags)
{
	return syscall(__NR_recvfrom, fd, buf, len, flags, NULL, NULL);
}

static int shutdown(int fd, int how)
{
	return syscall(__NR_shutdown, fd, how);
}
#endif /* NOLIBC */

#define KiB		(1ULL << 10)
#define MiB		(1ULL << 20)
#define NONE		(~0ULL)

#define DISK_MIN	(64 * MiB)	/* blk needs at least this much */
#define READ_AREA	(32 * MiB)	/* read workloads stay below this */
#define WRITE_BASE	(32 * MiB)	/* write regions start here ... */
#define WRITE_STRIDE	(256 * KiB)	/* ... one per stride */
#define NR_WREGIONS	40
#define WGUARD		512		/* disk bytes checked either side */

#define BUF_SIZE	(4 * MiB)	/* the mmap()ed I/O buffer */
#define MGUARD		(64 * KiB)	/* buffer bytes checked either side */
#define POISON		0xa5
#define MAX_SEGS	8

#define NET_WINDOW	(64 * KiB)	/* most bytes sent but not echoed */
#define NET_TIMEOUT_MS	120000

static int failed;		/* an I/O error: exit 1 whatever was compared */

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void say(const char *fmt, ...)
{
	static const char prefix[] = "e2e-io: ";
	char line[512];
	size_t len = sizeof(prefix) - 1;
	va_list ap;
	int n;

	memcpy(line, prefix, len);
	va_start(ap, fmt);
	n = vsnprintf(line + len, sizeof(line) - len - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	if ((size_t)n > sizeof(line) - len - 2)
		n = sizeof(line) - len - 2;
	len += n;
	line[len++] = '\n';
	if (write(1, line, len) < 0)
		failed = 1;
}

static unsigned long long ull(uint64_t v)
{
	return v;
}

/* The data pattern */

static inline uint64_t splitmix64(uint64_t x)
{
	uint64_t z;

	x += 0x9e3779b97f4a7c15ULL;
	z = x;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static inline uint64_t pat_word(uint64_t seed, uint64_t idx)
{
	return splitmix64(seed ^ (idx * 0x9E3779B97F4A7C15ULL));
}

static inline unsigned char pat_byte(uint64_t seed, uint64_t off)
{
	return pat_word(seed, off >> 3) >> ((off & 7) * 8);
}

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define PAT_WORDS	1	/* a pattern word is its 8 bytes in memory order */
#else
#define PAT_WORDS	0
#endif

/* Fill p[0..len) with pattern(seed) from stream offset off. */
static void pat_fill(unsigned char *p, uint64_t len, uint64_t seed, uint64_t off)
{
	for (; len && (off & 7); len--)
		*p++ = pat_byte(seed, off++);
	if (PAT_WORDS) {
		for (; len >= 8; len -= 8, p += 8, off += 8) {
			uint64_t w = pat_word(seed, off >> 3);

			memcpy(p, &w, 8);
		}
	}
	for (; len; len--)
		*p++ = pat_byte(seed, off++);
}

/*
 * Compare p[0..len) with pattern(seed) from stream offset off; return the
 * number of differing bytes and set *first to the stream offset of the
 * first one, unless it is already set.
 */
static uint64_t pat_cmp(const unsigned char *p, uint64_t len, uint64_t seed,
			uint64_t off, uint64_t *first)
{
	uint64_t bad = 0;

	for (; len && (off & 7); len--, p++, off++) {
		if (*p != pat_byte(seed, off)) {
			if (*first == NONE)
				*first = off;
			bad++;
		}
	}
	if (PAT_WORDS) {
		for (; len >= 8; len -= 8, p += 8, off += 8) {
			uint64_t v, x;
			int i;

			memcpy(&v, p, 8);
			x = v ^ pat_word(seed, off >> 3);
			if (!x)
				continue;
			for (i = 0; i < 8; i++) {
				if (!((x >> (i * 8)) & 0xff))
					continue;
				if (*first == NONE)
					*first = off + i;
				bad++;
			}
		}
	}
	for (; len; len--, p++, off++) {
		if (*p != pat_byte(seed, off)) {
			if (*first == NONE)
				*first = off;
			bad++;
		}
	}
	return bad;
}

/* Seeded xorshift64 for the generated cases */

static uint64_t rnd_state;

static void rnd_seed(uint64_t seed)
{
	rnd_state = splitmix64(seed) | 1;
}

static uint64_t rnd(void)
{
	uint64_t x = rnd_state;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return rnd_state = x;
}

/* 0 .. n-1 */
static uint64_t rnd_below(uint64_t n)
{
	return rnd() % n;
}

/* 1 .. 2^max_bits, spread evenly over the orders of magnitude */
static uint64_t rnd_size(int max_bits)
{
	return 1 + rnd_below(1ULL << rnd_below(max_bits + 1));
}

/* The write regions, shared by blk and verify */

struct wregion {
	uint64_t off;		/* absolute disk offset */
	uint64_t len;
	uint64_t buf;		/* where blk puts the data in its buffer */
	unsigned int nseg;	/* > 1: blk writes it with pwritev() */
};

static struct wregion wregions[NR_WREGIONS];

/*
 * Region k lies in [WRITE_BASE + k * WRITE_STRIDE, + WRITE_STRIDE - WGUARD),
 * so regions never overlap nor touch each other's guard sectors.  Offsets
 * and lengths are multiples of 512 picked to start, end or straddle 4K,
 * 16K and 64K boundaries.
 */
static void make_wregions(void)
{
	static const uint32_t offs[] = {
		512, 16 * KiB - 512, 64 * KiB - 512, 3584, 4 * KiB - 512,
		16 * KiB + 512, 64 * KiB + 512, 32 * KiB - 1024, 0,
		48 * KiB - 512,
	};
	static const uint32_t lens[] = {
		1024, 16 * KiB + 512, 64 * KiB + 1024, 200 * KiB, 3584, 512,
		128 * KiB - 512, 4 * KiB, 64 * KiB + 512, 160 * KiB + 1536,
	};
	static const uint32_t bufs[] = {
		0, 512, 3584, 4 * KiB + 512, 16 * KiB - 512, 64 * KiB - 1024,
		1024, 8 * KiB + 1536, 32 * KiB + 512, 128 * KiB - 512,
	};
	int k;

	for (k = 0; k < NR_WREGIONS; k++) {
		struct wregion *r = &wregions[k];
		uint64_t off = offs[k % 10];
		uint64_t len = lens[(k * 3 + k / 10) % 10];

		if (off + len > WRITE_STRIDE - WGUARD)
			len = WRITE_STRIDE - WGUARD - off;
		r->off = WRITE_BASE + k * WRITE_STRIDE + off;
		r->len = len;
		r->buf = bufs[(k * 7 + 1) % 10];
		r->nseg = k % 4 == 3 ? 2 + (k / 4) % 4 : 1;
	}
}

/*
 * Compare p[0..len), read from disk offset off, with what the image should
 * hold: pattern(wseed) inside the write regions, pattern(seed) elsewhere.
 * Mismatches inside the write regions are also added to *bad_w if given.
 */
static uint64_t image_cmp(const unsigned char *p, uint64_t len, uint64_t off,
			  uint64_t seed, uint64_t wseed, uint64_t *first,
			  uint64_t *bad_w)
{
	uint64_t bad = 0, end = off + len, n, b;
	int k;

	for (k = 0; k < NR_WREGIONS && off < end; k++) {
		const struct wregion *r = &wregions[k];
		uint64_t rend = r->off + r->len;

		if (rend <= off)
			continue;
		if (r->off >= end)
			break;
		if (r->off > off) {
			n = r->off - off;
			bad += pat_cmp(p, n, seed, off, first);
			p += n;
			off += n;
		}
		n = (rend < end ? rend : end) - off;
		b = pat_cmp(p, n, wseed, off, first);
		bad += b;
		if (bad_w)
			*bad_w += b;
		p += n;
		off += n;
	}
	if (off < end)
		bad += pat_cmp(p, end - off, seed, off, first);
	return bad;
}

/* Common helpers */

static int parse_u64(const char *s, uint64_t *v)
{
	char *end;

	if (!*s)
		return -1;
	*v = strtoull(s, &end, 0);
	return *end ? -1 : 0;
}

/* A size in bytes, with an optional k, M or G suffix. */
static int parse_size(const char *s, uint64_t *v)
{
	char *end;
	int shift = 0;

	if (!*s)
		return -1;
	*v = strtoull(s, &end, 0);
	switch (*end) {
	case 'k': case 'K':
		shift = 10;
		break;
	case 'm': case 'M':
		shift = 20;
		break;
	case 'g': case 'G':
		shift = 30;
		break;
	case 0:
		return 0;
	default:
		return -1;
	}
	if (end[1])
		return -1;
	*v <<= shift;
	return 0;
}

static void *map_buf(uint64_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED) {
		say("mmap %llu bytes: %s", ull(size), strerror(errno));
		return NULL;
	}
	/*
	 * Keep the buffer in scattered 4K pages: a huge page would hand the
	 * devices physically contiguous, granule aligned memory.
	 */
	madvise(p, size, MADV_NOHUGEPAGE);
	return p;
}

static int full_write(int fd, const unsigned char *p, uint64_t len)
{
	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= n;
	}
	return 0;
}

/* Fill up to len bytes, stopping early only at end of file. */
static ssize_t full_read(int fd, unsigned char *p, uint64_t len)
{
	uint64_t done = 0;

	while (done < len) {
		ssize_t n = read(fd, p + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (!n)
			break;
		done += n;
	}
	return done;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* gen */

static int do_gen(const char *file, uint64_t size, uint64_t seed)
{
	const uint64_t chunk = 4 * MiB;
	unsigned char *buf;
	uint64_t off;
	int fd;

	buf = map_buf(chunk);
	if (!buf)
		return 1;
	fd = open(file, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0) {
		say("gen: open %s: %s", file, strerror(errno));
		return 1;
	}
	for (off = 0; off < size; off += chunk) {
		uint64_t n = size - off < chunk ? size - off : chunk;

		pat_fill(buf, n, seed, off);
		if (full_write(fd, buf, n)) {
			say("gen: write %s at %llu: %s", file, ull(off),
			    strerror(errno));
			close(fd);
			return 1;
		}
	}
	if (close(fd)) {
		say("gen: close %s: %s", file, strerror(errno));
		return 1;
	}
	say("gen %s bytes %llu seed %llu", file, ull(size), ull(seed));
	return 0;
}

/* blk */

struct seg {
	uint64_t buf;		/* offset in the I/O buffer */
	uint64_t len;
};

struct workload {
	const char *name;
	unsigned long cases;
	uint64_t bytes;		/* disk bytes compared */
	uint64_t bad;		/* mismatching bytes, in data or buffer guards */
};

static unsigned char *iobuf;
static uint64_t blk_seed, blk_wseed;

static void describe_segs(char *s, size_t size, const struct seg *sg, int n)
{
	size_t len = 0;
	int i;

	s[0] = 0;
	for (i = 0; i < n && len < size; i++)
		len += snprintf(s + len, size - len, "%s%llu+%llu",
				i ? "," : "", ull(sg[i].buf), ull(sg[i].len));
}

/*
 * Read disk [disk, disk + total) into the segments (one pread(), or one
 * preadv() if vec) and check both the data and that nothing in the buffer
 * around and between the segments was touched.
 */
static void run_read(struct workload *w, unsigned long nr, int fd, int vec,
		     uint64_t disk, const struct seg *sg, int n)
{
	struct iovec iov[MAX_SEGS];
	uint64_t lo = BUF_SIZE, hi = 0, total = 0, bad = 0, over = 0;
	uint64_t first = NONE, first_over = NONE, d, i;
	char desc[256];
	ssize_t ret;
	int k;

	for (k = 0; k < n; k++) {
		iov[k].iov_base = iobuf + sg[k].buf;
		iov[k].iov_len = sg[k].len;
		total += sg[k].len;
		if (sg[k].buf < lo)
			lo = sg[k].buf;
		if (sg[k].buf + sg[k].len > hi)
			hi = sg[k].buf + sg[k].len;
	}
	lo = lo > MGUARD ? lo - MGUARD : 0;
	hi = hi + MGUARD < BUF_SIZE ? hi + MGUARD : BUF_SIZE;
	memset(iobuf + lo, POISON, hi - lo);

	if (vec)
		ret = preadv(fd, iov, n, disk);
	else
		ret = pread(fd, iov[0].iov_base, iov[0].iov_len, disk);

	describe_segs(desc, sizeof(desc), sg, n);
	w->bytes += total;
	if (ret < 0 || (uint64_t)ret != total) {
		say("blk %s case %lu disk %llu len %llu buf %s: %s %lld", w->name,
		    nr, ull(disk), ull(total), desc,
		    ret < 0 ? strerror(errno) : "short read", (long long)ret);
		w->bad += total;
		failed = 1;
		return;
	}

	for (d = disk, k = 0; k < n; d += sg[k].len, k++) {
		bad += image_cmp(iobuf + sg[k].buf, sg[k].len, d, blk_seed,
				 blk_wseed, &first, NULL);
		memset(iobuf + sg[k].buf, POISON, sg[k].len);
	}
	/* With the data poisoned again, the whole window must be poison. */
	for (i = lo; i < hi; i++) {
		if (iobuf[i] != POISON) {
			if (first_over == NONE)
				first_over = i;
			over++;
		}
	}
	w->bad += bad + over;
	if (!bad && !over)
		return;
	if (bad)
		say("blk %s case %lu disk %llu len %llu buf %s: mismatches %llu first at disk %llu",
		    w->name, nr, ull(disk), ull(total), desc, ull(bad),
		    ull(first));
	if (over)
		say("blk %s case %lu disk %llu len %llu buf %s: overrun %llu first at buf %llu",
		    w->name, nr, ull(disk), ull(total), desc, ull(over),
		    ull(first_over));
}

static void report(const struct workload *w, struct workload *sum)
{
	say("blk %s cases %lu bytes %llu mismatches %llu", w->name, w->cases,
	    ull(w->bytes), ull(w->bad));
	sum->bytes += w->bytes;
	sum->bad += w->bad;
}

/* disk offset, length, buffer offset: all multiples of 512 */
static const struct { uint32_t disk, len, buf; } odirect_cases[] = {
	{ 0,				512,			0 },
	{ 512,				512,			512 },
	{ 1536,				3584,			3584 },
	{ 4 * KiB - 512,		4 * KiB,		4 * KiB + 512 },
	{ 4 * KiB - 512,		1024,			16 * KiB - 512 },
	{ 16 * KiB - 512,		1024,			64 * KiB - 1024 },
	{ 16 * KiB - 512,		16 * KiB + 512,		0 },
	{ 16 * KiB + 512,		16 * KiB + 512,		512 },
	{ 16 * KiB + 512,		3584,			4 * KiB + 512 },
	{ 32 * KiB - 512,		1536,			3584 },
	{ 64 * KiB - 512,		1024,			0 },
	{ 64 * KiB - 512,		64 * KiB + 1024,	512 },
	{ 64 * KiB + 512,		64 * KiB + 1024,	16 * KiB - 512 },
	{ 64 * KiB + 512,		512,			64 * KiB - 1024 },
	{ 64 * KiB - 1024,		4 * KiB,		4 * KiB + 512 },
	{ 128 * KiB - 512,		200 * KiB + 512,	3584 },
	{ 192 * KiB + 512,		16 * KiB + 512,		64 * KiB + 512 },
	{ 256 * KiB - 1536,		64 * KiB + 1024,	16 * KiB + 512 },
	{ MiB - 512,			MiB - 512,		0 },
	{ MiB + 512,			MiB - 512,		512 },
	{ 2 * MiB - 512,		MiB - 512,		64 * KiB - 1024 },
	{ 2 * MiB + 1536,		200 * KiB + 512,	16 * KiB - 512 },
	{ 3 * MiB - 16 * KiB - 512,	32 * KiB + 1024,	4 * KiB + 512 },
	{ 4 * MiB - 64 * KiB + 512,	128 * KiB,		3584 },
	{ 5 * MiB - 512,		4 * KiB,		128 * KiB - 512 },
	{ 6 * MiB + 16 * KiB - 512,	48 * KiB + 512,		32 * KiB - 512 },
	{ 7 * MiB + 3584,		4 * KiB + 512,		2 * MiB + 16 * KiB - 512 },
	{ 8 * MiB - 64 * KiB - 512,	64 * KiB + 1024,	256 * KiB + 512 },
	{ 8 * MiB + 4 * KiB - 512,	3584,			MiB - 512 },
	{ 10 * MiB + 512,		200 * KiB + 512,	2 * MiB - 512 },
	{ 12 * MiB - 512,		MiB - 512,		MiB + 512 },
	{ 16 * MiB - 16 * KiB + 512,	16 * KiB - 1024,	3 * MiB + 3584 },
	{ 16 * MiB - 512,		64 * KiB + 1024,	64 * KiB - 1024 },
	{ 20 * MiB + 64 * KiB - 512,	200 * KiB + 512,	3584 },
	{ 24 * MiB - 1024,		1536,			16 * KiB - 512 },
	{ 28 * MiB + 512,		MiB - 512,		4 * KiB + 512 },
	{ 31 * MiB + 16 * KiB - 512,	16 * KiB + 512,		64 * KiB - 512 },
	{ 31 * MiB + 512,		MiB - 1024,		512 },
	{ 32 * MiB - 64 * KiB - 512,	64 * KiB + 512,		16 * KiB + 512 },
	{ 32 * MiB - 512,		512,			64 * KiB - 1024 },
};

/* disk offset, length, buffer offset: odd on purpose */
static const struct { uint32_t disk, len, buf; } buffered_cases[] = {
	{ 1,				1,			1 },
	{ 7,				7,			3 },
	{ 4095,				2,			4095 },
	{ 4095,				4097,			17 },
	{ 16383,			16385,			16383 },
	{ 65537,			65537,			65535 },
	{ 65535,			200001,			511 },
	{ MiB - 1,			3,			4097 },
	{ 3 * MiB + 12345,		MiB - 3,		333 },
	{ 16 * MiB - 16383,		32767,			64 * KiB + 1 },
	{ 32 * MiB - 7,			7,			7 },
	{ 100001,			3 * 65537,		99 },
};

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static int check_tables(void)
{
	unsigned int i;
	int k;

	for (i = 0; i < ARRAY_SIZE(odirect_cases); i++) {
		uint64_t d = odirect_cases[i].disk, l = odirect_cases[i].len;
		uint64_t b = odirect_cases[i].buf;

		if ((d | l | b) % 512 || !l || d + l > READ_AREA ||
		    b + l > BUF_SIZE)
			return -1;
	}
	for (i = 0; i < ARRAY_SIZE(buffered_cases); i++) {
		uint64_t d = buffered_cases[i].disk, l = buffered_cases[i].len;

		if (!l || d + l > READ_AREA ||
		    buffered_cases[i].buf + l > BUF_SIZE)
			return -1;
	}
	for (k = 0; k < NR_WREGIONS; k++) {
		const struct wregion *r = &wregions[k];

		if ((r->off | r->len | r->buf) % 512 || !r->len ||
		    r->off < WRITE_BASE + k * WRITE_STRIDE ||
		    r->off + r->len + WGUARD > WRITE_BASE + (k + 1) * WRITE_STRIDE ||
		    r->buf + r->len + MAX_SEGS * 4 * KiB + 2 * WGUARD > BUF_SIZE)
			return -1;
	}
	return 0;
}

static void blk_odirect_read(struct workload *w, int fd)
{
	unsigned int i;
	struct seg sg;

	for (i = 0; i < ARRAY_SIZE(odirect_cases); i++) {
		sg.buf = odirect_cases[i].buf;
		sg.len = odirect_cases[i].len;
		run_read(w, w->cases++, fd, 0, odirect_cases[i].disk, &sg, 1);
	}
	rnd_seed(blk_seed ^ 0x6f64726561640001ULL);
	for (i = 0; i < 40; i++) {
		uint64_t disk;

		sg.len = 512 * rnd_size(11);		/* up to 1 MiB */
		disk = 512 * rnd_below((READ_AREA - sg.len) / 512 + 1);
		sg.buf = 512 * rnd_below((BUF_SIZE - sg.len) / 512 + 1);
		run_read(w, w->cases++, fd, 0, disk, &sg, 1);
	}
}

static void blk_odirect_readv(struct workload *w, int fd)
{
	struct seg sg[MAX_SEGS];
	int i, k, n, rev;

	rnd_seed(blk_seed ^ 0x6f64726561647602ULL);
	for (i = 0; i < 30; i++) {
		uint64_t total = 0, cur, disk;

		n = 2 + rnd_below(MAX_SEGS - 1);
		for (k = 0; k < n; k++) {
			sg[k].len = 512 * rnd_size(7);	/* up to 64 KiB */
			total += sg[k].len;
		}
		disk = 512 * rnd_below((READ_AREA - total) / 512 + 1);
		/*
		 * Segments in memory with gaps between them, in the order of
		 * the iovecs or reversed.
		 */
		rev = rnd() & 1;
		cur = 512 * rnd_below(256);
		for (k = 0; k < n; k++) {
			struct seg *s = &sg[rev ? n - 1 - k : k];

			s->buf = cur;
			cur += s->len + 512 * (1 + rnd_below(16));
		}
		run_read(w, w->cases++, fd, 1, disk, sg, n);
	}
}

static void drop_page_cache(void)
{
	int fd = open("/proc/sys/vm/drop_caches", O_WRONLY);

	if (fd < 0)
		return;
	if (write(fd, "3\n", 2) < 0)
		say("blk: dropping the page cache: %s", strerror(errno));
	close(fd);
}

static void blk_buffered_read(struct workload *w, int fd)
{
	unsigned int i;
	struct seg sg;

	for (i = 0; i < ARRAY_SIZE(buffered_cases); i++) {
		sg.buf = buffered_cases[i].buf;
		sg.len = buffered_cases[i].len;
		run_read(w, w->cases++, fd, 0, buffered_cases[i].disk, &sg, 1);
	}
	rnd_seed(blk_seed ^ 0x6275666665726403ULL);
	for (i = 0; i < 18; i++) {
		uint64_t disk;

		sg.len = rnd_size(20);			/* up to 1 MiB */
		disk = rnd_below(READ_AREA - sg.len + 1);
		sg.buf = rnd_below(64 * KiB);
		run_read(w, w->cases++, fd, 0, disk, &sg, 1);
	}
}

/* Split region r into segments for pwritev(), a gap after each. */
static int wregion_segs(const struct wregion *r, struct seg *sg)
{
	uint64_t left = r->len, cur = r->buf;
	int n = r->nseg, k;

	if ((uint64_t)n > left / 512)
		n = left / 512;
	rnd_seed(r->off);
	for (k = 0; k < n; k++) {
		uint64_t sectors = left / 512 - (n - 1 - k);

		sg[k].len = k == n - 1 ? left : 512 * (1 + rnd_below(sectors));
		sg[k].buf = cur;
		left -= sg[k].len;
		cur += sg[k].len + 512 * (1 + rnd_below(8));
	}
	return n;
}

static void blk_odirect_write(struct workload *w, int fd)
{
	static const uint32_t rbufs[] = {
		3584, 64 * KiB - 1024, 512, 16 * KiB + 512, 4 * KiB - 512,
		1024, 32 * KiB - 512, 0, 64 * KiB + 512, 16 * KiB - 1536,
	};
	struct iovec iov[MAX_SEGS];
	struct seg sg[MAX_SEGS], rb;
	char desc[256];
	int k, i, n;

	for (k = 0; k < NR_WREGIONS; k++) {
		const struct wregion *r = &wregions[k];
		uint64_t d = r->off;
		ssize_t ret;

		n = wregion_segs(r, sg);
		for (i = 0; i < n; i++) {
			pat_fill(iobuf + sg[i].buf, sg[i].len, blk_wseed, d);
			iov[i].iov_base = iobuf + sg[i].buf;
			iov[i].iov_len = sg[i].len;
			d += sg[i].len;
		}
		if (n > 1)
			ret = pwritev(fd, iov, n, r->off);
		else
			ret = pwrite(fd, iov[0].iov_base, r->len, r->off);
		if (ret < 0 || (uint64_t)ret != r->len) {
			describe_segs(desc, sizeof(desc), sg, n);
			say("blk %s region %d disk %llu len %llu buf %s: %s %lld",
			    w->name, k, ull(r->off), ull(r->len), desc,
			    ret < 0 ? strerror(errno) : "short write",
			    (long long)ret);
			failed = 1;
		}
	}
	if (fsync(fd)) {
		say("blk %s: fsync: %s", w->name, strerror(errno));
		failed = 1;
	}
	/* Each region with the sector before and after it. */
	for (k = 0; k < NR_WREGIONS; k++) {
		const struct wregion *r = &wregions[k];

		rb.buf = rbufs[(k * 3 + 4) % 10];
		rb.len = r->len + 2 * WGUARD;
		run_read(w, w->cases++, fd, 0, r->off - WGUARD, &rb, 1);
	}
}

static int do_blk(const char *dev, uint64_t seed, uint64_t wseed)
{
	struct workload rd = { .name = "odirect-read" };
	struct workload rv = { .name = "odirect-readv" };
	struct workload bf = { .name = "buffered-read" };
	struct workload wr = { .name = "odirect-write" };
	struct workload sum = { .name = "total" };
	off_t size;
	int fd;

	blk_seed = seed;
	blk_wseed = wseed;
	if (check_tables()) {
		say("blk: internal error in the case tables");
		return 2;
	}
	iobuf = map_buf(BUF_SIZE);
	if (!iobuf)
		return 1;

	fd = open(dev, O_RDONLY | O_DIRECT);
	if (fd < 0) {
		say("blk: open %s O_DIRECT: %s", dev, strerror(errno));
		return 1;
	}
	size = lseek(fd, 0, SEEK_END);
	if (size < 0 || (uint64_t)size < DISK_MIN) {
		say("blk: %s: size %lld, need %llu", dev, (long long)size,
		    ull(DISK_MIN));
		close(fd);
		return 1;
	}
	blk_odirect_read(&rd, fd);
	report(&rd, &sum);
	blk_odirect_readv(&rv, fd);
	report(&rv, &sum);
	close(fd);

	drop_page_cache();
	fd = open(dev, O_RDONLY);
	if (fd < 0) {
		say("blk: open %s: %s", dev, strerror(errno));
		return 1;
	}
	blk_buffered_read(&bf, fd);
	report(&bf, &sum);
	close(fd);

	fd = open(dev, O_RDWR | O_DIRECT);
	if (fd < 0) {
		say("blk: open %s O_RDWR|O_DIRECT: %s", dev, strerror(errno));
		return 1;
	}
	blk_odirect_write(&wr, fd);
	report(&wr, &sum);
	close(fd);

	say("blk total bytes %llu mismatches %llu%s", ull(sum.bytes),
	    ull(sum.bad), failed ? " (with I/O errors)" : "");
	return sum.bad || failed;
}

/* verify */

static int do_verify(const char *file, uint64_t seed, uint64_t wseed)
{
	const uint64_t chunk = 4 * MiB;
	uint64_t off = 0, bad = 0, bad_w = 0, written = 0, first = NONE;
	unsigned char *buf;
	ssize_t n;
	int fd, k;

	buf = map_buf(chunk);
	if (!buf)
		return 1;
	fd = open(file, O_RDONLY);
	if (fd < 0) {
		say("verify: open %s: %s", file, strerror(errno));
		return 1;
	}
	while ((n = full_read(fd, buf, chunk)) > 0) {
		bad += image_cmp(buf, n, off, seed, wseed, &first, &bad_w);
		off += n;
	}
	close(fd);
	if (n < 0) {
		say("verify: read %s at %llu: %s", file, ull(off),
		    strerror(errno));
		return 1;
	}
	/* Write regions beyond the end of the image are missing bytes. */
	for (k = 0; k < NR_WREGIONS; k++) {
		const struct wregion *r = &wregions[k];
		uint64_t end = r->off + r->len;

		written += r->len;
		if (end > off) {
			uint64_t miss = r->off >= off ? r->len : end - off;

			if (first == NONE)
				first = r->off >= off ? r->off : off;
			bad += miss;
			bad_w += miss;
		}
	}
	say("verify bytes %llu written %llu mismatches %llu", ull(off),
	    ull(written), ull(bad));
	if (!bad)
		return 0;
	for (k = 0; k < NR_WREGIONS; k++)
		if (first >= wregions[k].off &&
		    first < wregions[k].off + wregions[k].len)
			break;
	if (k < NR_WREGIONS)
		say("verify first mismatch at %llu in write region %d", ull(first), k);
	else
		say("verify first mismatch at %llu outside the write regions", ull(first));
	say("verify mismatches in write regions %llu elsewhere %llu", ull(bad_w),
	    ull(bad - bad_w));
	return 1;
}

/* net */

static int parse_ipv4(const char *s, unsigned char ip[4])
{
	int i;

	for (i = 0; i < 4; i++) {
		unsigned int v = 0, digits = 0;

		while (*s >= '0' && *s <= '9' && digits < 4) {
			v = v * 10 + (*s++ - '0');
			digits++;
		}
		if (!digits || v > 255 || *s != (i < 3 ? '.' : 0))
			return -1;
		ip[i] = v;
		s++;
	}
	return 0;
}

/* 0 and *v on success, -1 when the file is absent or unreadable. */
static int read_stat(const char *name, uint64_t *v)
{
	char path[96], text[32];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/sys/class/net/eth0/statistics/%s",
		 name);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	n = read(fd, text, sizeof(text) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	text[n] = 0;
	*v = strtoull(text, NULL, 10);
	return 0;
}

static int net_connect(const char *ipstr, uint64_t port, uint64_t deadline)
{
	struct sockaddr_in sa;
	unsigned char *b;
	struct pollfd pfd;
	unsigned int len;	/* socklen_t, which nolibc lacks */
	int fd, err;

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	b = (unsigned char *)&sa.sin_port;
	b[0] = port >> 8;
	b[1] = port;
	if (parse_ipv4(ipstr, (unsigned char *)&sa.sin_addr)) {
		say("net: bad address %s", ipstr);
		return -1;
	}
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		say("net: socket: %s", strerror(errno));
		return -1;
	}
	if (!connect(fd, (const void *)&sa, sizeof(sa)))
		return fd;
	if (errno != EINPROGRESS) {
		say("net: connect %s:%llu: %s", ipstr, ull(port),
		    strerror(errno));
		close(fd);
		return -1;
	}
	pfd.fd = fd;
	pfd.events = POLLOUT;
	for (;;) {
		uint64_t t = now_ms();
		int ret;

		if (t >= deadline) {
			say("net: connect %s:%llu: timed out", ipstr,
			    ull(port));
			close(fd);
			return -1;
		}
		ret = poll(&pfd, 1, deadline - t > 1000 ? 1000 : deadline - t);
		if (ret > 0)
			break;
		if (ret < 0 && errno != EINTR) {
			say("net: poll: %s", strerror(errno));
			close(fd);
			return -1;
		}
	}
	err = 0;
	len = sizeof(err);
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) || err) {
		say("net: connect %s:%llu: %s", ipstr, ull(port),
		    strerror(err ? err : errno));
		close(fd);
		return -1;
	}
	return fd;
}

static int do_net(const char *ip, uint64_t port, uint64_t total, uint64_t seed)
{
	const uint64_t bufsize = NET_WINDOW + 8 * KiB;
	uint64_t tx0 = 0, rx0 = 0, tx1 = 0, rx1 = 0;
	uint64_t sent = 0, recvd = 0, bad = 0, plan = 0, extra = 0;
	uint64_t deadline = now_ms() + NET_TIMEOUT_MS;
	unsigned char *txbuf, *rxbuf;
	unsigned int reported = 0;
	int have_stats, fd, err = 0;
	char stats[96];

	have_stats = !read_stat("tx_bytes", &tx0) && !read_stat("rx_bytes", &rx0);
	txbuf = map_buf(bufsize);
	rxbuf = map_buf(bufsize);
	if (!txbuf || !rxbuf)
		return 1;
	fd = net_connect(ip, port, deadline);
	if (fd < 0)
		return 1;

	rnd_seed(seed ^ 0x6e65740000000004ULL);
	while (recvd < total) {
		uint64_t out = sent - recvd, t = now_ms();
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		int ret;

		if (t >= deadline) {
			say("net: timed out after %u s, sent %llu received %llu",
			    NET_TIMEOUT_MS / 1000, ull(sent), ull(recvd));
			err = 1;
			break;
		}
		/* At the window limit wait for the echo only. */
		if (sent < total && out < NET_WINDOW)
			pfd.events |= POLLOUT;
		ret = poll(&pfd, 1, deadline - t > 1000 ? 1000 : deadline - t);
		if (ret < 0 && errno != EINTR) {
			say("net: poll: %s", strerror(errno));
			err = 1;
			break;
		}
		if (ret <= 0)
			continue;

		if (pfd.revents & POLLOUT) {
			uint64_t n, boff = rnd_below(4 * KiB);
			ssize_t s;

			if (!plan)
				plan = rnd_size(16);	/* 1 .. 64 KiB */
			n = plan;
			if (n > total - sent)
				n = total - sent;
			if (n > NET_WINDOW - out)
				n = NET_WINDOW - out;
			pat_fill(txbuf + boff, n, seed, sent);
			s = send(fd, txbuf + boff, n, MSG_NOSIGNAL);
			if (s < 0 && errno != EAGAIN && errno != EINTR) {
				say("net: send at %llu: %s", ull(sent),
				    strerror(errno));
				err = 1;
				break;
			}
			if (s > 0) {
				sent += s;
				plan -= plan < (uint64_t)s ? plan : (uint64_t)s;
			}
		}
		if (pfd.revents & (POLLIN | POLLERR | POLLHUP)) {
			uint64_t n = rnd_size(16), boff = rnd_below(4 * KiB);
			uint64_t first = NONE, b;
			ssize_t r;

			r = recv(fd, rxbuf + boff, n, 0);
			if (r < 0 && errno != EAGAIN && errno != EINTR) {
				say("net: recv at %llu: %s", ull(recvd),
				    strerror(errno));
				err = 1;
				break;
			}
			if (!r) {
				say("net: connection closed after %llu of %llu bytes",
				    ull(recvd), ull(total));
				err = 1;
				break;
			}
			if (r < 0)
				continue;
			if (recvd + r > sent) {
				say("net: received %llu bytes, only %llu sent",
				    ull(recvd + r), ull(sent));
				err = 1;
			}
			b = pat_cmp(rxbuf + boff, r, seed, recvd, &first);
			if (b && reported++ < 16)
				say("net: %llu mismatches in %lld bytes at %llu, first at %llu",
				    ull(b), (long long)r, ull(recvd), ull(first));
			bad += b;
			recvd += r;
		}
	}

	if (shutdown(fd, SHUT_WR))
		say("net: shutdown: %s", strerror(errno));
	/* Anything but end of file within a second means duplicated data. */
	if (!err) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };

		while (poll(&pfd, 1, 1000) > 0) {
			ssize_t r = recv(fd, rxbuf, NET_WINDOW, 0);

			if (r <= 0)
				break;
			extra += r;
		}
		if (extra) {
			say("net: %llu bytes received beyond the %llu sent",
			    ull(extra), ull(total));
			bad += extra;
		}
	}
	close(fd);

	stats[0] = 0;
	if (have_stats && !read_stat("tx_bytes", &tx1) &&
	    !read_stat("rx_bytes", &rx1))
		snprintf(stats, sizeof(stats), " eth0 tx +%llu rx +%llu",
			 ull(tx1 - tx0), ull(rx1 - rx0));
	say("net sent %llu received %llu mismatches %llu%s", ull(sent),
	    ull(recvd + extra), ull(bad), stats);
	return err || bad || sent != total || recvd != total;
}

/* rate */

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/*
 * Read throughput: nothing is compared (make e2e checks the bytes), the
 * reads only have to succeed in full.  The random offsets come from a fixed
 * seed, so every run reads the same blocks in the same order.
 */
static int do_rate(const char *dev, int random, uint64_t block, uint64_t ms)
{
	uint64_t size, blocks, off = 0, ops = 0, start, t;
	unsigned char *buf;
	int fd;

	fd = open(dev, O_RDONLY | O_DIRECT);
	if (fd < 0) {
		say("rate: open %s O_DIRECT: %s", dev, strerror(errno));
		return 1;
	}
	size = lseek(fd, 0, SEEK_END);
	blocks = size / block;
	buf = map_buf(block);
	if (!buf || !blocks) {
		say("rate: %s: %llu bytes, no block of %llu", dev, ull(size),
		    ull(block));
		return 1;
	}
	rnd_seed(1);
	start = now_ns();
	do {
		ssize_t n;

		if (random)
			off = rnd_below(blocks) * block;
		else if (off + block > blocks * block)
			off = 0;
		n = pread(fd, buf, block, off);
		if (n != (ssize_t)block) {
			say("rate: %s read %llu at %llu: %s", dev, ull(block),
			    ull(off), n < 0 ? strerror(errno) : "short");
			return 1;
		}
		if (!random)
			off += block;
		ops++;
		t = now_ns();
	} while (t - start < ms * 1000000);
	say("rate blk %s block %llu ops %llu bytes %llu ns %llu",
	    random ? "rand" : "seq", ull(block), ull(ops), ull(ops * block),
	    ull(t - start));
	close(fd);
	return 0;
}

static int bad_args(void)
{
	say("usage: e2e-io gen FILE SIZE SEED");
	say("       e2e-io blk DEV SEED WSEED");
	say("       e2e-io verify FILE SEED WSEED");
	say("       e2e-io net IP PORT BYTES SEED");
	say("       e2e-io rate DEV seq|rand BLOCK MS");
	return 2;
}

int main(int argc, char **argv)
{
	uint64_t a, b, c;

	make_wregions();
	if (argc == 5 && !strcmp(argv[1], "gen")) {
		if (parse_size(argv[3], &a) || parse_u64(argv[4], &b))
			return bad_args();
		return do_gen(argv[2], a, b);
	}
	if (argc == 5 && !strcmp(argv[1], "blk")) {
		if (parse_u64(argv[3], &a) || parse_u64(argv[4], &b))
			return bad_args();
		return do_blk(argv[2], a, b);
	}
	if (argc == 5 && !strcmp(argv[1], "verify")) {
		if (parse_u64(argv[3], &a) || parse_u64(argv[4], &b))
			return bad_args();
		return do_verify(argv[2], a, b);
	}
	if (argc == 6 && !strcmp(argv[1], "net")) {
		if (parse_u64(argv[3], &a) || !a || a > 65535 ||
		    parse_size(argv[4], &b) || parse_u64(argv[5], &c))
			return bad_args();
		return do_net(argv[2], a, b, c);
	}
	if (argc == 6 && !strcmp(argv[1], "rate")) {
		if ((strcmp(argv[3], "seq") && strcmp(argv[3], "rand")) ||
		    parse_size(argv[4], &a) || !a || a % 512 ||
		    parse_u64(argv[5], &b) || !b)
			return bad_args();
		return do_rate(argv[2], !strcmp(argv[3], "rand"), a, b);
	}
	return bad_args();
}

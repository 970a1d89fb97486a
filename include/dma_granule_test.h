/* SPDX-License-Identifier: GPL-2.0 */
/*
 * dma_granule_test: what the parts of the module share, and the format of its
 * results.
 *
 * Results are KTAP (Documentation/dev-tools/ktap.rst), printed on the console
 * with the prefix "dma_granule_test: " and kept, without the prefix, in
 * debugfs until the module is removed:
 *
 *	/sys/kernel/debug/dma_granule_test/results	the KTAP text
 *	/sys/kernel/debug/dma_granule_test/summary	one line of counters
 *
 * The KTAP has one subtest per device, named after the device, and in it one
 * case per check (domain, then main.c's dgt_checks[] in order, then torture
 * when the threads parameter is set):
 *
 *	KTAP version 1
 *	1..<devices>
 *	    KTAP version 1
 *	    # Subtest: 0000:00:02.0
 *	    # granule 0x4000 PAGE_SIZE 0x1000 domain DMA untrusted 0 driver virtio-pci
 *	    1..<cases>
 *	    ok 1 domain
 *	    not ok 2 map_phys
 *	    # map_phys: <why>
 *	    ...
 *	ok 1 0000:00:02.0
 *	# dma_granule_test: <passed> passed, <failed> failed
 *
 * With bench=1 the cases are domain, bench_memory and bench_map_sg, whose
 * figures are diagnostics of space-separated "name value" pairs
 * (DGT_BENCH_*_FMT): "# bench dma opt_mapping_size <bytes> ..." once,
 * "# bench mem kind <coherent|noncontiguous|pages|pool> size <bytes> ..." per
 * kind and size, "# bench map_sg round <n> ..." per round.
 *
 * The summary line's fields are DGT_SUMMARY_FMT's, space-separated
 * "name value" pairs, so that a script can read them without parsing KTAP.
 */
#ifndef _DMA_GRANULE_TEST_H
#define _DMA_GRANULE_TEST_H

#include <linux/atomic.h>
#include <linux/device.h>
#include <linux/iommu.h>
#include <linux/types.h>

#define DGT_NAME		"dma_granule_test"
/* Devices one load checks at most (devices=all may find more: the rest are
 * listed as skipped in the log, not tested).
 */
#define DGT_MAX_DEVICES		32
/* Threads of the torture mode, at most. */
#define DGT_MAX_THREADS		64

#define DGT_SUMMARY_FMT \
	"devices %u cases %u passed %u failed %u mappings %llu bytes_verified %llu torture_ops %llu\n"

/* bench.c's figures, one line each (see bench.c for what they measure). */
#define DGT_BENCH_MEM_FMT \
	"    # bench mem kind %s size %zu count %u pages %ld pages_min %ld pages_max %ld floor_pages %zu reach_bytes %llu floor_bytes %zu page_size %lu granule %lu"
#define DGT_BENCH_SKIP_FMT \
	"    # bench mem kind %s size %zu skipped: above the device's max_seg_size %u"
#define DGT_BENCH_DMA_FMT \
	"    # bench dma opt_mapping_size %zu max_mapping_size %zu"
#define DGT_BENCH_SG_FMT \
	"    # bench map_sg round %u lists %u entries %llu bytes %llu iterations %u map_ns %llu unmap_ns %llu"

/* One device under test: its own default domain, used alongside its driver. */
struct dgt_dev {
	struct device *dev;
	struct iommu_domain *domain;
	unsigned long granule;		/* the domain's smallest page */
	bool pci;
};

/* Counters of a whole load, read by debugfs's summary. */
struct dgt_stats {
	atomic64_t mappings;		/* mappings and allocations checked */
	atomic64_t bytes_verified;	/* bytes whose translation was checked */
	atomic64_t torture_ops;
};

/*
 * Why a case failed, reasons joined by "; ": a case passes when it has no
 * reason.  Shared by a thread's operations in the torture mode, so it takes a
 * lock.
 */
struct dgt_why {
	spinlock_t lock;		/* the threads of the torture mode */
	char buf[512];
	size_t len;
	unsigned int count;		/* reasons, including those cut off */
};

/* A seeded xorshift64*, so that a failing run can be repeated. */
struct dgt_rng {
	u64 state;
};

/* Parameters, checked when the module loads. */
struct dgt_params {
	u64 seed;
	unsigned int max_size;
	unsigned int iterations;
	unsigned int threads;
	unsigned int torture_ms;
	bool untrusted;
	bool bench;
	unsigned int bench_parts;	/* bit i: dgt_bench_checks[i] */
};

extern struct dgt_params dgt_params;
extern struct dgt_stats dgt_stats;

void dgt_why_init(struct dgt_why *why);
__printf(2, 3) void dgt_fail(struct dgt_why *why, const char *fmt, ...);

static inline u64 dgt_rand(struct dgt_rng *rng)
{
	u64 x = rng->state;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	rng->state = x;
	return x * 0x2545f4914f6cdd1dULL;
}

/* A number in [0, n), n > 0. */
static inline u64 dgt_below(struct dgt_rng *rng, u64 n)
{
	return dgt_rand(rng) % n;
}

/* checks.c: one function per case; each adds its reasons to @why. */
void dgt_check_map_phys(struct dgt_dev *d, struct dgt_rng *rng,
			struct dgt_why *why);
void dgt_check_map_sg(struct dgt_dev *d, struct dgt_rng *rng,
		      struct dgt_why *why);
void dgt_check_coherent(struct dgt_dev *d, struct dgt_rng *rng,
			struct dgt_why *why);
void dgt_check_pages(struct dgt_dev *d, struct dgt_rng *rng,
		     struct dgt_why *why);
void dgt_check_noncontiguous(struct dgt_dev *d, struct dgt_rng *rng,
			     struct dgt_why *why);
void dgt_check_map_resource(struct dgt_dev *d, struct dgt_rng *rng,
			    struct dgt_why *why);
void dgt_check_page_leak(struct dgt_dev *d, struct dgt_rng *rng,
			 struct dgt_why *why);
/* One random operation of any kind, verified: the torture mode's step. */
void dgt_random_op(struct dgt_dev *d, struct dgt_rng *rng,
		   struct dgt_why *why);

/* bench.c: the cases of the benchmark mode (bench=1), reporting only. */
void dgt_bench_memory(struct dgt_dev *d, struct dgt_rng *rng,
		      struct dgt_why *why);
void dgt_bench_map_sg(struct dgt_dev *d, struct dgt_rng *rng,
		      struct dgt_why *why);

/* main.c: a line of the results, on the console and in debugfs. */
__printf(1, 2) void dgt_ktap(const char *fmt, ...);

/* torture.c */
void dgt_torture(struct dgt_dev *devs, unsigned int n, struct dgt_why *why,
		 u64 *ops);

#endif /* _DMA_GRANULE_TEST_H */

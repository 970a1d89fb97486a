// SPDX-License-Identifier: GPL-2.0
/*
 * dma_granule_test's benchmark mode (bench=1, for make bench): what the DMA
 * API costs a device whose IOMMU granule may exceed PAGE_SIZE, reported as
 * KTAP diagnostics ("# bench ...", format in include/dma_granule_test.h).
 *
 *  - memory: batches of dma_alloc_coherent(), dma_alloc_noncontiguous(),
 *    dma_alloc_pages() and dma_pool_alloc() of 64 bytes to 1 MiB.  For each,
 *    the IOVA space the device reaches (whole granules, walked in the
 *    domain's page table) and the pages the batch took from the page
 *    allocator (the VM event counters: pages allocated less pages freed,
 *    the DMA layer's own bookkeeping and IOMMU page tables included), both
 *    against the floor: the size rounded up to the granule (for a pool, the
 *    batch's bytes rounded up to the granule);
 *  - map_sg: a fixed, seeded set of scatterlists of mixed lengths at
 *    unaligned offsets (the same bytes whatever PAGE_SIZE and granule),
 *    mapped and unmapped over and over; nanoseconds per list.
 *
 * The measurements only fail where the DMA API does (an allocation or a
 * mapping refused): they report, the other modes judge.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/dma-mapping.h>
#include <linux/dmapool.h>
#include <linux/iommu.h>
#include <linux/ktime.h>
#include <linux/mm.h>
#include <linux/scatterlist.h>
#include <linux/sched.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/vmalloc.h>
#include <linux/vmstat.h>

#include "dma_granule_test.h"

#define DGT_BENCH_BATCH_BYTES	SZ_16M	/* floor bytes of one batch, about */
#define DGT_BENCH_MAX_BATCH	512
#define DGT_BENCH_MIN_BATCH	16
#define DGT_BENCH_REPEAT	3	/* batches per size; the median is kept */

static const char *const dgt_bench_kinds[] = {
	"coherent", "noncontiguous", "pages", "pool",
};

enum { DGT_B_COHERENT, DGT_B_NONCONTIG, DGT_B_PAGES, DGT_B_POOL };

/* One object of a batch: whichever the kind returned. */
struct dgt_bench_obj {
	void *cpu;
	struct page *page;
	struct sg_table *sgt;
	dma_addr_t dma;
};

static size_t dgt_floor(struct dgt_dev *d, size_t bytes)
{
	return ALIGN(bytes, max_t(size_t, d->granule, PAGE_SIZE));
}

static int dgt_cmp_ulong(const void *a, const void *b)
{
	unsigned long x = *(const unsigned long *)a, y = *(const unsigned long *)b;

	return x < y ? -1 : x > y;
}

/*
 * The granules of the device's reach, counted once each however many
 * objects share them, as their first IOVA (sorted, then counted unique).
 */
static unsigned long dgt_reach_granules(struct dgt_dev *d,
					struct dgt_bench_obj *objs,
					unsigned int n, size_t size,
					unsigned long *scratch, size_t max,
					unsigned long *unmapped)
{
	unsigned long count = 0, i, k = 0;
	unsigned int j;

	for (j = 0; j < n; j++) {
		dma_addr_t g = ALIGN_DOWN(objs[j].dma, d->granule);
		dma_addr_t end = objs[j].dma + size;

		for (; g < end && k < max; g += d->granule)
			scratch[k++] = g;
	}
	sort(scratch, k, sizeof(*scratch), dgt_cmp_ulong, NULL);
	*unmapped = 0;
	for (i = 0; i < k; i++) {
		if (i && scratch[i] == scratch[i - 1])
			continue;
		count++;
		if (!iommu_iova_to_phys(d->domain, scratch[i]))
			(*unmapped)++;
	}
	return count;
}

/*
 * Pages allocated less pages freed since boot, from the VM event counters:
 * exact for every allocation, those the per-CPU page lists serve included
 * (the free page count misses those).  Whatever else the system allocates
 * meanwhile counts too: an idle guest allocates little.
 */
static long dgt_pages_net(unsigned long *ev)
{
#ifdef CONFIG_VM_EVENT_COUNTERS
	long n = 0;
	int i;

	all_vm_events(ev);
	for (i = PGALLOC_NORMAL - ZONE_NORMAL; i < ALLOCSTALL_NORMAL - ZONE_NORMAL; i++)
		n += ev[i];
	return n - (long)ev[PGFREE];
#else
	return -(long)global_zone_page_state(NR_FREE_PAGES);
#endif
}

/*
 * One batch of @n objects of @size: pages taken from the allocator and
 * granules reached.  Returns 0, or -ENOMEM when an allocation failed.
 */
static int dgt_bench_batch(struct dgt_dev *d, int kind, size_t size,
			   unsigned int n, struct dgt_bench_obj *objs,
			   unsigned long *ev, unsigned long *scratch,
			   size_t max, long *pages,
			   unsigned long *granules, unsigned long *unmapped)
{
	struct dma_pool *pool = NULL;
	long before;
	unsigned int i;
	int ret = 0;

	memset(objs, 0, n * sizeof(*objs));
	if (kind == DGT_B_POOL) {
		pool = dma_pool_create(DGT_NAME, d->dev, size, 0, 0);
		if (!pool)
			return -ENOMEM;
	}
	before = dgt_pages_net(ev);
	for (i = 0; i < n; i++) {
		struct dgt_bench_obj *o = &objs[i];

		switch (kind) {
		case DGT_B_COHERENT:
			o->cpu = dma_alloc_coherent(d->dev, size, &o->dma,
						    GFP_KERNEL);
			break;
		case DGT_B_NONCONTIG:
			o->sgt = dma_alloc_noncontiguous(d->dev, size,
							 DMA_BIDIRECTIONAL,
							 GFP_KERNEL, 0);
			if (o->sgt)
				o->dma = sg_dma_address(o->sgt->sgl);
			break;
		case DGT_B_PAGES:
			o->page = dma_alloc_pages(d->dev, size, &o->dma,
						  DMA_BIDIRECTIONAL, GFP_KERNEL);
			break;
		case DGT_B_POOL:
			o->cpu = dma_pool_alloc(pool, GFP_KERNEL, &o->dma);
			break;
		}
		if (!o->cpu && !o->page && !o->sgt) {
			ret = -ENOMEM;
			break;
		}
	}
	*pages = dgt_pages_net(ev) - before;
	*granules = dgt_reach_granules(d, objs, i, size, scratch, max,
				       unmapped);
	while (i--) {
		struct dgt_bench_obj *o = &objs[i];

		switch (kind) {
		case DGT_B_COHERENT:
			dma_free_coherent(d->dev, size, o->cpu, o->dma);
			break;
		case DGT_B_NONCONTIG:
			dma_free_noncontiguous(d->dev, size, o->sgt,
					       DMA_BIDIRECTIONAL);
			break;
		case DGT_B_PAGES:
			dma_free_pages(d->dev, size, o->page, o->dma,
				       DMA_BIDIRECTIONAL);
			break;
		case DGT_B_POOL:
			dma_pool_free(pool, o->cpu, o->dma);
			break;
		}
	}
	dma_pool_destroy(pool);
	return ret;
}

static int dgt_cmp_long(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;

	return x < y ? -1 : x > y;
}

void dgt_bench_memory(struct dgt_dev *d, struct dgt_rng *rng,
		      struct dgt_why *why)
{
	static const size_t sizes[] = {
		64, 256, SZ_1K, SZ_4K, SZ_16K, SZ_64K, SZ_256K, SZ_1M,
	};
	const size_t max = DGT_BENCH_MAX_BATCH * (SZ_1M / SZ_4K + 2);
	unsigned long *scratch, *ev;
	struct dgt_bench_obj *objs;
	unsigned int k, s, r;

	objs = kvcalloc(DGT_BENCH_MAX_BATCH, sizeof(*objs), GFP_KERNEL);
	scratch = kvcalloc(max, sizeof(*scratch), GFP_KERNEL);
	ev = kcalloc(NR_VM_EVENT_ITEMS, sizeof(*ev), GFP_KERNEL);
	if (!objs || !scratch || !ev) {
		dgt_fail(why, "no memory for the benchmark's bookkeeping");
		goto out;
	}
	for (k = 0; k < ARRAY_SIZE(dgt_bench_kinds); k++) {
		for (s = 0; s < ARRAY_SIZE(sizes); s++) {
			size_t size = sizes[s], floor = dgt_floor(d, size);
			unsigned int n = clamp_t(unsigned int,
						 DGT_BENCH_BATCH_BYTES / floor,
						 DGT_BENCH_MIN_BATCH,
						 DGT_BENCH_MAX_BATCH);
			unsigned long granules = 0, unmapped = 0;
			long pages[DGT_BENCH_REPEAT];
			size_t floor_bytes;

			/*
			 * One DMA segment longer than the device's maximum
			 * is a driver bug to dma-debug.
			 */
			if (k == DGT_B_NONCONTIG &&
			    size > dma_get_max_seg_size(d->dev)) {
				dgt_ktap(DGT_BENCH_SKIP_FMT,
					 dgt_bench_kinds[k], size,
					 dma_get_max_seg_size(d->dev));
				continue;
			}
			for (r = 0; r < DGT_BENCH_REPEAT; r++) {
				if (dgt_bench_batch(d, k, size, n, objs, ev,
						    scratch, max, &pages[r],
						    &granules, &unmapped)) {
					dgt_fail(why, "%s of %zu bytes: an allocation of %u failed",
						 dgt_bench_kinds[k], size, n);
					goto out;
				}
				cond_resched();
			}
			sort(pages, DGT_BENCH_REPEAT, sizeof(pages[0]),
			     dgt_cmp_long, NULL);
			if (unmapped)
				dgt_fail(why, "%s of %zu bytes: %lu granules of the reach unmapped",
					 dgt_bench_kinds[k], size, unmapped);
			floor_bytes = k == DGT_B_POOL ? dgt_floor(d, n * size) :
				      n * floor;
			dgt_ktap(DGT_BENCH_MEM_FMT,
				 dgt_bench_kinds[k], size, n,
				 pages[DGT_BENCH_REPEAT / 2], pages[0],
				 pages[DGT_BENCH_REPEAT - 1],
				 floor_bytes >> PAGE_SHIFT,
				 (u64)granules * d->granule, floor_bytes,
				 PAGE_SIZE, d->granule);
		}
	}
out:
	kfree(ev);
	kvfree(scratch);
	kvfree(objs);
}

#define DGT_BENCH_LISTS		16
#define DGT_BENCH_SG_MAX	32
#define DGT_BENCH_SG_BLOCK	SZ_16K	/* an entry's backing block */

/*
 * dma_map_sg of DGT_BENCH_LISTS seeded lists, 4 to 32 entries of 1 byte
 * to 12 KiB at any offset in a 16 KiB block: the same bytes and offsets on
 * every kernel and granule.  Each round maps and unmaps every list
 * @iterations times; each round's time is reported.
 */
void dgt_bench_map_sg(struct dgt_dev *d, struct dgt_rng *rng,
		      struct dgt_why *why)
{
	unsigned int order = get_order(DGT_BENCH_SG_BLOCK);
	/* Not the seed parameter's: the same lists on every run. */
	struct dgt_rng lists = { .state = 0x5eed0001 };
	struct sg_table *tables;
	struct page **blocks;
	unsigned int l, i, round, nblocks = 0;
	u64 bytes = 0, ents = 0;

	tables = kcalloc(DGT_BENCH_LISTS, sizeof(*tables), GFP_KERNEL);
	blocks = kcalloc(DGT_BENCH_LISTS * DGT_BENCH_SG_MAX, sizeof(*blocks),
			 GFP_KERNEL);
	if (!tables || !blocks) {
		dgt_fail(why, "no memory for the lists");
		goto out;
	}
	for (l = 0; l < DGT_BENCH_LISTS; l++) {
		unsigned int n = 4 + dgt_below(&lists, DGT_BENCH_SG_MAX - 3);
		struct scatterlist *sg;

		if (sg_alloc_table(&tables[l], n, GFP_KERNEL)) {
			dgt_fail(why, "no memory for a scatterlist");
			goto out;
		}
		for_each_sgtable_sg(&tables[l], sg, i) {
			size_t off = dgt_below(&lists, DGT_BENCH_SG_BLOCK - SZ_4K);
			size_t len = 1 + dgt_below(&lists, 3 * SZ_4K);
			struct page *p = alloc_pages(GFP_KERNEL, order);

			if (!p) {
				dgt_fail(why, "no memory for an entry");
				goto out;
			}
			blocks[nblocks++] = p;
			len = min(len, DGT_BENCH_SG_BLOCK - off);
			sg_set_page(sg, p + (off >> PAGE_SHIFT), len,
				    offset_in_page(off));
			bytes += len;
			ents++;
		}
	}
	for (round = 0; round < 3; round++) {
		u64 map_ns = 0, unmap_ns = 0, t0, t1, t2;

		for (i = 0; i < dgt_params.iterations; i++) {
			for (l = 0; l < DGT_BENCH_LISTS; l++) {
				int ret;

				t0 = ktime_get_ns();
				ret = dma_map_sgtable(d->dev, &tables[l],
						      DMA_TO_DEVICE, 0);
				t1 = ktime_get_ns();
				if (ret) {
					dgt_fail(why, "dma_map_sgtable failed: %d", ret);
					goto out;
				}
				dma_unmap_sgtable(d->dev, &tables[l],
						  DMA_TO_DEVICE, 0);
				t2 = ktime_get_ns();
				map_ns += t1 - t0;
				unmap_ns += t2 - t1;
			}
			cond_resched();
		}
		dgt_ktap(DGT_BENCH_SG_FMT,
			 round + 1, DGT_BENCH_LISTS, ents, bytes,
			 dgt_params.iterations, map_ns, unmap_ns);
	}
out:
	while (nblocks--)
		__free_pages(blocks[nblocks], order);
	if (tables)
		for (l = 0; l < DGT_BENCH_LISTS; l++)
			sg_free_table(&tables[l]);
	kfree(blocks);
	kfree(tables);
}

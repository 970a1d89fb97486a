// SPDX-License-Identifier: GPL-2.0
/*
 * dma_granule_test's checks: mappings and allocations made through the public
 * DMA API for a device with a DMA-API domain, each one verified against the
 * domain's page table with iommu_iova_to_phys().
 *
 * For every mapping:
 *  - every byte of the buffer translates to itself, or, where the mapping was
 *    bounced, to a swiotlb slot holding the same bytes (DMA_TO_DEVICE and
 *    DMA_BIDIRECTIONAL);
 *  - the device's reach, the whole IOMMU granules around the mapping, maps
 *    physically contiguous memory: one granule of it per IOMMU page;
 *  - for an untrusted device, no page of that reach holds memory other than
 *    the buffer's own whole pages or swiotlb slots;
 *  - after the unmap or free, no IOVA of the reach still translates where it
 *    did (checked while the memory is still the test's, where it can be).
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/dma-mapping.h>
#include <linux/iommu.h>
#include <linux/mm.h>
#include <linux/page-flags.h>
#include <linux/pci.h>
#include <linux/platform_device.h>
#include <linux/scatterlist.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/swiotlb.h>
#include <linux/vmalloc.h>

#include "dma_granule_test.h"

/*
 * A buffer of the test: the bytes mapped, and the memory around them that
 * the test owns (allocated, and not freed before the checks that use it).
 */
struct dgt_range {
	phys_addr_t start;
	size_t len;
	phys_addr_t own;
	size_t own_len;
};

/* What an IOVA range translated to before its unmap or free. */
struct dgt_snap {
	dma_addr_t first;	/* first IOVA of the reach, granule-aligned */
	unsigned int n;		/* steps of dgt_step() */
	phys_addr_t phys[];
};

static bool dgt_untrusted(struct dgt_dev *d)
{
	return d->pci && to_pci_dev(d->dev)->untrusted;
}

/*
 * The unit the reach is walked in: a page, or the granule where it is smaller
 * (a 64K-page kernel behind a 4K IOMMU maps parts of pages).
 */
static unsigned long dgt_step(struct dgt_dev *d)
{
	return min_t(unsigned long, d->granule, PAGE_SIZE);
}

/* The reach of [@dma, @dma + @len): whole granules, @last inclusive. */
static void dgt_reach(struct dgt_dev *d, dma_addr_t dma, size_t len,
		      dma_addr_t *first, dma_addr_t *last)
{
	*first = ALIGN_DOWN(dma, d->granule);
	*last = ALIGN_DOWN(dma + len - 1, d->granule) + d->granule - 1;
}

/*
 * Whether @phys lies in a swiotlb pool of @dev.  __swiotlb_find_pool(), which
 * swiotlb_find_pool() calls with CONFIG_SWIOTLB_DYNAMIC, is not exported:
 * there the default pool is looked up, and any address is taken for a
 * transient pool once the device has used one (dma_uses_io_tlb), which
 * weakens the checks of untrusted devices with that option.
 */
static bool dgt_in_swiotlb(struct device *dev, phys_addr_t phys)
{
#ifdef CONFIG_SWIOTLB_DYNAMIC
	struct io_tlb_mem *mem = dev->dma_io_tlb_mem;

	if (mem && phys >= mem->defpool.start && phys < mem->defpool.end)
		return true;
	return READ_ONCE(dev->dma_uses_io_tlb) && mem && mem->can_grow;
#else
	return swiotlb_find_pool(dev, phys);
#endif
}

/* Every buffer gets other bytes, so that a stale bounce slot cannot match. */
static atomic64_t dgt_fill_seq;

static void dgt_fill(void *buf, size_t len)
{
	u64 seed = atomic64_inc_return(&dgt_fill_seq) * 0x9e3779b97f4a7c15ULL;
	u8 *p = buf;
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = (u8)((seed >> ((i & 7) * 8)) + i * 131 + (i >> 9));
}

/*
 * @len bytes at @dma must translate to @phys onwards, or to a swiotlb slot
 * holding the same bytes (compared unless the device writes them first).
 */
static void dgt_verify_span(struct dgt_dev *d, dma_addr_t dma,
			    phys_addr_t phys, size_t len,
			    enum dma_data_direction dir, struct dgt_why *why)
{
	size_t x = 0, chunk;
	phys_addr_t got, want;
	dma_addr_t iova;

	while (x < len) {
		chunk = min3(len - x, dgt_step(d) - ((dma + x) & (dgt_step(d) - 1)),
			     PAGE_SIZE - offset_in_page(phys + x));
		iova = dma + x;
		want = phys + x;
		got = iommu_iova_to_phys(d->domain, iova);
		if (got == want) {
			x += chunk;
			continue;
		}
		if (!got || !dgt_in_swiotlb(d->dev, got)) {
			dgt_fail(why, "IOVA %pad (+%#zx of %#zx) maps %pa, not %pa",
				 &iova, x, len, &got, &want);
			return;
		}
		if (dir != DMA_FROM_DEVICE &&
		    memcmp(phys_to_virt(got), phys_to_virt(want), chunk)) {
			dgt_fail(why, "bounce slot %pa at IOVA %pad holds other bytes than %pa",
				 &got, &iova, &want);
			return;
		}
		x += chunk;
	}
	atomic64_add(len, &dgt_stats.bytes_verified);
}

/* Whether [@p, @p + @len) lies wholly inside one buffer of @r. */
static bool dgt_in_buffers(phys_addr_t p, size_t len,
			   const struct dgt_range *r, unsigned int nr)
{
	unsigned int i;

	for (i = 0; i < nr; i++)
		if (p >= r[i].start && p + len <= r[i].start + r[i].len)
			return true;
	return false;
}

/* Whether @p lies in memory the test owns. */
static bool dgt_owned(phys_addr_t p, const struct dgt_range *r,
		      unsigned int nr)
{
	unsigned int i;

	for (i = 0; i < nr; i++)
		if (p >= r[i].own && p < r[i].own + r[i].own_len)
			return true;
	return false;
}

/*
 * The granules on either side of the reach may be someone else's, but must
 * not map the test's memory: a mapping one granule too long, or an unmap one
 * granule too short, shows there.
 */
static void dgt_check_neighbours(struct dgt_dev *d, dma_addr_t first,
				 dma_addr_t last, const struct dgt_range *r,
				 unsigned int nr, struct dgt_why *why)
{
	dma_addr_t n[2] = { first - d->granule, last + 1 };
	unsigned int i;
	phys_addr_t p;

	for (i = 0; i < 2; i++) {
		if ((i == 0 && !first) || (i == 1 && !n[1]))
			continue;
		p = iommu_iova_to_phys(d->domain, n[i]);
		if (p && dgt_owned(p, r, nr))
			dgt_fail(why, "IOVA %pad next to mapping %pad..%pad maps test memory %pa",
				 &n[i], &first, &last, &p);
	}
}

/*
 * The bytes of the bounce slot page @p at @iova that are not the buffer's
 * [@dma, @dma + @len) must be zero: no leftovers of earlier bounces, no other
 * mapping's slot.
 */
static bool dgt_padding_zero(struct dgt_dev *d, dma_addr_t iova, phys_addr_t p,
			     dma_addr_t dma, size_t len, struct dgt_why *why)
{
	const u8 *v = phys_to_virt(p);
	dma_addr_t b;

	for (b = iova; b < iova + dgt_step(d); b++) {
		if (b >= dma && b - dma < len)
			continue;
		if (v[b - iova]) {
			dgt_fail(why, "untrusted: bounce padding at %pad (of %pad+%#zx) not 0",
				 &b, &dma, len);
			return false;
		}
	}
	return true;
}

/*
 * The device reaches the whole granules around [@dma, @dma + @len): each must
 * map one physically contiguous granule.  For an untrusted device each page
 * of it must lie wholly inside one of the buffers @r, or be a swiotlb slot
 * whose bytes around the buffer's are zero.  With @neighbours, the granules on
 * either side must not map the test's memory.
 */
static void dgt_check_reach(struct dgt_dev *d, dma_addr_t dma, size_t len,
			    const struct dgt_range *r, unsigned int nr,
			    bool neighbours, struct dgt_why *why)
{
	bool untrusted = dgt_untrusted(d);
	unsigned long step = dgt_step(d);
	dma_addr_t first, last, iova;
	phys_addr_t base = 0, p;

	dgt_reach(d, dma, len, &first, &last);
	for (iova = first; ; iova += step) {
		p = iommu_iova_to_phys(d->domain, iova);
		if (!p) {
			dgt_fail(why, "IOVA %pad in a granule of %pad+%#zx maps nothing",
				 &iova, &dma, len);
			return;
		}
		if (IS_ALIGNED(iova, d->granule)) {
			base = p;
		} else if (p != base + (iova & (d->granule - 1))) {
			dgt_fail(why, "granule of IOVA %pad is not one contiguous block (%pa)",
				 &iova, &p);
			return;
		}
		if (untrusted && dgt_in_swiotlb(d->dev, p)) {
			if (!dgt_padding_zero(d, iova, p, dma, len, why))
				return;
		} else if (untrusted && !dgt_in_buffers(p, step, r, nr)) {
			dgt_fail(why, "untrusted: %pa at %pad is outside buffer %pad+%#zx",
				 &p, &iova, &dma, len);
			return;
		}
		if (iova >= last - (step - 1))
			break;
	}
	if (neighbours)
		dgt_check_neighbours(d, first, last, r, nr, why);
}

static struct dgt_snap *dgt_snapshot(struct dgt_dev *d, dma_addr_t dma,
				     size_t len, struct dgt_why *why)
{
	unsigned long step = dgt_step(d);
	dma_addr_t first, last;
	struct dgt_snap *s;
	unsigned int i, n;

	dgt_reach(d, dma, len, &first, &last);
	n = (last - first) / step + 1;
	s = kvmalloc(struct_size(s, phys, n), GFP_KERNEL);
	if (!s) {
		dgt_fail(why, "no memory to record %u translations", n);
		return NULL;
	}
	s->first = first;
	s->n = n;
	for (i = 0; i < n; i++)
		s->phys[i] = iommu_iova_to_phys(d->domain, first + (dma_addr_t)i * step);
	return s;
}

/*
 * After an unmap nothing the mapping reached may still be reachable there.
 * With @r, only what lies in the test's own memory (still allocated) is
 * compared, and the granules on either side too: the device's driver may take
 * the IOVA at once, but not with the test's memory behind it.  Without @r
 * (an allocation, freed by now) every translation is compared: only for
 * checks that run alone on the device, as a thread of the torture mode could
 * take both the IOVA and the pages at once.
 */
static void dgt_check_gone(struct dgt_dev *d, struct dgt_snap *s,
			   const struct dgt_range *r, unsigned int nr,
			   struct dgt_why *why)
{
	phys_addr_t p;
	dma_addr_t iova;
	unsigned int i;

	if (!s)
		return;
	for (i = 0; i < s->n; i++) {
		if (!s->phys[i] || (r && !dgt_owned(s->phys[i], r, nr)))
			continue;
		iova = s->first + (dma_addr_t)i * dgt_step(d);
		p = iommu_iova_to_phys(d->domain, iova);
		if (p == s->phys[i]) {
			dgt_fail(why, "IOVA %pad still maps %pa after the unmap",
				 &iova, &p);
			break;
		}
	}
	if (r)
		dgt_check_neighbours(d, s->first,
				     s->first + (dma_addr_t)s->n * dgt_step(d) - 1,
				     r, nr, why);
	kvfree(s);
}

static const enum dma_data_direction dgt_dirs[] = {
	DMA_TO_DEVICE, DMA_BIDIRECTIONAL, DMA_FROM_DEVICE,
};

/* Test memory: high orders may fail, quietly, on a fragmented system. */
#define DGT_GFP		(GFP_KERNEL | __GFP_NOWARN | __GFP_RETRY_MAYFAIL)

/*
 * Map @size bytes at @off into a block of pages (granule-aligned, so @off is
 * also the buffer's offset in its IOMMU granule), verify and unmap.
 */
static void dgt_one_map_phys(struct dgt_dev *d, size_t off, size_t size,
			     enum dma_data_direction dir, struct dgt_why *why)
{
	unsigned int order;
	struct dgt_range r;
	struct dgt_snap *s;
	struct page *block;
	dma_addr_t dma;

	/* A driver maps no more than this at once (swiotlb's limit, bouncing). */
	size = min(size, dma_max_mapping_size(d->dev));
	order = get_order(max(off + size, d->granule));

	block = alloc_pages(DGT_GFP, order);
	if (!block) {
		dgt_fail(why, "no memory for a %#zx-byte buffer", size);
		return;
	}
	r.start = page_to_phys(block) + off;
	r.len = size;
	r.own = page_to_phys(block);
	r.own_len = PAGE_SIZE << order;
	dgt_fill(page_address(block) + off, size);

	dma = dma_map_page_attrs(d->dev, block, off, size, dir, 0);
	if (dma_mapping_error(d->dev, dma)) {
		dgt_fail(why, "dma_map_page(offset %#zx, size %#zx, dir %d) failed",
			 off, size, dir);
		goto out;
	}
	atomic64_inc(&dgt_stats.mappings);
	dgt_verify_span(d, dma, r.start, size, dir, why);
	dgt_check_reach(d, dma, size, &r, 1, true, why);
	s = dgt_snapshot(d, dma, size, why);
	dma_unmap_page_attrs(d->dev, dma, size, dir, 0);
	dgt_check_gone(d, s, &r, 1, why);
out:
	__free_pages(block, order);
}

/*
 * Every offset class (start of a granule and of a page, a byte or a sector
 * into one, the last byte of a page and of a granule) and every size class
 * (a byte, a sector, a page, a granule, each and one more or one less, and
 * several granules), each direction; then random ones.
 */
void dgt_check_map_phys(struct dgt_dev *d, struct dgt_rng *rng,
			struct dgt_why *why)
{
	const size_t g = d->granule;
	const size_t offs[] = {
		0, 1, 512, PAGE_SIZE / 2, PAGE_SIZE - 1, PAGE_SIZE,
		PAGE_SIZE + 512, g / 2, g - 512, g - 1,
	};
	const size_t sizes[] = {
		1, 2, 511, 512, PAGE_SIZE - 1, PAGE_SIZE, PAGE_SIZE + 1,
		g - 1, g, g + 1, 2 * g + PAGE_SIZE, 3 * g - 1,
	};
	unsigned int i, j, k = 0;

	for (i = 0; i < ARRAY_SIZE(offs); i++) {
		if (offs[i] >= g + PAGE_SIZE)
			continue;
		for (j = 0; j < ARRAY_SIZE(sizes); j++) {
			if (sizes[j] > dgt_params.max_size)
				continue;
			dgt_one_map_phys(d, offs[i], sizes[j],
					 dgt_dirs[k++ % ARRAY_SIZE(dgt_dirs)],
					 why);
		}
	}
	for (i = 0; i < dgt_params.iterations; i++)
		dgt_one_map_phys(d, dgt_below(rng, g + PAGE_SIZE),
				 1 + dgt_below(rng, dgt_params.max_size),
				 dgt_dirs[dgt_below(rng, ARRAY_SIZE(dgt_dirs))],
				 why);
}

#define DGT_SG_MAX	16

/*
 * A random scatterlist: up to DGT_SG_MAX entries, each in a block of its own
 * (16K, or a granule where that is larger, granule-aligned) at a random
 * offset (often 0 or a sector multiple) and length.
 */
static void dgt_one_map_sg(struct dgt_dev *d, struct dgt_rng *rng,
			   struct dgt_why *why)
{
	size_t blk = max_t(size_t, SZ_16K, d->granule);
	unsigned int order = get_order(blk);
	unsigned int i, nents = 1 + dgt_below(rng, DGT_SG_MAX);
	enum dma_data_direction dir = dgt_dirs[dgt_below(rng, ARRAY_SIZE(dgt_dirs))];
	unsigned long boundary = dma_get_seg_boundary(d->dev);
	unsigned int max_seg = dma_get_max_seg_size(d->dev);
	struct dgt_snap *snaps[DGT_SG_MAX] = {};
	struct page *blocks[DGT_SG_MAX] = {};
	struct dgt_range r[DGT_SG_MAX];
	size_t total = 0, dma_total = 0, used = 0;
	struct scatterlist *sg, *ent;
	unsigned int e = 0, n = 0;
	struct sg_table sgt;
	int ret;

	if (sg_alloc_table(&sgt, nents, GFP_KERNEL)) {
		dgt_fail(why, "no memory for a scatterlist");
		return;
	}
	for_each_sgtable_sg(&sgt, sg, i) {
		size_t off, len;

		blocks[i] = alloc_pages(DGT_GFP, order);
		if (!blocks[i]) {
			dgt_fail(why, "no memory for a scatterlist entry");
			goto free;
		}
		switch (dgt_below(rng, 4)) {
		case 0:
			off = 0;
			break;
		case 1:
			off = 512 * dgt_below(rng, blk / 512);
			break;
		default:
			off = dgt_below(rng, blk);
		}
		len = 1 + dgt_below(rng, blk - off);
		if (dgt_below(rng, 2))
			len = blk - off;
		r[i].start = page_to_phys(blocks[i]) + off;
		r[i].len = len;
		r[i].own = page_to_phys(blocks[i]);
		r[i].own_len = PAGE_SIZE << order;
		dgt_fill(page_address(blocks[i]) + off, len);
		sg_set_page(sg, blocks[i] + (off >> PAGE_SHIFT), len,
			    offset_in_page(off));
		total += len;
	}

	ret = dma_map_sgtable(d->dev, &sgt, dir, 0);
	if (ret) {
		dgt_fail(why, "dma_map_sgtable(%u entries, %#zx bytes, dir %d) failed: %d",
			 nents, total, dir, ret);
		goto free;
	}
	atomic64_inc(&dgt_stats.mappings);

	/*
	 * The DMA segments carry the entries' bytes in order: walk both, each
	 * piece of an entry checked where its segment puts it.  A segment
	 * respects the device's limits, which merging must keep.
	 */
	ent = sgt.sgl;
	for_each_sgtable_dma_sg(&sgt, sg, i) {
		size_t seg_off = 0, seg_len = sg_dma_len(sg);
		dma_addr_t seg = sg_dma_address(sg);

		dma_total += seg_len;
		if (seg_len > max_seg ||
		    (seg & ~(dma_addr_t)boundary) !=
		    ((seg + seg_len - 1) & ~(dma_addr_t)boundary))
			dgt_fail(why, "DMA segment %pad+%#zx over limits (max %#x, boundary %#lx)",
				 &seg, seg_len, max_seg, boundary);
		while (seg_off < seg_len && ent) {
			size_t piece = min(seg_len - seg_off, ent->length - used);

			dgt_verify_span(d, seg + seg_off, sg_phys(ent) + used,
					piece, dir, why);
			seg_off += piece;
			used += piece;
			if (used == ent->length) {
				ent = sg_next(ent);
				used = 0;
				e++;
			}
		}
		/* The next segment may be the next granule: neighbours later. */
		dgt_check_reach(d, seg, seg_len, r, nents, false, why);
		snaps[n++] = dgt_snapshot(d, seg, seg_len, why);
	}
	if (dma_total != total || e != nents)
		dgt_fail(why, "DMA segments carry %#zx bytes of %u entries, not %#zx of %u",
			 dma_total, e, total, nents);

	dma_unmap_sgtable(d->dev, &sgt, dir, 0);
	for (i = 0; i < n; i++)
		dgt_check_gone(d, snaps[i], r, nents, why);
free:
	for (i = 0; i < nents; i++)
		if (blocks[i])
			__free_pages(blocks[i], order);
	sg_free_table(&sgt);
}

void dgt_check_map_sg(struct dgt_dev *d, struct dgt_rng *rng,
		      struct dgt_why *why)
{
	unsigned int i;

	for (i = 0; i < max(dgt_params.iterations, 8U); i++)
		dgt_one_map_sg(d, rng, why);
}

/* The sizes of the allocation checks, capped at max_size; 0 past the end. */
static size_t dgt_alloc_size(struct dgt_dev *d, unsigned int i)
{
	const size_t g = d->granule;
	const size_t sizes[] = {
		1, PAGE_SIZE - 1, PAGE_SIZE, PAGE_SIZE + 1, g - 1, g,
		g + PAGE_SIZE, 4 * g + 1, SZ_256K + PAGE_SIZE,
		SZ_1M + PAGE_SIZE,
	};

	if (i >= ARRAY_SIZE(sizes))
		return 0;
	return min_t(size_t, sizes[i], dgt_params.max_size);
}

enum dgt_alloc_kind {
	DGT_COHERENT, DGT_COHERENT_CONTIG, DGT_PAGES, DGT_NONCONTIG,
	DGT_NR_KINDS
};

static const char *const dgt_alloc_names[] = {
	[DGT_COHERENT] = "dma_alloc_coherent",
	[DGT_COHERENT_CONTIG] = "dma_alloc_attrs(FORCE_CONTIGUOUS)",
	[DGT_PAGES] = "dma_alloc_pages",
	[DGT_NONCONTIG] = "dma_alloc_noncontiguous",
};

/*
 * An allocation's pages, one per CPU page of @size, must be what its IOVAs
 * translate to, and the DMA address must be aligned as
 * Documentation/core-api/dma-api-howto.rst promises for dma_alloc_coherent()
 * (@align, 0 where nothing is promised).  For an untrusted device the
 * allocation is padded to whole granules, granule-aligned: the granule must
 * start at the allocation, and a physically contiguous allocation
 * (@contig) must be all the device reaches.  A trusted device may reach the
 * rest of the last granule, whatever it holds, as for any streaming mapping.
 */
static void dgt_check_alloc(struct dgt_dev *d, enum dgt_alloc_kind kind,
			    dma_addr_t dma, size_t size, struct page **pages,
			    size_t align, bool contig, struct dgt_why *why)
{
	unsigned int i, n = PAGE_ALIGN(size) >> PAGE_SHIFT;
	dma_addr_t first, last, iova;
	phys_addr_t got, want;

	if (offset_in_page(dma) || (align && !IS_ALIGNED(dma, align)))
		dgt_fail(why, "%s(%#zx) at IOVA %pad is not aligned to %#zx",
			 dgt_alloc_names[kind], size, &dma,
			 max_t(size_t, align, PAGE_SIZE));
	for (i = 0; i < n; i++) {
		iova = dma + ((dma_addr_t)i << PAGE_SHIFT);
		got = iommu_iova_to_phys(d->domain, iova);
		want = page_to_phys(pages[i]);
		if (got != want) {
			dgt_fail(why, "%s(%#zx): IOVA %pad maps %pa, not %pa",
				 dgt_alloc_names[kind], size, &iova, &got, &want);
			return;
		}
	}
	atomic64_add(size, &dgt_stats.bytes_verified);
	if (!dgt_untrusted(d))
		return;
	if (!IS_ALIGNED(dma, d->granule)) {
		dgt_fail(why, "%s(%#zx) for an untrusted device starts inside a granule (%pad)",
			 dgt_alloc_names[kind], size, &dma);
		return;
	}
	dgt_reach(d, dma, size, &first, &last);
	for (iova = dma + ((dma_addr_t)n << PAGE_SHIFT); iova < last;
	     iova += PAGE_SIZE) {
		got = iommu_iova_to_phys(d->domain, iova);
		want = page_to_phys(pages[0]) + (iova - dma);
		if (contig ? got != want :
		    !got || (pfn_valid(PHYS_PFN(got)) &&
			     PageBuddy(pfn_to_page(PHYS_PFN(got))))) {
			dgt_fail(why, "%s(%#zx) untrusted: %pad maps %pa, not its padding",
				 dgt_alloc_names[kind], size, &iova, &got);
			return;
		}
	}
}

static struct page *dgt_cpu_page(void *cpu)
{
	return is_vmalloc_addr(cpu) ? vmalloc_to_page(cpu) : virt_to_page(cpu);
}

/* Pages whose count is not 0 once freed: kept by somebody, or leaked. */
static unsigned int dgt_count_held(struct page **pages, unsigned int n)
{
	unsigned int i, held = 0;

	for (i = 0; i < n; i++)
		if (page_ref_count(pages[i]))
			held++;
	return held;
}

/*
 * Allocate @size of @kind, check it, free it, check that nothing stays
 * mapped (unless @shared: other threads of the test allocate meanwhile).
 * Returns the number of its pages still referenced after the free.  (The
 * tail pages of a non-compound high-order block always count 0: a leak of
 * such a block shows at its first page only.)
 */
static unsigned int dgt_one_alloc(struct dgt_dev *d, enum dgt_alloc_kind kind,
				  size_t size, bool shared, struct dgt_why *why)
{
	enum dma_data_direction dir = DMA_BIDIRECTIONAL;
	struct sg_table *sgt = NULL;
	struct sg_page_iter piter;
	struct page *page = NULL;
	unsigned int i, n, held;
	struct page **pages;
	void *cpu = NULL;
	struct dgt_snap *s;
	dma_addr_t dma;

	/*
	 * The one DMA segment of a noncontiguous allocation is as long as the
	 * allocation: dma-debug reports one longer than the device's maximum
	 * segment (64K by default for PCI) as a driver bug.
	 */
	if (kind == DGT_NONCONTIG)
		size = min_t(size_t, size, dma_get_max_seg_size(d->dev));
	n = PAGE_ALIGN(size) >> PAGE_SHIFT;
	pages = kvcalloc(n, sizeof(*pages), GFP_KERNEL);
	if (!pages) {
		dgt_fail(why, "no memory to track %u pages", n);
		return 0;
	}
	switch (kind) {
	case DGT_COHERENT:
	case DGT_COHERENT_CONTIG:
		cpu = dma_alloc_attrs(d->dev, size, &dma, GFP_KERNEL,
				      kind == DGT_COHERENT_CONTIG ?
				      DMA_ATTR_FORCE_CONTIGUOUS : 0);
		if (!cpu)
			break;
		for (i = 0; i < n; i++)
			pages[i] = dgt_cpu_page(cpu + i * PAGE_SIZE);
		dgt_check_alloc(d, kind, dma, size, pages,
				PAGE_SIZE << get_order(size),
				kind == DGT_COHERENT_CONTIG, why);
		break;
	case DGT_PAGES:
		page = dma_alloc_pages(d->dev, size, &dma, dir, GFP_KERNEL);
		if (!page)
			break;
		for (i = 0; i < n; i++)
			pages[i] = page + i;
		dgt_check_alloc(d, kind, dma, size, pages, 0, true, why);
		break;
	case DGT_NONCONTIG:
		sgt = dma_alloc_noncontiguous(d->dev, size, dir, GFP_KERNEL, 0);
		if (!sgt)
			break;
		if (sgt->nents != 1)
			dgt_fail(why, "dma_alloc_noncontiguous(%#zx) gave %u DMA segments, not 1",
				 size, sgt->nents);
		dma = sg_dma_address(sgt->sgl);
		i = 0;
		for_each_sgtable_page(sgt, &piter, 0)
			if (i < n)
				pages[i++] = sg_page_iter_page(&piter);
		if (i != n)
			dgt_fail(why, "dma_alloc_noncontiguous(%#zx) holds %u pages, not %u",
				 size, i, n);
		else
			dgt_check_alloc(d, kind, dma, size, pages, 0, false,
					why);
		break;
	default:
		break;
	}
	if (!cpu && !page && !sgt) {
		dgt_fail(why, "%s(%#zx) failed", dgt_alloc_names[kind], size);
		kvfree(pages);
		return 0;
	}
	atomic64_inc(&dgt_stats.mappings);

	s = shared ? NULL : dgt_snapshot(d, dma, size, why);
	if (cpu)
		dma_free_attrs(d->dev, size, cpu, dma,
			       kind == DGT_COHERENT_CONTIG ?
			       DMA_ATTR_FORCE_CONTIGUOUS : 0);
	else if (page)
		dma_free_pages(d->dev, size, page, dma, dir);
	else
		dma_free_noncontiguous(d->dev, size, sgt, dir);
	held = dgt_count_held(pages, n);
	dgt_check_gone(d, s, NULL, 0, why);
	kvfree(pages);
	return held;
}

/*
 * One allocation of each size of @kind; one that leaves a page referenced is
 * made four times more: another CPU may take a freed page at once, but not
 * five times in a row, while a leak keeps a page of every allocation.
 */
static void dgt_check_allocs(struct dgt_dev *d, enum dgt_alloc_kind kind,
			     struct dgt_why *why)
{
	unsigned int i, tries;
	size_t size;

	for (i = 0; (size = dgt_alloc_size(d, i)); i++) {
		for (tries = 0; tries < 5; tries++)
			if (!dgt_one_alloc(d, kind, size, false, why))
				break;
		if (tries == 5)
			dgt_fail(why, "%s(%#zx) leaves a page referenced after each of 5 frees",
				 dgt_alloc_names[kind], size);
	}
}

void dgt_check_coherent(struct dgt_dev *d, struct dgt_rng *rng,
			struct dgt_why *why)
{
	dgt_check_allocs(d, DGT_COHERENT, why);
	dgt_check_allocs(d, DGT_COHERENT_CONTIG, why);
}

void dgt_check_pages(struct dgt_dev *d, struct dgt_rng *rng,
		     struct dgt_why *why)
{
	dgt_check_allocs(d, DGT_PAGES, why);
}

void dgt_check_noncontiguous(struct dgt_dev *d, struct dgt_rng *rng,
			     struct dgt_why *why)
{
	dgt_check_allocs(d, DGT_NONCONTIG, why);
}

/*
 * An MMIO region to map with dma_map_resource(): the largest memory region of
 * the device (PCI BARs, a platform device's resources), else the largest
 * memory BAR of any PCI device.  Only its address is used: nothing reads or
 * writes it.
 */
static bool dgt_find_mmio(struct dgt_dev *d, phys_addr_t *start, size_t *len)
{
	struct pci_dev *pdev = NULL;
	struct resource *res;
	unsigned int i;

	*len = 0;
	if (d->pci) {
		pdev = to_pci_dev(d->dev);
		for (i = 0; i < PCI_STD_NUM_BARS; i++) {
			res = pci_resource_n(pdev, i);
			if ((res->flags & IORESOURCE_MEM) && res->start &&
			    resource_size(res) > *len) {
				*start = res->start;
				*len = resource_size(res);
			}
		}
	} else {
		struct platform_device *plat = to_platform_device(d->dev);

		for (i = 0; (res = platform_get_resource(plat, IORESOURCE_MEM, i));
		     i++) {
			if (resource_size(res) > *len) {
				*start = res->start;
				*len = resource_size(res);
			}
		}
	}
	if (*len >= PAGE_SIZE)
		return true;
	/* Every device: pci_get_device() puts the one before, holds the next. */
	pdev = NULL;
	for_each_pci_dev(pdev) {
		for (i = 0; i < PCI_STD_NUM_BARS; i++) {
			res = pci_resource_n(pdev, i);
			if ((res->flags & IORESOURCE_MEM) && res->start &&
			    resource_size(res) > *len) {
				*start = res->start;
				*len = resource_size(res);
			}
		}
	}
	return *len >= PAGE_SIZE;
}

/*
 * dma_map_resource() of an MMIO region at every offset and size class that
 * fits in it: mapped in place, never bounced.  For an untrusted device and a
 * granule above PAGE_SIZE only a range of whole granules may be mapped:
 * anything else would let the device reach the MMIO around it (registers of
 * another device, which a page-sized granule would not), and must fail
 * cleanly.
 */
void dgt_check_map_resource(struct dgt_dev *d, struct dgt_rng *rng,
			    struct dgt_why *why)
{
	const size_t g = d->granule;
	const size_t offs[] = { 0, 8, 512, PAGE_SIZE - 8, g - 8 };
	const size_t sizes[] = { 4, 8, 512, PAGE_SIZE, g, g + 8 };
	bool untrusted = dgt_untrusted(d) && g > PAGE_SIZE;
	unsigned int i, j, tried = 0;
	struct dgt_range r = {};
	struct dgt_snap *s;
	dma_addr_t dma;
	bool aligned;

	if (!dgt_find_mmio(d, &r.own, &r.own_len)) {
		dgt_fail(why, "no MMIO region of a page or more to map");
		return;
	}
	for (i = 0; i < ARRAY_SIZE(offs); i++) {
		for (j = 0; j < ARRAY_SIZE(sizes); j++) {
			if (offs[i] + sizes[j] > r.own_len)
				continue;
			tried++;
			r.start = r.own + offs[i];
			r.len = sizes[j];
			aligned = IS_ALIGNED(r.start, g) && IS_ALIGNED(r.len, g);
			dma = dma_map_resource(d->dev, r.start, r.len,
					       DMA_BIDIRECTIONAL, 0);
			if (dma_mapping_error(d->dev, dma)) {
				if (!untrusted || aligned)
					dgt_fail(why, "dma_map_resource(%pa, %#zx) failed",
						 &r.start, r.len);
				continue;
			}
			atomic64_inc(&dgt_stats.mappings);
			if (untrusted && !aligned)
				dgt_fail(why, "untrusted: MMIO %pa+%#zx (not granules) mapped",
					 &r.start, r.len);
			dgt_verify_span(d, dma, r.start, r.len, DMA_FROM_DEVICE,
					why);
			if (untrusted)
				dgt_check_reach(d, dma, r.len, &r, 1, true, why);
			s = dgt_snapshot(d, dma, r.len, why);
			dma_unmap_resource(d->dev, dma, r.len,
					   DMA_BIDIRECTIONAL, 0);
			dgt_check_gone(d, s, &r, 1, why);
		}
	}
	if (!tried)
		dgt_fail(why, "MMIO region %pa of %#zx too small to map",
			 &r.own, r.own_len);
}

/*
 * Allocate and free over and over, and map and unmap: every page must go back
 * (its count 0 right after the free).  Another CPU may take a freed page at
 * once, so a page seen held is only a suspect; a leak holds a page of every
 * allocation of its kind and size, which dgt_check_allocs() also catches.
 */
void dgt_check_page_leak(struct dgt_dev *d, struct dgt_rng *rng,
			 struct dgt_why *why)
{
	unsigned int i, suspects = 0, loops = max(dgt_params.iterations, 16U);
	size_t size;

	for (i = 0; i < loops; i++) {
		size = dgt_alloc_size(d, dgt_below(rng, 8));
		if (dgt_one_alloc(d, i % DGT_NR_KINDS, size, false, why))
			suspects++;
		dgt_one_map_phys(d, dgt_below(rng, d->granule),
				 1 + dgt_below(rng, min_t(size_t, 2 * d->granule,
							  dgt_params.max_size)),
				 DMA_TO_DEVICE, why);
	}
	if (suspects > loops / 8)
		dgt_fail(why, "%u of %u allocations left a page referenced after their free",
			 suspects, loops);
}

/* The torture mode's step: other threads run on the same device meanwhile. */
void dgt_random_op(struct dgt_dev *d, struct dgt_rng *rng,
		   struct dgt_why *why)
{
	switch (dgt_below(rng, 5)) {
	case 0:
	case 1:
		dgt_one_map_phys(d, dgt_below(rng, d->granule + PAGE_SIZE),
				 1 + dgt_below(rng, dgt_params.max_size),
				 dgt_dirs[dgt_below(rng, ARRAY_SIZE(dgt_dirs))],
				 why);
		break;
	case 2:
		dgt_one_map_sg(d, rng, why);
		break;
	default:
		dgt_one_alloc(d, dgt_below(rng, DGT_NR_KINDS),
			      dgt_alloc_size(d, dgt_below(rng, 8)), true, why);
		break;
	}
}

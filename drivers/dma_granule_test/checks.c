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

/* Memory a device may reach: the buffer's byte ranges. */
struct dgt_range {
	phys_addr_t start;
	size_t len;
};

/* What an IOVA range translated to before its unmap or free. */
struct dgt_snap {
	dma_addr_t start;	/* granule-aligned */
	unsigned int n;		/* CPU pages */
	phys_addr_t phys[];
};

static bool dgt_untrusted(struct dgt_dev *d)
{
	return d->pci && to_pci_dev(d->dev)->untrusted;
}

/*
 * Whether @phys lies in a swiotlb pool of @dev.  __swiotlb_find_pool(), which
 * swiotlb_find_pool() calls with CONFIG_SWIOTLB_DYNAMIC, is not exported:
 * there only the default pool is looked at.
 */
static bool dgt_in_swiotlb(struct device *dev, phys_addr_t phys)
{
#ifdef CONFIG_SWIOTLB_DYNAMIC
	struct io_tlb_mem *mem = dev->dma_io_tlb_mem;

	return mem && phys >= mem->defpool.start && phys < mem->defpool.end;
#else
	return swiotlb_find_pool(dev, phys);
#endif
}

static void dgt_fill(void *buf, size_t len, u64 seed)
{
	u8 *p = buf;
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = (u8)(seed + i * 131 + (i >> 9));
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
	phys_addr_t got;

	while (x < len) {
		chunk = min3(len - x,
			     PAGE_SIZE - offset_in_page(dma + x),
			     PAGE_SIZE - offset_in_page(phys + x));
		got = iommu_iova_to_phys(d->domain, dma + x);
		if (got == phys + x) {
			x += chunk;
			continue;
		}
		if (!got || !dgt_in_swiotlb(d->dev, got)) {
			dgt_fail(why, "IOVA %pad translates to %pa, not %pa",
				 &dma, &got, &phys);
			return;
		}
		if (dir != DMA_FROM_DEVICE &&
		    memcmp(phys_to_virt(got), phys_to_virt(phys + x), chunk)) {
			dgt_fail(why, "bounce slot %pa for IOVA %pad holds other bytes than %pa",
				 &got, &dma, &phys);
			return;
		}
		x += chunk;
	}
	atomic64_add(len, &dgt_stats.bytes_verified);
}

static bool dgt_in_ranges(phys_addr_t p, const struct dgt_range *r,
			  unsigned int nr)
{
	unsigned int i;

	for (i = 0; i < nr; i++)
		if (p >= r[i].start && p + PAGE_SIZE <= r[i].start + r[i].len)
			return true;
	return false;
}

/*
 * The device reaches the whole granules around [@dma, @dma + @len): each must
 * map one physically contiguous granule; for an untrusted device each CPU page
 * of it must be swiotlb or lie wholly inside one of @r.
 */
static void dgt_check_reach(struct dgt_dev *d, dma_addr_t dma, size_t len,
			    const struct dgt_range *r, unsigned int nr,
			    struct dgt_why *why)
{
	dma_addr_t start = ALIGN_DOWN(dma, d->granule);
	dma_addr_t end = ALIGN(dma + len, d->granule);
	bool untrusted = dgt_untrusted(d);
	phys_addr_t base = 0, p;
	dma_addr_t iova;

	for (iova = start; iova < end; iova += PAGE_SIZE) {
		p = iommu_iova_to_phys(d->domain, iova);
		if (!p) {
			dgt_fail(why, "IOVA %pad, in a mapped granule, translates to nothing",
				 &iova);
			return;
		}
		if (IS_ALIGNED(iova, d->granule)) {
			base = p;
		} else if (p != base + (iova & (d->granule - 1))) {
			dgt_fail(why, "granule of IOVA %pad is not one contiguous block (%pa)",
				 &iova, &p);
			return;
		}
		if (untrusted && !dgt_in_swiotlb(d->dev, p) &&
		    !dgt_in_ranges(p, r, nr)) {
			dgt_fail(why, "untrusted device reaches %pa (IOVA %pad) outside its buffer",
				 &p, &iova);
			return;
		}
	}
}

static struct dgt_snap *dgt_snapshot(struct dgt_dev *d, dma_addr_t dma,
				     size_t len)
{
	dma_addr_t start = ALIGN_DOWN(dma, d->granule);
	unsigned int i, n = (ALIGN(dma + len, d->granule) - start) >> PAGE_SHIFT;
	struct dgt_snap *s;

	s = kvmalloc(struct_size(s, phys, n), GFP_KERNEL);
	if (!s)
		return NULL;
	s->start = start;
	s->n = n;
	for (i = 0; i < n; i++)
		s->phys[i] = iommu_iova_to_phys(d->domain,
						start + ((dma_addr_t)i << PAGE_SHIFT));
	return s;
}

/*
 * After an unmap or free nothing the mapping's IOVAs translated to may still
 * be reachable there.  (Another mapping of the device's driver may take the
 * IOVA at once, but not to the same memory while the test still owns it.)
 */
static void dgt_check_gone(struct dgt_dev *d, struct dgt_snap *s,
			   struct dgt_why *why)
{
	phys_addr_t p;
	dma_addr_t iova;
	unsigned int i;

	if (!s)
		return;
	for (i = 0; i < s->n; i++) {
		if (!s->phys[i])
			continue;
		iova = s->start + ((dma_addr_t)i << PAGE_SHIFT);
		p = iommu_iova_to_phys(d->domain, iova);
		if (p == s->phys[i]) {
			dgt_fail(why, "IOVA %pad still translates to %pa after the unmap",
				 &iova, &p);
			break;
		}
	}
	kvfree(s);
}

static const enum dma_data_direction dgt_dirs[] = {
	DMA_TO_DEVICE, DMA_BIDIRECTIONAL, DMA_FROM_DEVICE,
};

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

	block = alloc_pages(GFP_KERNEL, order);
	if (!block) {
		dgt_fail(why, "no memory for a %zu-byte buffer", size);
		return;
	}
	r.start = page_to_phys(block) + off;
	r.len = size;
	dgt_fill(page_address(block) + off, size, off ^ size);

	dma = dma_map_page_attrs(d->dev, block, off, size, dir, 0);
	if (dma_mapping_error(d->dev, dma)) {
		dgt_fail(why, "dma_map_page(offset %#zx, size %#zx) failed", off,
			 size);
		goto out;
	}
	atomic64_inc(&dgt_stats.mappings);
	dgt_verify_span(d, dma, r.start, size, dir, why);
	dgt_check_reach(d, dma, size, &r, 1, why);
	s = dgt_snapshot(d, dma, size);
	dma_unmap_page_attrs(d->dev, dma, size, dir, 0);
	dgt_check_gone(d, s, why);
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
			dgt_one_map_phys(d, offs[i] % (g + PAGE_SIZE), sizes[j],
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
#define DGT_SG_BLOCK	SZ_16K

/*
 * A random scatterlist: up to DGT_SG_MAX entries, each in a block of its own
 * at a random offset (often 0 or a sector multiple) and length.
 */
static void dgt_one_map_sg(struct dgt_dev *d, struct dgt_rng *rng,
			   struct dgt_why *why)
{
	unsigned int order = get_order(DGT_SG_BLOCK);
	unsigned int i, nents = 1 + dgt_below(rng, DGT_SG_MAX);
	enum dma_data_direction dir = dgt_dirs[dgt_below(rng, 3)];
	struct page *blocks[DGT_SG_MAX] = {};
	struct dgt_range r[DGT_SG_MAX];
	struct scatterlist *sg, *ent;
	unsigned int e = 0;
	size_t total = 0, dma_total = 0, used = 0;
	struct sg_table sgt;
	int ret;

	if (sg_alloc_table(&sgt, nents, GFP_KERNEL)) {
		dgt_fail(why, "no memory for a scatterlist");
		return;
	}
	for_each_sgtable_sg(&sgt, sg, i) {
		size_t off, len;

		blocks[i] = alloc_pages(GFP_KERNEL, order);
		if (!blocks[i]) {
			dgt_fail(why, "no memory for a scatterlist entry");
			goto free;
		}
		switch (dgt_below(rng, 4)) {
		case 0:
			off = 0;
			break;
		case 1:
			off = 512 * dgt_below(rng, DGT_SG_BLOCK / 512);
			break;
		default:
			off = dgt_below(rng, DGT_SG_BLOCK);
		}
		len = 1 + dgt_below(rng, DGT_SG_BLOCK - off);
		if (dgt_below(rng, 2))
			len = DGT_SG_BLOCK - off;
		r[i].start = page_to_phys(blocks[i]) + off;
		r[i].len = len;
		dgt_fill(page_address(blocks[i]) + off, len, i);
		sg_set_page(sg, blocks[i] + (off >> PAGE_SHIFT), len,
			    offset_in_page(off));
		total += len;
	}

	ret = dma_map_sgtable(d->dev, &sgt, dir, 0);
	if (ret) {
		dgt_fail(why, "dma_map_sgtable(%u entries) failed: %d", nents,
			 ret);
		goto free;
	}
	atomic64_inc(&dgt_stats.mappings);

	/*
	 * The DMA segments carry the entries' bytes in order: walk both, each
	 * piece of an entry checked where its segment puts it.
	 */
	ent = sgt.sgl;
	for_each_sgtable_dma_sg(&sgt, sg, i) {
		size_t seg_off = 0, seg_len = sg_dma_len(sg);

		dma_total += seg_len;
		while (seg_off < seg_len && ent) {
			size_t piece = min(seg_len - seg_off, ent->length - used);

			dgt_verify_span(d, sg_dma_address(sg) + seg_off,
					sg_phys(ent) + used, piece, dir, why);
			seg_off += piece;
			used += piece;
			if (used == ent->length) {
				ent = sg_next(ent);
				used = 0;
				e++;
			}
		}
		dgt_check_reach(d, sg_dma_address(sg), seg_len, r, nents, why);
	}
	if (dma_total != total || e != nents)
		dgt_fail(why, "DMA segments carry %zu bytes of %u entries, not %zu of %u",
			 dma_total, e, total, nents);

	/* What each segment reached, then unmap and look again. */
	{
		struct dgt_snap *snaps[DGT_SG_MAX] = {};
		unsigned int n = 0;

		for_each_sgtable_dma_sg(&sgt, sg, i)
			snaps[n++] = dgt_snapshot(d, sg_dma_address(sg),
						  sg_dma_len(sg));
		dma_unmap_sgtable(d->dev, &sgt, dir, 0);
		for (i = 0; i < n; i++)
			dgt_check_gone(d, snaps[i], why);
	}
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

/* The sizes of the allocation checks, those above max_size left out. */
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

/*
 * An allocation's pages, one per CPU page of @size, must be what its IOVAs
 * translate to, and the DMA address must be aligned as
 * Documentation/core-api/dma-api-howto.rst promises for dma_alloc_coherent()
 * (@align, 0 where nothing is promised).  For an untrusted device the rest of
 * the reach (the last granule's other pages) must not be free memory: its
 * allocations are padded to whole granules.  A trusted device may reach the
 * rest of the last granule, whatever it holds, as for any streaming mapping.
 */
static void dgt_check_alloc(struct dgt_dev *d, dma_addr_t dma, size_t size,
			    struct page **pages, size_t align,
			    struct dgt_why *why)
{
	dma_addr_t start = ALIGN_DOWN(dma, d->granule);
	dma_addr_t end = ALIGN(dma + size, d->granule);
	unsigned int i, n = PAGE_ALIGN(size) >> PAGE_SHIFT;
	phys_addr_t got, want;
	dma_addr_t iova;

	if (offset_in_page(dma) || (align && !IS_ALIGNED(dma, align)))
		dgt_fail(why, "allocation of %#zx at IOVA %pad is not aligned to %#zx",
			 size, &dma, max_t(size_t, align, PAGE_SIZE));
	for (i = 0; i < n; i++) {
		iova = dma + ((dma_addr_t)i << PAGE_SHIFT);
		got = iommu_iova_to_phys(d->domain, iova);
		want = page_to_phys(pages[i]);
		if (got != want) {
			dgt_fail(why, "IOVA %pad of a %#zx allocation maps %pa, not %pa",
				 &iova, size, &got, &want);
			return;
		}
	}
	atomic64_add(size, &dgt_stats.bytes_verified);
	if (!dgt_untrusted(d))
		return;
	for (iova = start; iova < end; iova += PAGE_SIZE) {
		if (iova >= dma && iova < dma + PAGE_ALIGN(size))
			continue;
		got = iommu_iova_to_phys(d->domain, iova);
		if (got && pfn_valid(PHYS_PFN(got)) &&
		    PageBuddy(pfn_to_page(PHYS_PFN(got)))) {
			dgt_fail(why, "%#zx allocation reaches free page %pa at %pad",
				 size, &got, &iova);
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

enum dgt_alloc_kind { DGT_COHERENT, DGT_PAGES, DGT_NONCONTIG, DGT_NR_KINDS };

static const char *const dgt_alloc_names[] = {
	[DGT_COHERENT] = "dma_alloc_coherent",
	[DGT_PAGES] = "dma_alloc_pages",
	[DGT_NONCONTIG] = "dma_alloc_noncontiguous",
};

/*
 * Allocate @size of @kind, check it, free it, check that nothing stays
 * mapped.  Returns the number of its pages still referenced after the free,
 * or 0 (also when it could not tell).
 */
static unsigned int dgt_one_alloc(struct dgt_dev *d, enum dgt_alloc_kind kind,
				  size_t size, struct dgt_why *why)
{
	unsigned int i, n, held;
	enum dma_data_direction dir = DMA_BIDIRECTIONAL;
	struct sg_table *sgt = NULL;
	struct sg_page_iter piter;
	struct page *page = NULL;
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
		cpu = dma_alloc_coherent(d->dev, size, &dma, GFP_KERNEL);
		if (!cpu)
			break;
		for (i = 0; i < n; i++)
			pages[i] = dgt_cpu_page(cpu + i * PAGE_SIZE);
		dgt_check_alloc(d, dma, size, pages,
				PAGE_SIZE << get_order(size), why);
		break;
	case DGT_PAGES:
		page = dma_alloc_pages(d->dev, size, &dma, dir, GFP_KERNEL);
		if (!page)
			break;
		for (i = 0; i < n; i++)
			pages[i] = page + i;
		dgt_check_alloc(d, dma, size, pages, 0, why);
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
			dgt_check_alloc(d, dma, size, pages, 0, why);
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

	s = dgt_snapshot(d, dma, size);
	if (cpu)
		dma_free_coherent(d->dev, size, cpu, dma);
	else if (page)
		dma_free_pages(d->dev, size, page, dma, dir);
	else
		dma_free_noncontiguous(d->dev, size, sgt, dir);
	held = dgt_count_held(pages, n);
	dgt_check_gone(d, s, why);
	kvfree(pages);
	return held;
}

static void dgt_check_allocs(struct dgt_dev *d, enum dgt_alloc_kind kind,
			     struct dgt_why *why)
{
	unsigned int i;
	size_t size;

	for (i = 0; (size = dgt_alloc_size(d, i)); i++)
		dgt_one_alloc(d, kind, size, why);
}

void dgt_check_coherent(struct dgt_dev *d, struct dgt_rng *rng,
			struct dgt_why *why)
{
	dgt_check_allocs(d, DGT_COHERENT, why);
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
 * An MMIO region to map with dma_map_resource(): the device's own (a PCI
 * memory BAR, a platform device's first memory resource), else any PCI
 * device's memory BAR.  Only its address is used: nothing reads or writes it.
 */
static bool dgt_find_mmio(struct dgt_dev *d, phys_addr_t *start, size_t *len)
{
	struct pci_dev *pdev = NULL;
	struct resource *res;
	unsigned int bar;

	if (!d->pci) {
		res = platform_get_resource(to_platform_device(d->dev),
					    IORESOURCE_MEM, 0);
		if (res && resource_size(res) >= PAGE_SIZE) {
			*start = res->start;
			*len = resource_size(res);
			return true;
		}
	}
#ifdef CONFIG_PCI
	if (d->pci)
		pdev = pci_dev_get(to_pci_dev(d->dev));
	else
		pdev = pci_get_device(PCI_ANY_ID, PCI_ANY_ID, NULL);
	while (pdev) {
		for (bar = 0; bar < PCI_STD_NUM_BARS; bar++) {
			if (!(pci_resource_flags(pdev, bar) & IORESOURCE_MEM) ||
			    pci_resource_len(pdev, bar) < PAGE_SIZE ||
			    !pci_resource_start(pdev, bar))
				continue;
			*start = pci_resource_start(pdev, bar);
			*len = pci_resource_len(pdev, bar);
			pci_dev_put(pdev);
			return true;
		}
		pdev = pci_get_device(PCI_ANY_ID, PCI_ANY_ID, pdev);
	}
#endif
	return false;
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
	phys_addr_t phys, mmio;
	struct dgt_snap *s;
	dma_addr_t dma;
	bool aligned;
	size_t len;

	if (!dgt_find_mmio(d, &mmio, &len)) {
		dgt_fail(why, "no MMIO region found to map");
		return;
	}
	for (i = 0; i < ARRAY_SIZE(offs); i++) {
		for (j = 0; j < ARRAY_SIZE(sizes); j++) {
			if (offs[i] + sizes[j] > len)
				continue;
			tried++;
			phys = mmio + offs[i];
			aligned = IS_ALIGNED(phys, g) && IS_ALIGNED(sizes[j], g);
			dma = dma_map_resource(d->dev, phys, sizes[j],
					       DMA_BIDIRECTIONAL, 0);
			if (dma_mapping_error(d->dev, dma)) {
				if (!untrusted || aligned)
					dgt_fail(why, "dma_map_resource(%pa, %#zx) failed",
						 &phys, sizes[j]);
				continue;
			}
			atomic64_inc(&dgt_stats.mappings);
			if (untrusted && !aligned)
				dgt_fail(why, "untrusted: MMIO %pa+%#zx (not granules) mapped",
					 &phys, sizes[j]);
			if (iommu_iova_to_phys(d->domain, dma) != phys)
				dgt_fail(why, "resource %pa mapped at %pad maps elsewhere",
					 &phys, &dma);
			else
				dgt_verify_span(d, dma, phys, sizes[j],
						DMA_FROM_DEVICE, why);
			s = dgt_snapshot(d, dma, sizes[j]);
			dma_unmap_resource(d->dev, dma, sizes[j],
					   DMA_BIDIRECTIONAL, 0);
			dgt_check_gone(d, s, why);
		}
	}
	if (!tried)
		dgt_fail(why, "MMIO region %pa of %#zx too small to map", &mmio,
			 len);
}

/*
 * Allocate and free over and over: every page must go back (its count 0 right
 * after the free).  Another CPU may take a freed page at once, so a page seen
 * held is only a suspect; a leak holds a page of every allocation.
 */
void dgt_check_page_leak(struct dgt_dev *d, struct dgt_rng *rng,
			 struct dgt_why *why)
{
	unsigned int i, suspects = 0, loops = max(dgt_params.iterations, 16U);
	size_t size;

	for (i = 0; i < loops; i++) {
		size = dgt_alloc_size(d, dgt_below(rng, 8));
		if (dgt_one_alloc(d, i % DGT_NR_KINDS, size, why))
			suspects++;
		dgt_one_map_phys(d, dgt_below(rng, d->granule),
				 1 + dgt_below(rng, 2 * d->granule),
				 DMA_TO_DEVICE, why);
	}
	if (suspects > loops / 8)
		dgt_fail(why, "%u of %u allocations left a page referenced after their free",
			 suspects, loops);
}

void dgt_random_op(struct dgt_dev *d, struct dgt_rng *rng,
		   struct dgt_why *why)
{
	switch (dgt_below(rng, 5)) {
	case 0:
	case 1:
		dgt_one_map_phys(d, dgt_below(rng, d->granule + PAGE_SIZE),
				 1 + dgt_below(rng, dgt_params.max_size),
				 dgt_dirs[dgt_below(rng, 3)], why);
		break;
	case 2:
		dgt_one_map_sg(d, rng, why);
		break;
	default:
		dgt_one_alloc(d, dgt_below(rng, DGT_NR_KINDS),
			      dgt_alloc_size(d, dgt_below(rng, 8)), why);
		break;
	}
}

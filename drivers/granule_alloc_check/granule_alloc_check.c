// SPDX-License-Identifier: GPL-2.0
/*
 * dma_alloc_pages() for an untrusted device behind an IOMMU whose granule may
 * be larger than PAGE_SIZE.
 *
 * Loaded into the test kernel booted behind virtio-iommu, the module marks
 * the virtio-blk PCI device untrusted for the duration of the checks (arm64
 * never marks a device untrusted; dma-iommu reads the flag on every call) and
 * allocates buffers 4K longer than whole granules or than 256K and 1M.  Each
 * must come back mapped in place: the IOMMU maps the allocation itself, not a
 * swiotlb bounce slot, no WARN fires, and every IOMMU granule that the device
 * can reach around the buffer holds the allocation's own pages.
 *
 * The results are TAP lines in the kernel log, each prefixed with the module
 * name.  Loading always succeeds (an init that fails may be run twice by
 * insmod); the verdict is in the log only.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/align.h>
#include <linux/bitops.h>
#include <linux/dma-mapping.h>
#include <linux/iommu.h>
#include <linux/kernel.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/page-flags.h>
#include <linux/panic.h>
#include <linux/pci.h>
#include <linux/sizes.h>
#include <linux/stringify.h>
#include <linux/swiotlb.h>

#define GAC_VIRTIO_VENDOR	0x1af4
#define GAC_VIRTIO_BLK_MODERN	0x1042
#define GAC_VIRTIO_BLK_LEGACY	0x1001

/* Device check, taint check, one case per size: the TAP plan. */
#define GAC_NR_CASES		6

static ushort device;
module_param(device, ushort, 0444);
MODULE_PARM_DESC(device,
		 "PCI device ID of the virtio device to use (default: virtio-blk, 0x1042 or else 0x1001)");

struct gac_size {
	unsigned int granules;	/* whole IOVA granules */
	size_t bytes;		/* plus these bytes */
	const char *name;	/* and 4K */
};

static const struct gac_size gac_sizes[] = {
	{ 2, 0, "2*granule+4K" },
	{ 15, 0, "15*granule+4K" },
	{ 0, SZ_256K, "256K+4K" },
	{ 0, SZ_1M, "1M+4K" },
};

static_assert(GAC_NR_CASES == 2 + ARRAY_SIZE(gac_sizes));

struct gac {
	struct pci_dev *pdev;
	struct iommu_domain *domain;
	unsigned long granule;
	unsigned int n;
	unsigned int failed;
};

/* Why a case failed: reasons joined by "; ". */
struct gac_why {
	char buf[512];
	size_t len;
};

static __printf(2, 3) void gac_why(struct gac_why *why, const char *fmt, ...)
{
	va_list args;

	if (why->len)
		why->len += scnprintf(why->buf + why->len,
				      sizeof(why->buf) - why->len, "; ");
	va_start(args, fmt);
	why->len += vscnprintf(why->buf + why->len,
			       sizeof(why->buf) - why->len, fmt, args);
	va_end(args);
}

static void gac_report(struct gac *t, const char *desc,
		       const struct gac_why *why)
{
	t->n++;
	if (!why->len) {
		pr_info("ok %u - %s\n", t->n, desc);
		return;
	}
	t->failed++;
	pr_info("not ok %u - %s: %s\n", t->n, desc, why->buf);
}

/*
 * Whether @phys lies in a swiotlb pool of @dev.  __swiotlb_find_pool(), which
 * swiotlb_find_pool() calls with CONFIG_SWIOTLB_DYNAMIC, is not exported:
 * there only the default pool is checked.
 */
static bool gac_in_swiotlb(struct device *dev, phys_addr_t phys)
{
#ifdef CONFIG_SWIOTLB_DYNAMIC
	struct io_tlb_mem *mem = dev->dma_io_tlb_mem;

	return mem && phys >= mem->defpool.start && phys < mem->defpool.end;
#else
	return swiotlb_find_pool(dev, phys);
#endif
}

/*
 * The device reaches whole granules: from the start of the buffer's first
 * granule to the end of its last one, the IOMMU must map the allocation's own
 * pages, contiguously, and none of them may lie before the allocation or be
 * free in the page allocator (the allocation must be padded to whole granules
 * for an untrusted device).
 */
static void gac_check_reach(struct gac *t, dma_addr_t handle, phys_addr_t phys,
			    size_t size, struct gac_why *why)
{
	unsigned long step = min_t(unsigned long, t->granule, PAGE_SIZE);
	dma_addr_t start = ALIGN_DOWN(handle, t->granule);
	dma_addr_t end = ALIGN(handle + size, t->granule);
	phys_addr_t want, got, p;
	dma_addr_t iova;

	if (handle - start > phys) {
		gac_why(why, "granule at %pad starts below physical address 0",
			&start);
		return;
	}
	want = phys - (handle - start);
	if (want < phys)
		gac_why(why, "the device reaches %pa..%pa before the allocation at %pa",
			&want, &phys, &phys);

	for (iova = start; iova < end; iova += step, want += step) {
		got = iommu_iova_to_phys(t->domain, iova);
		if (got != want) {
			gac_why(why, "IOVA %pad maps %pa, not %pa of the allocation",
				&iova, &got, &want);
			break;
		}
	}

	for (p = phys + PAGE_ALIGN(size); p < phys + (end - handle);
	     p += PAGE_SIZE) {
		unsigned long pfn = PHYS_PFN(p);

		if (pfn_valid(pfn) && PageBuddy(pfn_to_page(pfn))) {
			gac_why(why, "the device reaches %pa past the buffer, a free page",
				&p);
			break;
		}
	}
}

static void gac_desc(char *desc, size_t len, const struct gac_size *s,
		     size_t size)
{
	snprintf(desc, len, "dma_alloc_pages %#zx (%s) in place, no swiotlb, no WARN",
		 size, s->name);
}

static void gac_check_size(struct gac *t, const struct gac_size *s)
{
	size_t size = s->granules * t->granule + s->bytes + SZ_4K;
	struct device *dev = &t->pdev->dev;
	bool tainted = test_taint(TAINT_WARN);
	struct gac_why why = {};
	phys_addr_t phys, got;
	dma_addr_t handle;
	struct page *page;
	char desc[128];

	gac_desc(desc, sizeof(desc), s, size);
	page = dma_alloc_pages(dev, size, &handle, DMA_BIDIRECTIONAL,
			       GFP_KERNEL);
	if (!page) {
		gac_why(&why, "returned NULL");
		goto out;
	}

	phys = page_to_phys(page);
	got = iommu_iova_to_phys(t->domain, handle);
	if (gac_in_swiotlb(dev, got))
		gac_why(&why, "handle %pad maps %pa, a swiotlb buffer, not the allocation at %pa",
			&handle, &got, &phys);
	else if (got != phys)
		gac_why(&why, "handle %pad maps %pa, not the allocation at %pa",
			&handle, &got, &phys);
	if ((handle ^ phys) & (t->granule - 1))
		gac_why(&why, "handle %pad and allocation %pa differ in granule offset",
			&handle, &phys);
	/* Not mapped in place: what the device reaches is not worth listing. */
	if (!why.len)
		gac_check_reach(t, handle, phys, size, &why);

	dma_free_pages(dev, size, page, handle, DMA_BIDIRECTIONAL);
out:
	/* A WARN taints the kernel once: later ones go unseen. */
	if (tainted)
		gac_why(&why, "cannot tell whether it WARNs: already tainted by a WARN");
	else if (test_taint(TAINT_WARN))
		gac_why(&why, "WARN (see the kernel log)");
	gac_report(t, desc, &why);
}

/* Case 1: the device, in a DMA domain. */
static void gac_find_device(struct gac *t)
{
	struct gac_why why = {};
	char desc[128];

	if (device) {
		t->pdev = pci_get_device(GAC_VIRTIO_VENDOR, device, NULL);
	} else {
		t->pdev = pci_get_device(GAC_VIRTIO_VENDOR,
					 GAC_VIRTIO_BLK_MODERN, NULL);
		if (!t->pdev)
			t->pdev = pci_get_device(GAC_VIRTIO_VENDOR,
						 GAC_VIRTIO_BLK_LEGACY, NULL);
	}
	if (!t->pdev) {
		gac_why(&why, "no such PCI device");
		snprintf(desc, sizeof(desc), "virtio PCI device %04x:%04x in a DMA domain",
			 GAC_VIRTIO_VENDOR,
			 device ? device : GAC_VIRTIO_BLK_MODERN);
		gac_report(t, desc, &why);
		return;
	}

	t->domain = iommu_get_domain_for_dev(&t->pdev->dev);
	if (!t->domain)
		gac_why(&why, "in no IOMMU domain");
	else if (!iommu_is_dma_domain(t->domain) || !t->domain->pgsize_bitmap)
		gac_why(&why, "its IOMMU domain (type %#x) is not a DMA domain",
			t->domain->type);
	else
		t->granule = 1UL << __ffs(t->domain->pgsize_bitmap);

	snprintf(desc, sizeof(desc),
		 "virtio PCI device %s (%04x:%04x) in a DMA domain, granule %#lx",
		 pci_name(t->pdev), t->pdev->vendor, t->pdev->device,
		 t->granule);
	gac_report(t, desc, &why);
	if (why.len)
		t->domain = NULL;
}

static int __init gac_init(void)
{
	struct gac t = {};
	struct gac_why why = {};
	unsigned int i;

	pr_info("KTAP version 1\n");
	pr_info("1..%u\n", GAC_NR_CASES);

	gac_find_device(&t);

	if (test_taint(TAINT_WARN))
		gac_why(&why, "a WARN before the checks hides the checks' own");
	gac_report(&t, "kernel not tainted by a WARN before the checks", &why);

	if (t.domain) {
		unsigned int untrusted = t.pdev->untrusted;

		t.pdev->untrusted = 1;
		for (i = 0; i < ARRAY_SIZE(gac_sizes); i++)
			gac_check_size(&t, &gac_sizes[i]);
		t.pdev->untrusted = untrusted;
	} else {
		for (i = 0; i < ARRAY_SIZE(gac_sizes); i++) {
			const struct gac_size *s = &gac_sizes[i];
			struct gac_why none = {};
			char desc[128];

			gac_desc(desc, sizeof(desc), s, s->bytes + SZ_4K);
			gac_why(&none, "not run: no device in a DMA domain");
			gac_report(&t, desc, &none);
		}
	}

	pr_info("# %u passed, %u failed\n", t.n - t.failed, t.failed);
	pci_dev_put(t.pdev);
	return 0;
}

static void __exit gac_exit(void)
{
}

module_init(gac_init);
module_exit(gac_exit);

MODULE_DESCRIPTION("dma_alloc_pages() for untrusted devices behind IOMMU granules above PAGE_SIZE");
MODULE_LICENSE("GPL");
/* The number of TAP cases, for the host that counts them (scripts/boot.sh). */
MODULE_INFO(tap_plan, __stringify(GAC_NR_CASES));

// SPDX-License-Identifier: GPL-2.0
/*
 * dma_granule_test: check the DMA API on the live IOMMU domains of a running
 * system, in particular where the IOMMU's smallest page (its granule) is
 * larger than PAGE_SIZE: an Apple DART (16K) under a 4K kernel, virtio-iommu
 * with a 16K or 64K granule.
 *
 * Loading the module runs the checks of checks.c on each device named by the
 * devices= parameter (PCI addresses or platform device names, comma
 * separated), or on every device whose current domain is a DMA-API domain
 * (devices=all, the default).  The checks use the device's own default
 * domain through the public DMA API, alongside the device's driver, and read
 * the domain's page table with iommu_iova_to_phys(); the driver's own
 * mappings are never touched.  With threads=N, N kthreads then run random
 * operations on each device in turn for torture_ms milliseconds.  Each
 * device is checked under its device lock, so that no driver binds or
 * unbinds meanwhile; the domain of a device without a driver could still be
 * replaced through its group's sysfs "type" file, which must not be written
 * while the module loads.
 *
 * The results are KTAP (include/dma_granule_test.h), on the console and in
 * debugfs until the module is removed.  Loading fails, and nothing stays
 * registered, only when a parameter is wrong: an unknown device, a device
 * without an IOMMU or not in a DMA-API domain (an identity domain: DMA
 * bypasses the IOMMU), or a value out of range.  Failed checks do not fail
 * the load; they are "not ok" in the results.
 *
 * untrusted=1 is for testing only: while the checks run, each PCI device is
 * marked untrusted, as if it were external (Thunderbolt), so that dma-iommu
 * bounces what does not fill whole granules.  Only devices without a driver
 * are taken: dma-iommu reads the mark on every call, and a driver's buffers
 * mapped or allocated before the change and released after it would be
 * released the wrong way (a bounce slot never copied back, an allocation
 * freed with another size).
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/debugfs.h>
#include <linux/device.h>
#include <linux/dma-mapping.h>
#include <linux/iommu.h>
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/panic.h>
#include <linux/pci.h>
#include <linux/platform_device.h>
#include <linux/seq_buf.h>
#include <linux/seq_file.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/vmalloc.h>

#include "dma_granule_test.h"

static char *devices = "all";
module_param(devices, charp, 0444);
MODULE_PARM_DESC(devices,
		 "Devices to check: \"all\" (every device in a DMA-API domain) or PCI addresses / platform device names, comma separated");

static unsigned long long seed = 1;
module_param(seed, ullong, 0444);
MODULE_PARM_DESC(seed, "Seed of the random cases, not 0 (default 1)");

static unsigned int max_size = SZ_1M;
module_param(max_size, uint, 0444);
MODULE_PARM_DESC(max_size,
		 "Largest mapping or allocation in bytes, PAGE_SIZE to 4M or half the largest page block (default 1M)");

static unsigned int iterations = 64;
module_param(iterations, uint, 0444);
MODULE_PARM_DESC(iterations, "Random cases of each check, 1-100000 (default 64)");

static unsigned int threads;
module_param(threads, uint, 0444);
MODULE_PARM_DESC(threads, "Torture mode: this many kthreads after the checks, 0-64 (default 0: off)");

static unsigned int torture_ms = 2000;
module_param(torture_ms, uint, 0444);
MODULE_PARM_DESC(torture_ms, "Torture mode's duration in ms, 1-600000 (default 2000)");

static bool untrusted;
module_param(untrusted, bool, 0444);
MODULE_PARM_DESC(untrusted,
		 "TEST ONLY: mark PCI devices untrusted while checking them; only devices without a driver");

static bool bench;
module_param(bench, bool, 0444);
MODULE_PARM_DESC(bench,
		 "Benchmark mode: report memory use and dma_map_sg cost instead of checking (make bench)");

static uint bench_parts = 3;
module_param(bench_parts, uint, 0444);
MODULE_PARM_DESC(bench_parts,
		 "Benchmark mode's parts, a bit mask: 1 memory, 2 dma_map_sg (default 3, both)");

struct dgt_params dgt_params;
struct dgt_stats dgt_stats;

static struct dgt_dev dgt_devs[DGT_MAX_DEVICES];
static unsigned int dgt_nr_devs;
static struct dentry *dgt_dir;

/* The results, as KTAP, for debugfs. */
#define DGT_RESULTS_SIZE	SZ_256K
static char *dgt_results_buf;
static struct seq_buf dgt_results;
static unsigned int dgt_cases, dgt_passed, dgt_failed;

void dgt_ktap(const char *fmt, ...)
{
	char line[640];
	va_list args;

	va_start(args, fmt);
	vsnprintf(line, sizeof(line), fmt, args);
	va_end(args);
	pr_info("%s\n", line);
	seq_buf_printf(&dgt_results, "%s\n", line);
}

void dgt_why_init(struct dgt_why *why)
{
	spin_lock_init(&why->lock);
	why->len = 0;
	why->count = 0;
	why->buf[0] = '\0';
}

void dgt_fail(struct dgt_why *why, const char *fmt, ...)
{
	unsigned long flags;
	va_list args;

	spin_lock_irqsave(&why->lock, flags);
	/* The first reasons say the most; later ones are only counted. */
	if (why->len < sizeof(why->buf) / 2) {
		if (why->len)
			why->len += scnprintf(why->buf + why->len,
					      sizeof(why->buf) - why->len, "; ");
		va_start(args, fmt);
		why->len += vscnprintf(why->buf + why->len,
				       sizeof(why->buf) - why->len, fmt, args);
		va_end(args);
	}
	why->count++;
	spin_unlock_irqrestore(&why->lock, flags);
}

typedef void (*dgt_check_fn)(struct dgt_dev *d, struct dgt_rng *rng,
			     struct dgt_why *why);

struct dgt_check {
	const char *name;
	dgt_check_fn fn;
};

static const struct dgt_check dgt_checks[] = {
	{ "map_phys", dgt_check_map_phys },
	{ "map_sg", dgt_check_map_sg },
	{ "coherent", dgt_check_coherent },
	{ "pages", dgt_check_pages },
	{ "noncontiguous", dgt_check_noncontiguous },
	{ "map_resource", dgt_check_map_resource },
	{ "page_leak", dgt_check_page_leak },
};

static const struct dgt_check dgt_bench_checks[] = {
	{ "bench_memory", dgt_bench_memory },
	{ "bench_map_sg", dgt_bench_map_sg },
};

/*
 * The kernel's taint flags, but those that loading this module sets: a WARN,
 * a bad page, an oops or a machine check while a case runs fails it.  Each
 * flag is set once: one already set hides later reports of its kind.
 */
static unsigned long dgt_taint(void)
{
	unsigned long mask = 0;
	unsigned int i;

	for (i = 0; i < TAINT_FLAGS_COUNT && i < BITS_PER_LONG; i++)
		if (i != TAINT_OOT_MODULE && i != TAINT_UNSIGNED_MODULE &&
		    i != TAINT_TEST && test_taint(i))
			mask |= BIT(i);
	return mask;
}

/* One KTAP case line, with its reasons as a diagnostic. */
static void dgt_case(unsigned int n, const char *name, struct dgt_why *why,
		     unsigned long taint)
{
	unsigned long new = dgt_taint() & ~taint;

	if (new)
		dgt_fail(why, "kernel tainted (flags %#lx) during the case: see the kernel log",
			 new);
	dgt_cases++;
	if (!why->count) {
		dgt_passed++;
		dgt_ktap("    ok %u %s", n, name);
		return;
	}
	dgt_failed++;
	dgt_ktap("    # %s: %u failures: %s", name, why->count, why->buf);
	dgt_ktap("    not ok %u %s", n, name);
}

static const char *dgt_domain_type(struct iommu_domain *domain)
{
	return domain->type == IOMMU_DOMAIN_DMA_FQ ? "DMA-FQ" : "DMA";
}

/*
 * The subtest of one device, under its device lock: returns whether all its
 * cases passed.
 */
static bool dgt_run_device(struct dgt_dev *d, unsigned int index, u64 *ops)
{
	const struct dgt_check *checks = dgt_params.bench ? dgt_bench_checks :
					 dgt_checks;
	unsigned int nr = dgt_params.bench ? ARRAY_SIZE(dgt_bench_checks) :
			  ARRAY_SIZE(dgt_checks);
	bool torture = dgt_params.threads && !dgt_params.bench;
	unsigned int i, n = nr + 1 + torture;
	unsigned int failed_before = dgt_failed;
	struct pci_dev *pdev = d->pci ? to_pci_dev(d->dev) : NULL;
	struct dgt_rng rng = {
		.state = (dgt_params.seed + index) * 0x9e3779b97f4a7c15ULL | 1,
	};
	bool mark = pdev && dgt_params.untrusted;
	unsigned long taint;
	struct dgt_why why;

	dgt_ktap("    KTAP version 1");
	dgt_ktap("    # Subtest: %s", dev_name(d->dev));
	dgt_ktap("    # granule %#lx PAGE_SIZE %#lx domain %s untrusted %u driver %s",
		 d->granule, PAGE_SIZE, dgt_domain_type(d->domain),
		 (pdev && (pdev->untrusted || mark)) ? 1 : 0,
		 d->dev->driver ? dev_driver_string(d->dev) : "none");
	if (dgt_params.bench)
		dgt_ktap(DGT_BENCH_DMA_FMT, dma_opt_mapping_size(d->dev),
			 dma_max_mapping_size(d->dev));
	if (dgt_taint() & BIT(TAINT_WARN))
		dgt_ktap("    # already tainted by a WARN: a WARN in a case goes unseen");
	dgt_ktap("    1..%u", n);

	dgt_why_init(&why);
	taint = dgt_taint();
	if (iommu_get_domain_for_dev(d->dev) != d->domain) {
		dgt_fail(&why, "the device changed domains since the load: not checked");
		dgt_case(1, "domain", &why, taint);
		for (i = 2; i <= n; i++)
			dgt_ktap("    ok %u %s # SKIP the domain changed", i,
				 i - 2 < nr ? checks[i - 2].name : "torture");
		return false;
	}
	/* dma-iommu merges scatterlist segments at granule boundaries. */
	if (dma_get_merge_boundary(d->dev) != d->granule - 1)
		dgt_fail(&why, "merge boundary %#lx, not granule - 1",
			 dma_get_merge_boundary(d->dev));
	dgt_case(1, "domain", &why, taint);

	if (mark)
		pdev->untrusted = 1;
	for (i = 0; i < nr; i++) {
		if (dgt_params.bench && !(dgt_params.bench_parts & BIT(i))) {
			dgt_ktap("    ok %u %s # SKIP not in bench_parts",
				 i + 2, checks[i].name);
			continue;
		}
		dgt_why_init(&why);
		taint = dgt_taint();
		checks[i].fn(d, &rng, &why);
		dgt_case(i + 2, checks[i].name, &why, taint);
	}
	if (torture) {
		dgt_why_init(&why);
		taint = dgt_taint();
		dgt_torture(d, 1, &why, ops);
		dgt_ktap("    # torture: threads %u ms %u operations %llu",
			 dgt_params.threads, dgt_params.torture_ms, *ops);
		dgt_case(n, "torture", &why, taint);
	}
	if (mark)
		pdev->untrusted = 0;
	return dgt_failed == failed_before;
}

/* Why @dev cannot be checked, or NULL; fills @d when it can. */
static const char *dgt_usable(struct device *dev, struct dgt_dev *d)
{
	struct iommu_domain *domain = iommu_get_domain_for_dev(dev);

	if (!domain)
		return "is not behind an IOMMU (no IOMMU domain)";
	if (domain->type == IOMMU_DOMAIN_IDENTITY)
		return "is in an identity domain: its DMA bypasses the IOMMU";
	if (!iommu_is_dma_domain(domain))
		return "is not in a DMA-API domain (blocked, or owned by a user such as VFIO)";
	if (!domain->pgsize_bitmap)
		return "has a DMA domain without page sizes";
	if (!dev->dma_mask)
		return "has no DMA mask: it does no DMA";
	if (dgt_params.untrusted && !dev_is_pci(dev))
		return "is not a PCI device: untrusted=1 takes PCI devices only";
	if (dgt_params.untrusted && READ_ONCE(dev->driver))
		return "has a driver: untrusted=1 takes only devices without one (unbind it first)";
	d->dev = dev;
	d->domain = domain;
	d->granule = 1UL << __ffs(domain->pgsize_bitmap);
	d->pci = dev_is_pci(dev);
	return NULL;
}

static void dgt_put_devices(void)
{
	while (dgt_nr_devs)
		put_device(dgt_devs[--dgt_nr_devs].dev);
}

static int dgt_add_all(struct device *dev, void *data)
{
	struct dgt_dev d;

	if (dgt_usable(dev, &d))
		return 0;
	if (dgt_nr_devs == DGT_MAX_DEVICES) {
		pr_info("%s not checked: more than %u devices\n", dev_name(dev),
			DGT_MAX_DEVICES);
		return 0;
	}
	get_device(dev);
	dgt_devs[dgt_nr_devs++] = d;
	return 0;
}

static int dgt_add_named(const char *name)
{
	static const struct bus_type *const buses[] = {
#ifdef CONFIG_PCI
		&pci_bus_type,
#endif
		&platform_bus_type,
	};
	struct device *dev = NULL;
	const char *why;
	struct dgt_dev d;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(buses) && !dev; i++)
		dev = bus_find_device_by_name(buses[i], NULL, name);
	if (!dev) {
		pr_err("no PCI or platform device named \"%s\"\n", name);
		return -ENODEV;
	}
	why = dgt_usable(dev, &d);
	if (why) {
		pr_err("%s %s\n", name, why);
		put_device(dev);
		return -EINVAL;
	}
	if (dgt_nr_devs == DGT_MAX_DEVICES) {
		pr_err("more than %u devices\n", DGT_MAX_DEVICES);
		put_device(dev);
		return -E2BIG;
	}
	for (i = 0; i < dgt_nr_devs; i++) {
		if (dgt_devs[i].dev == dev) {
			pr_err("%s named twice\n", name);
			put_device(dev);
			return -EINVAL;
		}
	}
	dgt_devs[dgt_nr_devs++] = d;
	return 0;
}

static int dgt_find_devices(void)
{
	char *list, *p, *name;
	int ret = 0;

	if (!strcmp(devices, "all")) {
#ifdef CONFIG_PCI
		bus_for_each_dev(&pci_bus_type, NULL, NULL, dgt_add_all);
#endif
		bus_for_each_dev(&platform_bus_type, NULL, NULL, dgt_add_all);
		if (!dgt_nr_devs) {
			pr_err("no PCI or platform device is in a DMA-API domain%s\n",
			       dgt_params.untrusted ? " without a driver" : "");
			return -ENODEV;
		}
		return 0;
	}

	list = kstrdup(devices, GFP_KERNEL);
	if (!list)
		return -ENOMEM;
	p = list;
	while ((name = strsep(&p, ",")) && !ret) {
		name = strim(name);
		if (*name)
			ret = dgt_add_named(name);
	}
	kfree(list);
	if (!ret && !dgt_nr_devs) {
		pr_err("devices=\"%s\" names no device\n", devices);
		ret = -EINVAL;
	}
	if (ret)
		dgt_put_devices();
	return ret;
}

static int dgt_check_params(void)
{
	/* Up to half the largest block, so that offsets fit; 4M at most. */
	unsigned long max = min_t(unsigned long, (PAGE_SIZE << MAX_PAGE_ORDER) / 2,
				  SZ_4M);

	if (!seed) {
		pr_err("seed=0: the random cases need a seed other than 0\n");
		return -EINVAL;
	}
	if (max_size < PAGE_SIZE || max_size > max) {
		pr_err("max_size=%u out of range %lu-%lu\n", max_size,
		       PAGE_SIZE, max);
		return -EINVAL;
	}
	if (!iterations || iterations > 100000) {
		pr_err("iterations=%u out of range 1-100000\n", iterations);
		return -EINVAL;
	}
	if (threads > DGT_MAX_THREADS) {
		pr_err("threads=%u out of range 0-%u\n", threads,
		       DGT_MAX_THREADS);
		return -EINVAL;
	}
	if (!torture_ms || torture_ms > 600000) {
		pr_err("torture_ms=%u out of range 1-600000\n", torture_ms);
		return -EINVAL;
	}
	if (!bench_parts || bench_parts > 3) {
		pr_err("bench_parts=%u out of range 1-3\n", bench_parts);
		return -EINVAL;
	}
	dgt_params = (struct dgt_params) {
		.seed = seed,
		.max_size = max_size,
		.iterations = iterations,
		.threads = threads,
		.torture_ms = torture_ms,
		.untrusted = untrusted,
		.bench = bench,
		.bench_parts = bench_parts,
	};
	return 0;
}

static int dgt_results_show(struct seq_file *m, void *v)
{
	seq_write(m, dgt_results_buf, seq_buf_used(&dgt_results));
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(dgt_results);

static int dgt_summary_show(struct seq_file *m, void *v)
{
	seq_printf(m, DGT_SUMMARY_FMT, dgt_nr_devs, dgt_cases, dgt_passed,
		   dgt_failed, (u64)atomic64_read(&dgt_stats.mappings),
		   (u64)atomic64_read(&dgt_stats.bytes_verified),
		   (u64)atomic64_read(&dgt_stats.torture_ops));
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(dgt_summary);

static int __init dgt_init(void)
{
	unsigned int i, ok = 0;
	u64 ops = 0;
	int ret;

	ret = dgt_check_params();
	if (ret)
		return ret;
	dgt_results_buf = vzalloc(DGT_RESULTS_SIZE);
	if (!dgt_results_buf)
		return -ENOMEM;
	seq_buf_init(&dgt_results, dgt_results_buf, DGT_RESULTS_SIZE);
	ret = dgt_find_devices();
	if (ret)
		goto free;

	dgt_ktap("KTAP version 1");
	dgt_ktap("# seed %llu max_size %u iterations %u threads %u torture_ms %u untrusted %d",
		 dgt_params.seed, dgt_params.max_size, dgt_params.iterations,
		 dgt_params.threads, dgt_params.torture_ms,
		 dgt_params.untrusted);
	if (dgt_params.bench)
		dgt_ktap("# bench: figures, not checks");
	dgt_ktap("1..%u", dgt_nr_devs);
	for (i = 0; i < dgt_nr_devs; i++) {
		struct device *dev = dgt_devs[i].dev;
		u64 dev_ops = 0;
		bool pass;

		device_lock(dev);
		pass = dgt_run_device(&dgt_devs[i], i, &dev_ops);
		device_unlock(dev);

		ops += dev_ops;
		ok += pass;
		dgt_ktap("%sok %u %s", pass ? "" : "not ", i + 1,
			 dev_name(dgt_devs[i].dev));
	}
	dgt_ktap("# " DGT_NAME ": %u passed, %u failed (cases: %u passed, %u failed)",
		 ok, dgt_nr_devs - ok, dgt_passed, dgt_failed);
	if (seq_buf_has_overflowed(&dgt_results))
		pr_warn("results longer than %u bytes: debugfs holds their start only\n",
			DGT_RESULTS_SIZE);

	/* Results stay readable until rmmod; debugfs may be absent. */
	dgt_dir = debugfs_create_dir(DGT_NAME, NULL);
	debugfs_create_file("results", 0444, dgt_dir, NULL, &dgt_results_fops);
	debugfs_create_file("summary", 0444, dgt_dir, NULL, &dgt_summary_fops);
	return 0;
free:
	vfree(dgt_results_buf);
	return ret;
}

static void __exit dgt_exit(void)
{
	debugfs_remove_recursive(dgt_dir);
	dgt_put_devices();
	vfree(dgt_results_buf);
}

module_init(dgt_init);
module_exit(dgt_exit);

MODULE_DESCRIPTION("DMA API checks on live IOMMU domains, for IOMMU granules above PAGE_SIZE");
MODULE_LICENSE("GPL");

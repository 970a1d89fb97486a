// SPDX-License-Identifier: GPL-2.0
/*
 * dma_granule_test's torture mode: threads= kthreads run random, verified
 * operations (checks.c's dgt_random_op()) on one device, each its own
 * random sequence, for torture_ms milliseconds, alongside the devices'
 * drivers.  Concurrent map and unmap in one domain is where the IOVA
 * allocator, the flush queues and the page table's locking meet.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/completion.h>
#include <linux/err.h>
#include <linux/jiffies.h>
#include <linux/kthread.h>
#include <linux/sched.h>
#include <linux/slab.h>

#include "dma_granule_test.h"

struct dgt_thread {
	struct dgt_dev *devs;
	unsigned int nr_devs;
	struct dgt_why *why;
	struct dgt_rng rng;
	unsigned long deadline;
	u64 ops;
	struct completion done;
};

static int dgt_torture_fn(void *data)
{
	struct dgt_thread *t = data;

	while (time_before(jiffies, t->deadline) && !kthread_should_stop()) {
		dgt_random_op(&t->devs[dgt_below(&t->rng, t->nr_devs)],
			      &t->rng, t->why);
		t->ops++;
		atomic64_inc(&dgt_stats.torture_ops);
		cond_resched();
	}
	/* Completes and exits outside this module's text. */
	kthread_complete_and_exit(&t->done, 0);
}

void dgt_torture(struct dgt_dev *devs, unsigned int n, struct dgt_why *why,
		 u64 *ops)
{
	unsigned long deadline = jiffies + msecs_to_jiffies(dgt_params.torture_ms);
	unsigned int i, started = 0;
	struct dgt_thread *t;

	*ops = 0;
	t = kcalloc(dgt_params.threads, sizeof(*t), GFP_KERNEL);
	if (!t) {
		dgt_fail(why, "no memory for %u threads", dgt_params.threads);
		return;
	}
	for (i = 0; i < dgt_params.threads; i++) {
		struct task_struct *task;

		t[i] = (struct dgt_thread) {
			.devs = devs,
			.nr_devs = n,
			.why = why,
			.rng = { .state = (dgt_params.seed * 0x9e3779b97f4a7c15ULL + i) | 1 },
			.deadline = deadline,
		};
		init_completion(&t[i].done);
		task = kthread_run(dgt_torture_fn, &t[i], "dgt_thread/%u", i);
		if (IS_ERR(task)) {
			dgt_fail(why, "thread %u not started: %pe", i, task);
			break;
		}
		started++;
	}
	/*
	 * Each thread completes, then exits on its own: wait for them all, a
	 * second at a time (no hung-task report for a long run).
	 */
	for (i = 0; i < started; i++) {
		while (!wait_for_completion_timeout(&t[i].done, HZ))
			;
		*ops += t[i].ops;
	}
	if (started && !*ops)
		dgt_fail(why, "no operation ran in %u ms", dgt_params.torture_ms);
	kfree(t);
}

# SPDX-License-Identifier: GPL-2.0
#
# IOMMU granule > PAGE_SIZE: the series, its tests and the tooling.
# `make help` lists the targets.

TOP     := $(CURDIR)
B       := $(TOP)/build
RESULTS := $(B)/results
JOBS    ?= $(shell nproc)
PAGES   ?= 4k

# BASE_ONLY=1 builds and boots the untouched base tree (negative control).
ifeq ($(BASE_ONLY),1)
# Same relative layout as build/linux + build/kernel, so ccache hits for
# every file the series does not touch.
SRC     := $(B)/base/linux
O       := $(B)/base/kernel
EXPECT  ?= refuse
NAME    ?= boot-base
else
SRC     := $(B)/linux
O       ?= $(B)/kernel
NAME    ?= boot
endif
# kunit.py's kernel: the same configuration with every suite built in.
KUNIT_O ?= $(B)/kunit
ifneq ($(PAGES),4k)
O       := $(O)-$(PAGES)
KUNIT_O := $(KUNIT_O)-$(PAGES)
endif
# With no patch in patches/ the test kernel is the base: expect refusal.
EXPECT  ?= $(if $(wildcard patches/0*.patch),work,refuse)
GRANULES ?= 4k 16k 64k

export PATH := /usr/lib/ccache:$(PATH)
export CCACHE_DIR ?= $(HOME)/.cache/ccache
export CCACHE_BASEDIR := $(B)
export LINUX_DIR := $(SRC)
export O RESULTS PAGES

KMAKE = $(MAKE) -s -C $(SRC) O=$(O) ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu-
HAVE_DEPS = scripts/deps.sh

.PHONY: all help deps base apply export series-check b4-check config build module kunit kunit-debug boot \
	check checkpatch revert-check stress e2e bench dkms deb m1-config test clean distclean worktree-base ensure-applied

all: deps base ensure-applied build
	$(MAKE) --no-print-directory boot GRANULES=16k
	@grep '^GUEST: pci' $(RESULTS)/$(NAME)-16k.log | sed 's/^GUEST: /  /'
	@grep -h -e 'virtio-iommu\|iommu: Default domain\|granule' $(RESULTS)/$(NAME)-16k.log | sed 's/^/  /' | head -n 10

help:
	@echo "make              base, apply, build, boot the 4K kernel behind a 16K-granule IOMMU"
	@echo "make test         every test; last line 'N passed, N failed'"
	@echo "make deps         install missing host tools from Debian (root)"
	@echo "make base         build/linux at tag 'base' (KERNEL_SRC=, BASE=iommu-next)"
	@echo "make apply        fresh branch at base, git am patches/ (FORCE=1 drops local work)"
	@echo "make export       write base..HEAD of build/linux to patches/"
	@echo "make series-check fail when build/linux holds work patches/ lacks"
	@echo "make b4-check     b4 prep/send -o/shazam on build/linux, compared with patches/"
	@echo "make build        configure (Kconfig.fragment) and build the test kernel"
	@echo "make kunit        KUnit suites under QEMU via kunit.py (PAGES=16k: on a 16K-page kernel)"
	@echo "make kunit-debug  the same on a debug kernel (KASAN, lockdep, kmemleak, DMA-API debug)"
	@echo "make stress       debug kernel + fault injection: failure walks, lazy domains, threads, kmemleak"
	@echo "make module       build the test modules of drivers/ against the test kernel (W=1)"
	@echo "make e2e          disk and network traffic, the test module, KUnit modules behind"
	@echo "                  virtio-iommu granule 4k/16k/64k; the base kernel as control"
	@echo "make bench        dma_map_benchmark, block reads: base vs patched at 4k, granule 16k/64k"
	@echo "                  vs 4k, 16K kernel vs 4K kernel; bench.json, docs/performance.md"
	@echo "make dkms         the test module as a dkms source tree in build/dkms/"
	@echo "make m1-config    the Apple M1 4K fragment merged onto a distro config, checked"
	@echo "make deb          Debian packages of the patched tree for Apple M1/M2 (M1_BASE_CONFIG=)"
	@echo "make boot         QEMU boots behind virtio-iommu granule=\$$GRANULES, test modules loaded"
	@echo "make boot BASE_ONLY=1   the same on the untouched base (negative control)"
	@echo "make checkpatch   checkpatch.pl --strict on every patch"
	@echo "make check        checkpatch, W=1 build of every prefix (arm64 4K/16K, x86_64), sparse"
	@echo "make revert-check revert each patch alone: some test must fail (PATCHES=\"4 11\": only those)"
	@echo "make clean        remove build outputs but keep build/linux"

deps:
	@sh scripts/deps.sh

base: deps
	@sh scripts/base.sh

apply: base
	@sh scripts/series.sh apply

export:
	@sh scripts/series.sh export

series-check:
	@sh scripts/series.sh check

# b4's view of build/linux (prep --show-info, checkpatch, send -o into
# build/b4/, shazam of patches/ on a clone) compared with patches/; offline,
# and build/linux is only read.
b4-check:
	@sh scripts/series.sh b4-check

# Apply patches/ unless build/linux already holds them (or holds local work,
# which is then what gets tested).
ensure-applied: base
	@if ! git -C $(B)/linux rev-parse -q --verify series >/dev/null; then \
		sh scripts/series.sh apply; \
	elif ! sh scripts/series.sh check >/dev/null 2>&1; then \
		echo "NOTE: build/linux differs from patches/; testing build/linux as it is"; \
		echo "      ('make apply FORCE=1' tests patches/, 'make export' saves build/linux)"; \
	fi

worktree-base: base
	@if [ ! -d $(B)/base/linux ]; then mkdir -p $(B)/base && \
		git -C $(B)/linux worktree add -q --detach $(B)/base/linux base; \
	else git -C $(B)/base/linux checkout -q --detach base; fi

ifeq ($(BASE_ONLY),1)
config: export ALLOW_MISSING := 1
config: worktree-base
else
config: ensure-applied
endif
	@sh scripts/config.sh

build: config
	@sh scripts/progress.sh build $(O) - $(KMAKE) -j$(JOBS)
	@echo "build: $(O)/arch/arm64/boot/Image.gz ($$(cd $(SRC) && git describe --always --tags))"

# 4K: the test kernel's configuration with every suite built in, so that
# ccache serves most of it from the test kernel's build.  Another page
# size: kunit.py's own minimal configuration (the kunitconfigs and the
# page size), a build of a few minutes rather than a whole test kernel.
kunit: ensure-applied
ifeq ($(PAGES),4k)
	@O=$(KUNIT_O) EXTRA_FRAGS="$(SRC)/drivers/iommu/.kunitconfig $(TOP)/kunit/.kunitconfig" \
		sh scripts/config.sh
endif
	@O=$(KUNIT_O) sh scripts/kunit.sh

# The suites on the debug kernel: KASAN, kmemleak, lockdep, atomic-sleep,
# list and VM debugging, DMA-API debugging; any report fails the run.
kunit-debug: ensure-applied
	@O=$(B)/kunit-debug EXTRA_FRAGS="$(SRC)/drivers/iommu/.kunitconfig $(TOP)/kunit/.kunitconfig $(TOP)/configs/debug.config" \
		sh scripts/config.sh
	@O=$(B)/kunit-debug VARIANT=debug sh scripts/kunit.sh

# Reliability (scripts/stress.sh): every suite on the debug kernel with
# fault injection, the dma-iommu module strict and lazy, failure walks,
# threads, a kmemleak scan; table in build/results/stress.json and
# reliability.md.
stress: ensure-applied
	@sh scripts/stress.sh

# The test modules of drivers/, built out of tree against $(O).
module: build
	@sh scripts/module.sh

# The guest loads the test modules only where the kernel should work: the
# base refuses the granules the modules are about.
boot: build
	@if [ "$(EXPECT)" = work ]; then m=$$(sh scripts/module.sh | grep -v '/dma_granule_test\.ko$$') || exit 1; fi; \
	k=$$(ls $(O)/drivers/iommu/tests/*_kunit.ko 2>/dev/null); \
	EXPECT=$(EXPECT) GRANULES="$(GRANULES)" NAME=$(NAME) MODULES="$$m" \
		KUNIT_MODULES="$$k" sh scripts/boot.sh

# End to end (scripts/e2e.sh): traffic through virtio-blk and virtio-net
# behind virtio-iommu at each granule, the test module on their live
# domains, the KUnit modules through modprobe; the base kernel as control.
e2e: build
	@$(MAKE) --no-print-directory build BASE_ONLY=1
	@BASE_O=$(B)/base/kernel GRANULES="$(GRANULES)" sh scripts/e2e.sh

# Performance (scripts/bench.sh), not part of make test: the base, the
# patched 4K and the patched 16K kernel behind virtio-iommu, map/unmap with
# the kernel's dma_map_benchmark and block reads; bench.json,
# docs/performance.md and its plots.
bench: build
	@$(MAKE) --no-print-directory build BASE_ONLY=1
	@$(MAKE) --no-print-directory build PAGES=16k
	@DEPS_EXTRA="gnuplot:gnuplot-nox /usr/aarch64-linux-gnu/lib/libc.a:libc6-dev-arm64-cross" \
		sh scripts/deps.sh
	@BASE_O=$(B)/base/kernel O16=$(B)/kernel-16k sh scripts/bench.sh

# Apple M1/M2: configs/apple-m1-4k.config merged onto a distro config
# (M1_BASE_CONFIG=, default the arm64 defconfig), every option checked
# (m1-config, a stage of make test); Debian packages of the patched tree
# with it (deb, not part of make test: a whole distro-sized kernel).
m1-config: ensure-applied
	@sh scripts/m1-config-check.sh

deb: ensure-applied
	@sh scripts/deb.sh

# The test module as a dkms(8) source tree: build/dkms/dma_granule_test-<v>.
dkms:
	@sh scripts/dkms.sh

checkpatch: base
	@sh scripts/checkpatch.sh

check: ensure-applied
	@sh scripts/checkpatch.sh; r=$$?; sh scripts/check.sh && exit $$r

revert-check: ensure-applied
	@sh scripts/revert-check.sh

test: deps
	@sh scripts/test.sh

clean:
	rm -rf $(B)/kernel* $(B)/results $(B)/guest $(B)/base/kernel

distclean:
	rm -rf $(B)

# SPDX-License-Identifier: GPL-2.0
#
# make bench: the IOMMU's MAP and UNMAP requests per benchmark run, counted
# in QEMU's trace of virtio-iommu (-trace virtio_iommu_attach, _map, _unmap).
# The guest's virtio-iommu driver sends one request per map_pages() or
# unmap_pages() call, and iommu_map()/iommu_unmap() call those once per run
# of one page size: a range whose size is not a power of two, or not
# aligned to one, takes several.
#
#   awk -v disk=<endpoint of the disk> -f bench-count.awk < trace
#
# The guest reads one block of its disk before every run (scripts/guest/init,
# mark()): a request on a domain attached to the disk's endpoint ends a run.
# Prints, per run in order ("run 0" is what came before the first mark):
#   run N maps M unmaps U map_bytes B
# the requests on every other domain (the benchmark's device) in that run,
# and the IOVA bytes the MAP requests cover.

function val(key,	i, kv) {
	for (i = 1; i <= NF; i++) {
		split($i, kv, "=")
		if (kv[1] == key)
			return kv[2]
	}
	return ""
}

function hex(s,	i, n) {
	n = 0
	s = tolower(s)
	sub(/^0x/, "", s)
	for (i = 1; i <= length(s); i++)
		n = n * 16 + index("0123456789abcdef", substr(s, i, 1)) - 1
	return n
}

function flush() {
	printf "run %d maps %d unmaps %d map_bytes %.0f\n", run, maps, unmaps, bytes
	run++
	maps = unmaps = bytes = 0
}

BEGIN { run = 0; inmark = 0 }

/virtio_iommu_attach / {
	ep[val("domain")] = val("endpoint")
	next
}

/virtio_iommu_map / || /virtio_iommu_unmap / {
	d = val("domain")
	if ((d in ep) && ep[d] == disk) {
		if (!inmark)
			flush()
		inmark = 1
		next
	}
	inmark = 0
	if ($0 ~ /virtio_iommu_unmap /) {
		unmaps++
		next
	}
	maps++
	bytes += hex(val("virt_end")) - hex(val("virt_start")) + 1
}

END { flush() }

#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""make bench's report: scripts/bench.sh's samples as bench.json,
docs/performance.md and its plots (gnuplot, SVG).

Every figure is a median over the samples of one configuration (kernel,
granule, domain type, threads, map size, mode), with its spread (quartiles,
minimum, maximum) and sample count.  A ratio is a quotient of two medians
of the same run; its spread is the range of the same quotient taken boot
round by boot round.  Ratios > 1 mean worse for the first named.
"""

import argparse
import csv
import json
import math
import os
import statistics
import subprocess
import sys

PAGE = {"base-4k@4k": 4096, "series-4k@4k": 4096, "series-4k@16k": 4096,
        "series-4k@64k": 4096, "series-16k@16k": 16384}
GRANULE = {"base-4k@4k": "4k", "series-4k@4k": "4k", "series-4k@16k": "16k",
           "series-4k@64k": "64k", "series-16k@16k": "16k"}
ORDER = list(PAGE)
MODES = {0: "map_single", 1: "map_sg"}


def quant(v, q):
    v = sorted(v)
    if len(v) == 1:
        return v[0]
    pos = (len(v) - 1) * q
    lo = math.floor(pos)
    hi = min(lo + 1, len(v) - 1)
    return v[lo] + (v[hi] - v[lo]) * (pos - lo)


def stats(v):
    return {"median": round(statistics.median(v), 3),
            "p25": round(quant(v, 0.25), 3), "p75": round(quant(v, 0.75), 3),
            "min": round(min(v), 3), "max": round(max(v), 3), "n": len(v)}


def quotient(d1, d2, key):
    """Median of d1[key] over median of d2[key], with the range of the same
    quotient taken boot by boot (d["boots"]: boot -> that boot's samples)."""
    per = [statistics.median(d1["boots"][b]) / statistics.median(d2["boots"][b])
           for b in d1["boots"] if b in d2["boots"]]
    return {"ratio": round(statistics.median(d1[key]) /
                           statistics.median(d2[key]), 3),
            "boot_min": round(min(per), 3) if per else None,
            "boot_max": round(max(per), 3) if per else None}


def requests_per_op(key, per_run):
    """(boot, round) -> {requests_per_op, iova_bytes_per_op} of a dma_map_sg
    run.  Each one-page entry takes its own IOVA range of one page rounded
    up to the granule, so the IOVA bytes mapped tell the number of lists
    mapped (the trace has no op boundaries).  None for dma_map_single."""
    c, _, _, pages, mode = key
    if mode != 1 or not per_run:
        return None
    iova = pages * max(PAGE[c], int(GRANULE[c][:-1]) * 1024)
    out = {}
    for run, n in per_run.items():
        ops = n["bytes"] / iova
        if ops >= 1:
            out[run] = {"requests_per_op": round(n["maps"] / ops, 3),
                        "unmap_requests_per_op": round(n["unmaps"] / ops, 3)}
    return out


def request_analysis(cost, runs):
    """dma_map_sg with 1 thread: every run's MAP requests per list against
    its map+unmap time, per configuration, domain type and map size; the
    cost of one request where the runs of a configuration and domain type
    reached more than one request count (a least-squares slope common to
    every map size, each size its own intercept); and the runs whose every
    entry took a request of its own (requests per list = pages), the
    comparison at equal requests."""
    rows, slope = [], {}
    groups = {}
    for key in sorted(cost, key=lambda k: (ORDER.index(k[0]), k[1:])):
        c, t, th, pages, mode = key
        per = requests_per_op(key, runs.get(key, {}))
        if th != 1 or not per:
            continue
        samples = [{"boot": b, "round": rd,
                    "requests_per_op": per[(b, rd)]["requests_per_op"],
                    "unmap_requests_per_op": per[(b, rd)]["unmap_requests_per_op"],
                    "map_unmap_us": cost[key]["runs"][(b, rd)]}
                   for (b, rd) in sorted(per) if (b, rd) in cost[key]["runs"]]
        own = [x["map_unmap_us"] for x in samples
               if abs(x["requests_per_op"] - pages) < 0.01]
        rows.append({"config": c, "domain": t, "threads": th, "pages": pages,
                     "samples": samples,
                     "unmerged_us": stats(own) if own else None})
        groups.setdefault((c, t), []).append(
            [(x["requests_per_op"], x["map_unmap_us"]) for x in samples])
    for (c, t), gs in groups.items():
        sxx = sxy = 0.0
        n = 0
        levels = set()
        for g in gs:
            xs = {round(x, 2) for x, _ in g}
            if len(xs) < 2:
                continue
            levels |= xs
            mx = statistics.mean(x for x, _ in g)
            my = statistics.mean(y for _, y in g)
            sxx += sum((x - mx) ** 2 for x, _ in g)
            sxy += sum((x - mx) * (y - my) for x, y in g)
            n += len(g)
        if sxx > 0:
            b = sxy / sxx
            # What the fit leaves unexplained, in the runs it used.
            res = []
            for g in gs:
                if len({round(x, 2) for x, _ in g}) < 2:
                    continue
                mx = statistics.mean(x for x, _ in g)
                my = statistics.mean(y for _, y in g)
                res += [abs(y - (my + b * (x - mx))) for x, y in g]
            slope.setdefault(c, {})[t] = {
                "us_per_request": round(b, 3), "runs": n,
                "request_levels": sorted(levels),
                "max_residual_us": round(max(res), 2)}
    return {"map_sg": rows, "cost_per_request": slope}


def unmerged_ratios(requests, comparisons):
    """The dma_map_sg comparisons (1 thread) over the runs in which every
    entry took its own MAP request, both sides: the cost at equal
    requests, without the luck of the pages' physical layout."""
    by = {(m["config"], m["domain"], m["pages"]): m["unmerged_us"]
          for m in requests["map_sg"]}
    out = {}
    for name, (c1, c2) in comparisons.items():
        rows = []
        for (c, t, pages), u1 in sorted(by.items()):
            if c != c1:
                continue
            u2 = by.get((c2, t, pages))
            if not u1 or not u2:
                continue
            rows.append({"domain": t, "pages": pages,
                         "first_us": u1["median"], "first_runs": u1["n"],
                         "second_us": u2["median"], "second_runs": u2["n"],
                         "ratio": round(u1["median"] / u2["median"], 3)})
        out[name] = rows
    return out


def read_tsv(path):
    with open(path) as f:
        return list(csv.DictReader(f, delimiter="\t"))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--samples", required=True)
    ap.add_argument("--blk", required=True)
    ap.add_argument("--meta", required=True)
    ap.add_argument("--json", required=True)
    ap.add_argument("--docs", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--mem")
    ap.add_argument("--sg")
    ap.add_argument("--limits")
    ap.add_argument("--counts")
    ap.add_argument("--run", default="")
    a = ap.parse_args()

    # Map/unmap: key -> samples, and key -> boot -> samples.
    cost = {}
    for r in read_tsv(a.samples):
        key = (r["config"], r["type"], int(r["threads"]), int(r["pages"]),
               int(r["mode"]))
        m, u = float(r["map_us"]), float(r["unmap_us"])
        d = cost.setdefault(key, {"map": [], "unmap": [], "total": [],
                                  "boots": {}})
        d["map"].append(m)
        d["unmap"].append(u)
        d["total"].append(m + u)
        d["boots"].setdefault(int(r["boot"]), []).append(m + u)
        d.setdefault("runs", {})[(int(r["boot"]), int(r["round"]))] = m + u

    # IOMMU requests per run (QEMU's trace of virtio-iommu, counted by
    # scripts/bench-count.awk): key -> (boot, round) -> requests and bytes.
    runs, mod_runs = {}, {}
    for r in (read_tsv(a.counts) if a.counts else []):
        w = r["what"].split()
        n = {"maps": int(r["maps"]), "unmaps": int(r["unmaps"]),
             "bytes": int(r["map_bytes"])}
        if w[0] == "run":
            d = dict(zip(w[1::2], w[2::2]))
            key = (r["config"], d["type"], int(d["threads"]), int(d["pages"]),
                   int(d["mode"]))
            runs.setdefault(key, {})[(int(r["boot"]), int(d["round"]))] = n
        elif w[0] == "module" and w[3] == "2":
            mod_runs.setdefault((r["config"], w[1]), {})[int(r["boot"])] = n

    figures = []
    for key in sorted(cost, key=lambda k: (ORDER.index(k[0]), k[1:])):
        c, t, th, pg, mo = key
        d = cost[key]
        figures.append({"config": c, "granule": GRANULE[c],
                        "page_size": PAGE[c], "domain": t,
                        "lazy": t == "DMA-FQ", "threads": th, "pages": pg,
                        "bytes": pg * PAGE[c], "mode": MODES[mo],
                        "map_us": stats(d["map"]),
                        "unmap_us": stats(d["unmap"]),
                        "map_unmap_us": stats(d["total"])})
        per = requests_per_op(key, runs.get(key, {}))
        if per:
            figures[-1]["map_requests_per_op"] = stats(
                [x["requests_per_op"] for x in per.values()])

    def med(key):
        d = cost.get(key)
        return statistics.median(d["total"]) if d else None

    def ratio(k1, k2):
        """Median quotient of k1 over k2, with its per-boot range."""
        if k1 not in cost or k2 not in cost:
            return None
        return dict(quotient(cost[k1], cost[k2], "total"),
                    first_us=round(med(k1), 2), second_us=round(med(k2), 2))

    keys = sorted({k[1:] for k in cost})
    comparisons = {
        "patched_vs_base_4k": ("series-4k@4k", "base-4k@4k", 1),
        "map_unmap_16k_vs_4k": ("series-4k@16k", "series-4k@4k", 1),
        "map_unmap_64k_vs_4k": ("series-4k@64k", "series-4k@4k", 1),
    }
    ratios = {}
    for name, (c1, c2, _) in comparisons.items():
        rows = []
        for k in keys:
            r = ratio((c1,) + k, (c2,) + k)
            if r:
                rows.append(dict(domain=k[0], threads=k[1], pages=k[2],
                                 mode=MODES[k[3]], **r))
        ratios[name] = rows
    # The 4K kernel against the 16K kernel behind the same 16K granule, at
    # equal bytes: n 16K pages of the one are 4n 4K pages of the other.
    rows = []
    for t, th, pg, mo in keys:
        k16 = ("series-16k@16k", t, th, pg, mo)
        k4 = ("series-4k@16k", t, th, pg * 4, mo)
        r = ratio(k4, k16)
        if r and k16 in cost:
            rows.append(dict(domain=t, threads=th, bytes=pg * 16384,
                             pages_4k=pg * 4, pages_16k=pg, mode=MODES[mo],
                             **r))
    ratios["kernel4k_vs_kernel16k_at_16k"] = rows

    # Block reads: bytes per second per sample.
    blk = {}
    for r in read_tsv(a.blk):
        if not r["ns"]:
            continue
        key = (r["config"], r["workload"])
        d = blk.setdefault(key, {"mbs": [], "boots": {},
                                 "block": int(r["block"])})
        v = int(r["bytes"]) / int(r["ns"]) * 1e3  # MB/s, host time
        d["mbs"].append(v)
        d["boots"].setdefault(int(r["boot"]), []).append(v)
    blk_fig = []
    for key in sorted(blk, key=lambda k: (ORDER.index(k[0]), k[1])):
        blk_fig.append({"config": key[0], "granule": GRANULE[key[0]],
                        "page_size": PAGE[key[0]], "workload": key[1],
                        "block": blk[key]["block"],
                        "mb_per_s": stats(blk[key]["mbs"])})

    def blk_ratio(w, c2, c1):
        """Throughput of c2 over c1: > 1 when c1 is slower."""
        k1, k2 = (c1, w), (c2, w)
        if k1 not in blk or k2 not in blk:
            return None
        return quotient(blk[k2], blk[k1], "mbs")
    ratios["blk_read_16k_vs_4k"] = {
        w: blk_ratio(w, "series-4k@4k", "series-4k@16k") for w in ("seq", "rand")}
    ratios["blk_read_64k_vs_4k"] = {
        w: blk_ratio(w, "series-4k@4k", "series-4k@64k") for w in ("seq", "rand")}
    ratios["blk_read_patched_vs_base_4k"] = {
        w: blk_ratio(w, "base-4k@4k", "series-4k@4k") for w in ("seq", "rand")}

    # Memory: per configuration, trust, kind and size, the median over
    # boots of the module's median batch; against the floor.
    memory = []
    mem = {}
    for r in (read_tsv(a.mem) if a.mem else []):
        key = (r["config"], r["trust"], r["kind"], int(r["size"]))
        d = mem.setdefault(key, {"pages": [], "reach": [], "r": r})
        d["pages"].append(int(r["pages"]))
        d["reach"].append(int(r["reach_bytes"]))
    kinds = ["coherent", "noncontiguous", "pages", "pool"]
    for key in sorted(mem, key=lambda k: (ORDER.index(k[0]), k[1],
                                          kinds.index(k[2]), k[3])):
        d, r = mem[key], mem[key]["r"]
        pages = statistics.median(d["pages"])
        reach = statistics.median(d["reach"])
        fp, fb = int(r["floor_pages"]), int(r["floor_bytes"])
        memory.append({"config": key[0], "granule": GRANULE[key[0]],
                       "page_size": PAGE[key[0]], "trust": key[1],
                       "kind": key[2], "size": key[3],
                       "count": int(r["count"]), "pages": pages,
                       "floor_pages": fp, "pages_over_floor": round(pages / fp, 3),
                       "reach_bytes": reach, "floor_bytes": fb,
                       "reach_over_floor": round(reach / fb, 3),
                       "boots": len(d["pages"])})

    # map_sg of the module's fixed lists: ns per list, per configuration
    # and trust; each sample one round of one boot.
    sgc = {}
    for r in (read_tsv(a.sg) if a.sg else []):
        key = (r["config"], r["trust"])
        per = (int(r["map_ns"]) + int(r["unmap_ns"])) / (
            int(r["lists"]) * int(r["iterations"]))
        d = sgc.setdefault(key, {"ns": [], "boots": {}, "r": r,
                                 "lists_mapped": {}})
        d["lists_mapped"][int(r["boot"])] = d["lists_mapped"].get(
            int(r["boot"]), 0) + int(r["lists"]) * int(r["iterations"])
        d["ns"].append(per / 1000)
        d["boots"].setdefault(int(r["boot"]), []).append(per / 1000)
    map_sg = []
    for key in sorted(sgc, key=lambda k: (ORDER.index(k[0]), k[1])):
        r = sgc[key]["r"]
        map_sg.append({"config": key[0], "granule": GRANULE[key[0]],
                       "page_size": PAGE[key[0]], "trust": key[1],
                       "lists": int(r["lists"]), "entries": int(r["entries"]),
                       "bytes": int(r["bytes"]),
                       "map_unmap_us_per_list": stats(sgc[key]["ns"])})
        # Lists mapped in the part's load: its rounds of iterations x lists.
        got = [(n, sgc[key]["lists_mapped"][b])
               for b, n in mod_runs.get(key, {}).items()
               if sgc[key]["lists_mapped"].get(b)]
        if got:
            for name, field in (("map_requests_per_list", "maps"),
                                ("unmap_requests_per_list", "unmaps"),
                                ("iova_bytes_per_list", "bytes")):
                map_sg[-1][name] = stats([n[field] / ops
                                          for n, ops in got])

    def sg_ratio(c1, c2, trust):
        k1, k2 = (c1, trust), (c2, trust)
        if k1 not in sgc or k2 not in sgc:
            return None
        return quotient(sgc[k1], sgc[k2], "ns")
    ratios["map_sg_mixed"] = {
        f"{c1}_vs_{c2}_{t}": sg_ratio(c1, c2, t)
        for c1, c2 in (("series-4k@4k", "base-4k@4k"),
                       ("series-4k@16k", "series-4k@4k"),
                       ("series-4k@64k", "series-4k@4k"),
                       ("series-4k@16k", "series-16k@16k"))
        for t in ("trusted", "untrusted")}

    # What the guest's DMA layer reports for the device, per configuration.
    limits = {}
    for r in (read_tsv(a.limits) if a.limits else []):
        limits.setdefault(r["config"], {})[r["trust"]] = {
            "dma_opt_mapping_size": int(r["opt_mapping_size"]),
            "dma_max_mapping_size": int(r["max_mapping_size"]),
            "blk_max_hw_sectors_kb": int(r["blk_max_hw_sectors_kb"] or 0)}

    requests = request_analysis(cost, runs)
    requests["unmerged_ratios"] = unmerged_ratios(requests, {
        n: (c1, c2) for n, (c1, c2, _) in comparisons.items()})

    def head(name, **want):
        for r in ratios[name]:
            if all(r.get(k) == v for k, v in want.items()):
                return r["ratio"]
        return None

    single = dict(domain="DMA", threads=1, mode="map_single")
    summary = {
        "patched_vs_base_4k": head("patched_vs_base_4k", pages=1, **single),
        "map_unmap_16k_vs_4k": head("map_unmap_16k_vs_4k", pages=1, **single),
        "map_unmap_64k_vs_4k": head("map_unmap_64k_vs_4k", pages=1, **single),
        "kernel4k_vs_kernel16k_at_16k": head("kernel4k_vs_kernel16k_at_16k",
                                             bytes=16384, **single),
        "blk_read_16k_vs_4k": (ratios["blk_read_16k_vs_4k"]["rand"] or {}).get("ratio"),
        "memory_pages_over_floor": max((m["pages_over_floor"] for m in memory),
                                       default=None),
    }
    worst = max(memory, key=lambda m: m["pages_over_floor"], default=None)
    summary_note = {
        "figures": "strict domain, 1 thread, dma_map_single of one page "
                   "(kernel4k_vs_kernel16k: of 16 KiB); blk_read: random "
                   "4 KiB O_DIRECT reads in host time, the throughput at 4k "
                   "over that at 16k",
        "memory_pages_over_floor":
            "the largest pages/floor of every configuration, trust, kind "
            "and size" + (f' ({worst["config"]} {worst["trust"]} '
                          f'{worst["kind"]} of {worst["size"]} bytes)'
                          if worst else ": not measured"),
    }

    meta = [dict(zip(["config", "pass", "boot", "seconds", "complete", "kernel"],
                     l.rstrip("\n").split("\t"))) for l in open(a.meta)]
    run = dict(x.split("=", 1) for x in a.run.split())
    out = {"run": run, "boots": meta, "map_unmap": figures, "blk_read": blk_fig,
           "memory": memory, "map_sg_mixed": map_sg, "dma_limits": limits,
           "ratios": ratios, "iommu_requests": requests,
           "summary": summary, "summary_note": summary_note}
    with open(a.json, "w") as f:
        json.dump(out, f, indent=1)

    plots(a, figures)
    mem_plot(a, memory)
    write_md(a, out)


def plots(a, figures):
    """Map+unmap cost against map size, one line per configuration."""
    os.makedirs(a.docs, exist_ok=True)
    for dom, tag in (("DMA", "strict"), ("DMA-FQ", "lazy")):
        lines = []
        for c in ORDER:
            rows = [f for f in figures if f["config"] == c and
                    f["domain"] == dom and f["threads"] == 1 and
                    f["mode"] == "map_single"]
            if not rows:
                continue
            dat = os.path.join(a.work, f"cost-{tag}-{c}.dat")
            with open(dat, "w") as f:
                for r in sorted(rows, key=lambda r: r["bytes"]):
                    s = r["map_unmap_us"]
                    f.write(f'{r["bytes"] // 1024} {s["median"]} {s["p25"]} {s["p75"]}\n')
            lines.append(f"'{dat}' using 1:2:3:4 with yerrorlines title '{c}'")
        if not lines:
            continue
        gnuplot_svg(os.path.join(a.docs, f"perf-map-cost-{tag}.svg"), 440,
                    f"dma\\_map\\_single + unmap, {tag} domain, 1 thread (median, quartiles)",
                    "map size (KiB)", "microseconds (QEMU TCG)", "x", lines)


def gnuplot_svg(svg, height, title, xlabel, ylabel, logscale, plots):
    """One SVG plot of @plots (gnuplot plot clauses), log scale on the
    axes in @logscale (base 2)."""
    gp = "\n".join([
        f"set terminal svg size 720,{height} dynamic font 'sans,11'",
        f"set output '{svg}'", f"set title '{title}'",
        f"set xlabel '{xlabel}'", f"set ylabel '{ylabel}'",
        f"set logscale {logscale} 2", "set key top left", "set grid",
        "plot " + ", ".join(plots), ""])
    subprocess.run(["gnuplot"], input=gp, text=True, check=True)


def mem_plot(a, memory):
    """Pages per object against size, the floor as a line, per kind."""
    for trust in ("trusted", "untrusted"):
        lines, floors = [], []
        for c in ("series-4k@4k", "series-4k@16k", "series-4k@64k",
                  "series-16k@16k"):
            for kind in ("coherent", "pool"):
                rows = [m for m in memory if m["config"] == c and
                        m["trust"] == trust and m["kind"] == kind]
                if not rows:
                    continue
                dat = os.path.join(a.work, f"mem-{trust}-{c}-{kind}.dat")
                with open(dat, "w") as f:
                    for m in sorted(rows, key=lambda m: m["size"]):
                        per = m["pages"] * m["page_size"] / m["count"] / 1024
                        fl = m["floor_bytes"] / m["count"] / 1024
                        f.write(f'{m["size"]} {per:.4f} {fl:.4f}\n')
                lines.append(f"'{dat}' using 1:2 with linespoints title '{c} {kind}'")
                if kind == "coherent":
                    floors.append(f"'{dat}' using 1:3 with lines dashtype 2 title '{c} floor'")
        if not lines:
            continue
        gnuplot_svg(os.path.join(a.docs, f"perf-memory-{trust}.svg"), 480,
                    f"memory per object, {trust} device (pages taken / objects)",
                    "object size (bytes)", "KiB per object", "xy",
                    lines + floors)


def fmt(r):
    if not r:
        return "–"
    if r.get("boot_min") is None:
        return f'{r["ratio"]:.3f}'
    return f'{r["ratio"]:.3f} ({r["boot_min"]:.2f}–{r["boot_max"]:.2f})'


def write_md(a, out):
    s = out["summary"]
    run = out["run"]
    L = []
    L.append("# Performance: what an IOMMU granule above PAGE_SIZE costs\n")
    L.append("Written by `make bench` (`scripts/bench.sh`, "
             "`scripts/bench-report.py`) from `build/results/bench.json`; "
             "do not edit by hand.  QEMU emulates the CPU in software here: "
             "absolute times mean nothing, only ratios of the same run do.\n")
    L.append("## Method\n")
    L.append(f"Five configurations, each booted {run.get('rounds', '?')} times "
             "in a rotated order (the host's noise falls on all of them), "
             f"{run.get('inner', '?')} rounds of every measurement per boot, "
             f"{run.get('smp', '?')} vCPUs, DMA-API debugging off, "
             f"QEMU's `-icount {run.get('icount') or 'off'}`:\n")
    L.append("| configuration | kernel | PAGE_SIZE | virtio-iommu granule |")
    L.append("|---|---|---|---|")
    for c in ORDER:
        k = "base (untouched)" if c.startswith("base") else "patched"
        L.append(f"| `{c}` | {k} | {PAGE[c] // 1024}K | {GRANULE[c]} |")
    L.append("")
    L.append("- Map/unmap: the kernel's `dma_map_benchmark` "
             "(CONFIG_DMA_MAP_BENCHMARK) bound through `driver_override` to a "
             "`pci-testdev`, driven by its own tool from `tools/dma` "
             f"(`-t` threads {run.get('threads', '?')}, `-g` "
             f"{run.get('sizes', '?')} pages, `-m 0` dma_map_single and `-m 1` "
             "dma_map_sg of one-page entries, "
             f"`-s {run.get('secs', '?')}`), on the device's strict domain "
             "(`DMA`) and, switched through the group's `type`, a lazy one "
             "(`DMA-FQ`).  A sample is the tool's average map latency plus "
             "its average unmap latency.")
    L.append("- Block: `e2e-io rate`, O_DIRECT reads of a 64 MiB virtio-blk "
             "disk, sequential 1 MiB and random 4 KiB blocks, "
             f"{run.get('blkms', '?')} ms each, {run.get('blk_inner', '?')} "
             f"times per boot, in {run.get('blk_rounds', '?')} rounds of "
             "boots of their own without `-icount`.")
    if run.get("icount"):
        L.append("- Guest time is instruction count: with `-icount shift=2` "
                 "every instruction the guest executes advances its clock by "
                 "4 ns, so a figure is the guest kernel's own work, "
                 "repeatable to a few tenths of a percent; QEMU's device "
                 "emulation (virtio-iommu's page tables, the disk) takes no "
                 "guest time, and neither do caches or TLBs.  The numbers "
                 "compare code paths, not hardware.")
    if run.get("icount"):
        L.append("- Under `-icount` QEMU runs the vCPUs one at a time, in turns: "
                 "2 threads contend for locks and caches of the kernel's "
                 "data structures but do not run in parallel, so the "
                 "2-thread rows say little about scaling.")
    L.append("- A figure is the median of its samples; a ratio is the quotient "
             "of two medians, and in brackets the range of that quotient "
             "taken boot round by boot round.  > 1: worse for the first.\n")
    L.append("Reproduce: `make build`, `make build BASE_ONLY=1`, "
             "`make build PAGES=16k`, then `make bench` (`ROUNDS=`, `INNER=`, "
             "`THREADS=`, `SIZES=`, `SECS=`, `BLKMS=`, `ONLY=`).\n")
    L.append("## Summary\n")
    L.append("Strict domain, 1 thread, dma_map_single of one page; "
             "`kernel4k_vs_kernel16k_at_16k` at 16 KiB (four 4K pages against "
             "one 16K page); `blk_read_16k_vs_4k` random 4 KiB reads, the "
             "throughput at granule 4K over that at 16K (host time); "
             "`memory_pages_over_floor` the largest pages/floor of any "
             "configuration, kind and size (the DMA layer's bookkeeping "
             "included, as on the base).\n")
    L.append("| ratio | value | target |")
    L.append("|---|---|---|")
    tgt = {"patched_vs_base_4k": "≤ 1.02", "map_unmap_16k_vs_4k": "≤ 1.10",
           "map_unmap_64k_vs_4k": "", "kernel4k_vs_kernel16k_at_16k": "",
           "blk_read_16k_vs_4k": "", "memory_pages_over_floor": "1.00"}
    for k, v in s.items():
        L.append(f"| `{k}` | {'not measured' if v is None else f'{v:.3f}'} | {tgt.get(k, '')} |")
    L.append("")
    L.append("## Reading the figures\n")
    rq = out["iommu_requests"]
    cpr = rq["cost_per_request"]
    single = [f["map_unmap_us"] for f in out["map_unmap"]
              if f["mode"] == "map_single" and f["threads"] == 1]
    if single:
        L.append("- `dma_map_single()` rows with 1 thread repeat from run to "
                 "run and boot to boot to within " +
                 f'{max((t["max"] - t["min"]) / t["median"] for t in single) * 100:.1f} %'
                 " (the largest range over a median).")
    spread = {}
    for m in rq["map_sg"]:
        spread.setdefault(m["pages"], []).extend(
            x["requests_per_op"] for x in m["samples"])
    if not rq["map_sg"]:
        L.append("- `dma_map_sg()` rows move between runs; this run has no "
                 "IOMMU trace counts to say why.")
    else:
        L.append("- `dma_map_sg()` rows follow the IOMMU's MAP requests per "
                 "list, which QEMU's trace of virtio-iommu counts for every run "
                 "(\"IOMMU requests of the dma_map_sg rows\" below). "
                 "`iommu_map_sg()` maps each physically contiguous stretch of "
                 "the list with one `iommu_map()`, and that sends one request "
                 "per block of a single page size that the alignment of IOVA "
                 "and physical address allows. The benchmark allocates each "
                 "entry's page afresh for every run, so the same list length "
                 "takes a different number of requests from run to run (with "
                 "1 thread: " + ", ".join(
                     f'{p} pages {min(v):g} to {max(v):g}'
                     for p, v in sorted(spread.items())) + ").  The 2-thread "
                 "rows pool both threads' lists.")
    if cpr:
        L.append("- Where a configuration's runs reached more than one "
                 "request count, one MAP request (and its share of the "
                 "unmap) costs, as a least-squares slope common to all map "
                 "sizes: " + "; ".join(
                     f'`{c}` ' + ", ".join(
                         f'{t} {v["us_per_request"]:.2f} µs ({v["runs"]} runs, '
                         f'counts {"/".join(f"{x:g}" for x in v["request_levels"])}, '
                         f'largest residual {v["max_residual_us"]:.1f} µs)'
                         for t, v in sorted(cpr[c].items()))
                     for c in ORDER if c in cpr) + ".  That is the guest "
                 "driver's work per request (virtio-iommu's request, its "
                 "interval tree, the kick); QEMU's handling of it takes no "
                 "guest time.")
    ur = rq.get("unmerged_ratios", {})
    parts = []
    for name in ("map_unmap_16k_vs_4k", "map_unmap_64k_vs_4k",
                 "patched_vs_base_4k"):
        rows = [r for r in ur.get(name, []) if r["domain"] == "DMA"]
        if rows:
            parts.append(f"`{name}` " + ", ".join(
                f'{r["pages"]} pages {r["ratio"]:.3f}' for r in rows))
    if parts:
        L.append("- Compared at equal requests, over the runs in which every "
                 "entry took a request of its own (strict, 1 thread): " +
                 "; ".join(parts) + ".  A granule above PAGE_SIZE changes "
                 "how many requests a list takes, little what a request "
                 "costs: each one-page entry is padded to its own granule, "
                 "so two entries in one granule never share a request "
                 "(as two sub-page entries of one page do not at granule "
                 "4K, upstream), and entries in adjacent granules can.")
    mx = out["ratios"]["map_sg_mixed"]

    def r(k):
        return fmt(mx.get(k))
    L.append("- In the test module's mixed lists (trusted), granule 16K over "
             f"4K on the 4K kernel is {r('series-4k@16k_vs_series-4k@4k_trusted')} "
             "and the 4K kernel over the 16K kernel at 16K "
             f"{r('series-4k@16k_vs_series-16k@16k_trusted')}; untrusted, "
             "where every entry bounces: "
             f"{r('series-4k@16k_vs_series-4k@4k_untrusted')} and "
             f"{r('series-4k@16k_vs_series-16k@16k_untrusted')}, 64K over 4K "
             f"{r('series-4k@64k_vs_series-4k@4k_untrusted')} (bounce slots "
             "padded to the granule, the padding zeroed).")
    rpl = {(m["config"], m["trust"]): m.get("map_requests_per_list")
           for m in out["map_sg_mixed"]}
    trio = [rpl.get((c, "trusted")) for c in
            ("series-4k@4k", "series-4k@16k", "series-16k@16k")]
    if all(trio):
        L.append("- The trusted mixed lists took "
                 f'{trio[0]["median"]:.1f}, {trio[1]["median"]:.1f} and '
                 f'{trio[2]["median"]:.1f} MAP requests per list (4K kernel '
                 "at granule 4K and 16K, 16K kernel at 16K; "
                 "\"dma_map_sg of mixed, unaligned lists\" below): each "
                 "entry lies in a 16 KiB block of its own; padded to a 16K "
                 "granule it covers the whole block, and entries whose "
                 "blocks the page allocator placed side by side share a "
                 "request, while at granule 4K an entry rarely reaches its "
                 "block's edges and takes at least one.")
    spread = {}
    for f in out["blk_read"]:
        m = f["mb_per_s"]
        spread.setdefault(f["workload"], []).append(m["max"] / m["min"])
    if spread:
        L.append("- Block reads run in host time and carry its noise: a "
                 "configuration's samples vary by up to " + ", ".join(
                     f'{(max(v) - 1) * 100:.0f} % ({w})'
                     for w, v in sorted(spread.items())) +
                 ", as much as any difference between configurations.  "
                 "They show that every configuration moves data, not what "
                 "the series costs; the icount figures above do that.")
    L.append("")
    titles = {
        "patched_vs_base_4k": "The series at granule 4K: patched over base",
        "map_unmap_16k_vs_4k": "4K kernel, granule 16K over granule 4K",
        "map_unmap_64k_vs_4k": "4K kernel, granule 64K over granule 4K",
    }
    for name, title in titles.items():
        L.append(f"## {title}\n")
        L.append("map+unmap medians; ratio (per-boot range).\n")
        L.append("| domain | threads | pages | mode | first µs | second µs | ratio |")
        L.append("|---|---|---|---|---|---|---|")
        for r in out["ratios"][name]:
            L.append(f'| {r["domain"]} | {r["threads"]} | {r["pages"]} | '
                     f'{r["mode"]} | {r["first_us"]} | {r["second_us"]} | {fmt(r)} |')
        L.append("")
    if rq["map_sg"]:
        fig = {(f["config"], f["domain"], f["threads"], f["pages"], f["mode"]): f
               for f in out["map_unmap"]}
        pairs = {"patched_vs_base_4k": ("series-4k@4k", "base-4k@4k"),
                 "map_unmap_16k_vs_4k": ("series-4k@16k", "series-4k@4k"),
                 "map_unmap_64k_vs_4k": ("series-4k@64k", "series-4k@4k")}
        L.append("## The ratios above 1.05, and their IOMMU requests\n")

        def reqs(c, r):
            f = fig.get((c, r["domain"], r["threads"], r["pages"], r["mode"]))
            return f and f.get("map_requests_per_op")

        def req(c, r):
            q = reqs(c, r)
            return (f'{q["median"]:g} ({q["min"]:g}–{q["max"]:g})'
                    if q else "1 (single)" if r["mode"] == "map_single" else "–")

        def req_ratio(c1, c2, r):
            q1, q2 = reqs(c1, r), reqs(c2, r)
            return f'{q1["median"] / q2["median"]:.3f}' if q1 and q2 else "–"

        rows_up = []
        for name, (c1, c2) in pairs.items():
            for r in out["ratios"][name]:
                if r["ratio"] > 1.05 or (r.get("boot_max") or 0) > 1.05:
                    rows_up.append((name, c1, c2, r))
        more = all(reqs(c1, r) and reqs(c2, r) and
                   reqs(c1, r)["median"] > reqs(c2, r)["median"]
                   for _, c1, c2, r in rows_up if r["ratio"] > 1.05)
        eq_max = max((u["ratio"] for n in pairs
                      for u in rq.get("unmerged_ratios", {}).get(n, [])),
                     default=None)
        L.append("Every row of the three tables above whose ratio or "
                 "per-boot range exceeds 1.05, with the MAP requests per "
                 "list of each side (median, and the range over runs; with "
                 "2 threads, both threads' lists pooled), their quotient, "
                 "and the ratio at equal requests where both sides had runs "
                 "in which every entry took its own (1 thread)." +
                 (("  In every row whose ratio exceeds 1.05 the first side "
                   "took more requests per list; a per-boot range reaches "
                   "above 1.05 where the second side had runs with fewer "
                   "requests (its requests range).") if more else "") +
                 (f"  At equal requests no comparison exceeds {eq_max:.3f}."
                  if eq_max is not None else "") + "\n")
        L.append("| comparison | domain | threads | pages | mode | ratio | first: requests | second: requests | requests ratio | at equal requests |")
        L.append("|---|---|---|---|---|---|---|---|---|---|")
        for name, c1, c2, r in rows_up:
            eq = {(u["domain"], u["pages"]): u["ratio"]
                  for u in rq.get("unmerged_ratios", {}).get(name, [])}
            e = eq.get((r["domain"], r["pages"])) if r["threads"] == 1 \
                and r["mode"] == "map_sg" else None
            L.append(f'| `{name}` | {r["domain"]} | {r["threads"]} | '
                     f'{r["pages"]} | {r["mode"]} | {fmt(r)} | '
                     f'{req(c1, r)} | {req(c2, r)} | '
                     f'{req_ratio(c1, c2, r)} | '
                     f'{"–" if e is None else f"{e:.3f}"} |')
        L.append("")
        L.append("## IOMMU requests of the dma_map_sg rows\n")
        L.append("QEMU's trace of virtio-iommu (`scripts/bench-count.awk`), "
                 "every `dma_map_benchmark -m 1` run with 1 thread: MAP "
                 "requests per list against the run's map+unmap µs, as "
                 "`requests → µs`, run by run (boot.round).  The lists "
                 "mapped come from the IOVA bytes the requests cover: each "
                 "one-page entry takes one page rounded up to the granule.\n")
        odd = [f'`{m["config"]}` {m["domain"]} {m["pages"]} pages run '
               f'{x["boot"]}.{x["round"]}'
               for m in rq["map_sg"] for x in m["samples"]
               if abs(x["unmap_requests_per_op"] - 1) > 0.001]
        L.append("Each list must take exactly one UNMAP request (a "
                 "power-of-two IOVA range): " + (
                     "so every run did, which confirms the count of lists."
                     if not odd else "these runs did not, and their counts "
                     "of lists are suspect: " + ", ".join(odd) + ".") + "\n")
        L.append("| configuration | domain | pages | runs: requests per list → µs |")
        L.append("|---|---|---|---|")
        for m in rq["map_sg"]:
            L.append(f'| `{m["config"]}` | {m["domain"]} | {m["pages"]} | ' +
                     "; ".join(f'{x["boot"]}.{x["round"]}: '
                               f'{x["requests_per_op"]:.1f} → {x["map_unmap_us"]:.1f}'
                               for x in m["samples"]) + " |")
        L.append("")
    L.append("## The 4K kernel against the 16K kernel, both behind granule 16K\n")
    L.append("Equal bytes: four 4K pages of the one against one 16K page of "
             "the other.\n")
    L.append("| domain | threads | bytes | mode | 4K kernel µs | 16K kernel µs | ratio |")
    L.append("|---|---|---|---|---|---|---|")
    for r in out["ratios"]["kernel4k_vs_kernel16k_at_16k"]:
        L.append(f'| {r["domain"]} | {r["threads"]} | {r["bytes"]} | {r["mode"]} | '
                 f'{r["first_us"]} | {r["second_us"]} | {fmt(r)} |')
    L.append("")
    L.append("## Block reads (virtio-blk, O_DIRECT)\n")
    L.append("Boots of their own, without `-icount` (under it the guest's "
             "idle time, the wait for the disk, jumps to the next timer and "
             "throughput means nothing), so these are host time and carry "
             "the host's noise: read the quartiles and the per-boot ranges.\n")
    L.append("| configuration | workload | MB/s median (quartiles) | n |")
    L.append("|---|---|---|---|")
    for f in out["blk_read"]:
        m = f["mb_per_s"]
        L.append(f'| `{f["config"]}` | {f["workload"]} {f["block"]} B | '
                 f'{m["median"]:.2f} ({m["p25"]:.2f}–{m["p75"]:.2f}) | {m["n"]} |')
    L.append("")
    L.append("Throughput of the second named over the first (> 1: the first "
             "is slower):\n")
    for name in ("blk_read_patched_vs_base_4k", "blk_read_16k_vs_4k",
                 "blk_read_64k_vs_4k"):
        r = out["ratios"][name]
        L.append(f'- `{name}`: seq {fmt(r["seq"])}, rand {fmt(r["rand"])}')
    L.append("")
    L.append("## What the guest reports\n")
    L.append("`dma_opt_mapping_size()` and `dma_max_mapping_size()` of the "
             "benchmark's device (the test module), and the disk's "
             "`max_hw_sectors_kb`:\n")
    L.append("| configuration | trust | dma_opt_mapping_size | dma_max_mapping_size | max_hw_sectors_kb |")
    L.append("|---|---|---|---|---|")
    for c in ORDER:
        for t, v in sorted(out["dma_limits"].get(c, {}).items()):
            L.append(f'| `{c}` | {t} | {v["dma_opt_mapping_size"]} | '
                     f'{v["dma_max_mapping_size"]} | {v["blk_max_hw_sectors_kb"]} |')
    L.append("")
    L.append("## Memory against the floor\n")
    L.append("The test module's benchmark mode (`dma_granule_test bench=1`) "
             "on the same device: batches of objects (16 MiB of floor, 16 to "
             "512 objects), three per size, the median kept; pages are the "
             "page allocator's (VM event counters: allocated less freed, the "
             "DMA layer's bookkeeping and IOMMU page tables included); the "
             "reach is the IOVA the device can address, whole granules "
             "walked in its page table.  The floor: each object's size "
             "rounded up to the granule (for `dma_pool`, the batch's bytes "
             "rounded up to the granule).\n")
    L.append("| configuration | trust | kind | size | objects | pages/floor | reach/floor |")
    L.append("|---|---|---|---|---|---|---|")
    for m in out["memory"]:
        L.append(f'| `{m["config"]}` | {m["trust"]} | {m["kind"]} | {m["size"]} | '
                 f'{m["count"]} | {m["pages_over_floor"]:.3f} | {m["reach_over_floor"]:.3f} |')
    L.append("")
    L.append("![memory, trusted](perf-memory-trusted.svg)\n")
    L.append("![memory, untrusted](perf-memory-untrusted.svg)\n")
    L.append("## dma_map_sg of mixed, unaligned lists\n")
    L.append("The module's 16 fixed lists (4 to 32 entries of 1 byte to "
             "12 KiB at any offset; the same bytes on every kernel), mapped "
             "and unmapped `SG_ITERS` times a round, 3 rounds a boot: µs per "
             "list (map + unmap).\n")
    L.append("MAP and UNMAP requests and IOVA bytes per list: QEMU's trace "
             "of the part's own load, the median over boots.\n")
    L.append("| configuration | trust | entries | bytes | µs per list (quartiles) | n | MAP requests | UNMAP requests | IOVA bytes |")
    L.append("|---|---|---|---|---|---|---|---|---|")

    def med_of(m, k, f="{:.1f}"):
        return f.format(m[k]["median"]) if k in m else "–"
    for m in out["map_sg_mixed"]:
        t = m["map_unmap_us_per_list"]
        L.append(f'| `{m["config"]}` | {m["trust"]} | {m["entries"]} | {m["bytes"]} | '
                 f'{t["median"]:.1f} ({t["p25"]:.1f}–{t["p75"]:.1f}) | {t["n"]} | '
                 f'{med_of(m, "map_requests_per_list")} | '
                 f'{med_of(m, "unmap_requests_per_list")} | '
                 f'{med_of(m, "iova_bytes_per_list", "{:.0f}")} |')
    L.append("")
    for k, r in out["ratios"]["map_sg_mixed"].items():
        L.append(f"- `{k}`: {fmt(r)}")
    L.append("")
    if os.path.exists(os.path.join(a.docs, "performance-fixes.md")):
        L.append("What these measurements made us change in the series, "
                 "before and after: [performance-fixes.md]"
                 "(performance-fixes.md).\n")
    L.append("## Plots\n")
    L.append("![map+unmap cost, strict](perf-map-cost-strict.svg)\n")
    L.append("![map+unmap cost, lazy](perf-map-cost-lazy.svg)\n")
    L.append("## Every figure\n")
    L.append("| configuration | domain | threads | pages | mode | map µs | unmap µs | map+unmap µs (quartiles) | n |")
    L.append("|---|---|---|---|---|---|---|---|---|")
    for f in out["map_unmap"]:
        t = f["map_unmap_us"]
        L.append(f'| `{f["config"]}` | {f["domain"]} | {f["threads"]} | {f["pages"]} | '
                 f'{f["mode"]} | {f["map_us"]["median"]} | {f["unmap_us"]["median"]} | '
                 f'{t["median"]} ({t["p25"]}–{t["p75"]}) | {t["n"]} |')
    L.append("")
    L.append("## Boots\n")
    L.append("| configuration | pass | boot | seconds | complete |")
    L.append("|---|---|---|---|---|")
    for m in out["boots"]:
        L.append(f'| `{m["config"]}` | {m["pass"]} | {m["boot"]} | {m["seconds"]} | {m["complete"]} |')
    L.append("")
    with open(os.path.join(a.docs, "performance.md"), "w") as f:
        f.write("\n".join(L))


if __name__ == "__main__":
    sys.exit(main())

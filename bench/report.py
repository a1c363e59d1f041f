"""Turns bench/results.json (written by pingid-bench) into bench/REPORT.md and its chart.

Ratios are what the targets are about: they hold on any machine because the functions and the
floor (baseline-echo) are measured side by side in one run. Absolute numbers are for the
record only.

Usage: report.py [results.json REPORT.md chart.png]
"""

import json
import statistics
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display: render straight to PNG
import matplotlib.pyplot as plt  # noqa: E402

BENCH = Path(__file__).resolve().parent
TARGETS = {
    "init_ratio": 1.3,  # init ≤ 1.3 × the baseline (with the AWS SDK)
    "cpu_ratio": 1.3,  # warm CPU per invocation ≤ 1.3 × the reference (floor + bare reqwest)
    "overhead_p50_ms": 0.5,  # warm overhead p50 ≤ 0.5 ms
    "peak_rss_mb": 40,  # peak RSS ≤ 40 MB
    "zip_mb": 4,  # zipped artifact ≤ 4 MB
    "growth_noise_mib": 0.5,  # RSS growth over the memory run counted as noise
    "make_build_min": 10,  # cold `make build` of every function ≤ 10 min
    "make_test_min": 12,  # cold `make test` ≤ 12 min
}
# Which build figure a target applies to, by the start of its `what`.
BUILD_TARGETS = {
    "cold `make build`": "make_build_min",
    "`make test`": "make_test_min",
}
FLOOR = "baseline-echo"
MB = 1000 * 1000
MIB = 1024 * 1024


def verdict(ok):
    return "met" if ok else "**missed**"


def ms(summary, key="p50_ms"):
    return summary[key]


def headline(results):
    """The figures the README quotes, as (label, value) pairs."""
    cold = results["cold_start"]
    ratios = init_ratios(cold)
    sizes = [s for s in results["sizes"] if s["binary"] != FLOOR]
    warm = results["warm"]
    return {
        "init_ratio_median": statistics.median(ratios),
        "init_ratio_max": max(ratios),
        "overhead_p50_max_ms": max(w["overhead_p50_ms"] for w in warm),
        "cpu_ratio_max": max(w["cpu_ratio"] for w in warm),
        "peak_rss_max_mib": max(w["memory"]["peak_rss_kib"] for w in warm) / 1024,
        "zip_max_mib": max(s["zip_bytes"] for s in sizes) / MIB,
        "growth_max_mib": max(growth(w["memory"]) for w in warm),
        "growth_floor_mib": growth(results["floor_memory"]) if "floor_memory" in results else None,
    }


def init_ratios(cold):
    """Each function's init p50 ÷ the floor's, from one set of cold starts."""
    floor = next(c for c in cold if c["binary"] == FLOOR)
    return [c["init"]["p50_ms"] / floor["init"]["p50_ms"] for c in cold if c["binary"] != FLOOR]


def growth(memory):
    """RSS growth (MiB) from invocation 1,000 to the end of the memory run."""
    return (rss_at(memory, memory["invocations"]) - rss_at(memory, 1_000)) / 1024


def cold_start_table(results):
    cold = results["cold_start"]
    floor = next(c for c in cold if c["binary"] == FLOOR)
    runs = floor["init"]["samples"]
    lines = [
        "## Cold start",
        "",
        f"{runs} starts of each binary, round robin (start i of every binary before start "
        "i + 1 of any, so drift weighs on all alike). "
        "**init** = exec → the runtime's first `/next` request. "
        "**first response** = exec → the answer to the first invocation: the binary's fixture "
        "from `events/`, whose call reads the secret(s) from moto, gets a PingOne token from the "
        "simulator (PingOne capabilities) and asks the simulator. **first answer** is what it "
        "answered (an unknown live-resource id gives 404: the full path was still taken).",
        "",
        "| binary | first answer | init p50 ms | init p90 ms | init ÷ floor (p50) "
        "| first response p50 ms | p90 ms | target |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for c in cold:
        ratio = c["init"]["p50_ms"] / floor["init"]["p50_ms"]
        ok = c["binary"] == FLOOR or ratio <= TARGETS["init_ratio"]
        lines.append(
            f"| {c['binary']} | {c['first_answer']} | {c['init']['p50_ms']:.2f} "
            f"| {c['init']['p90_ms']:.2f} | {ratio:.2f}× "
            f"| {c['first_response']['p50_ms']:.2f} | {c['first_response']['p90_ms']:.2f} "
            f"| {verdict(ok)} (≤ {TARGETS['init_ratio']}×) |"
        )
    return lines


def warm_table(results):
    lines = [
        "",
        "## Warm invocations",
        "",
        "Sequential, simulator at zero latency. **handler** = the Runtime API handing the event "
        "out → receiving the result. **overhead** = handler − the echo function's handler time "
        "(the runtime's own floor) − the simulator answering the same PingOne calls directly. "
        "The p99 column subtracts p99s: a difference of percentiles, not a percentile. "
        "**CPU** = the function process's user + system time over the timed invocations, per "
        "invocation; the **reference** (`baseline-reqwest`) is the floor plus a bare reqwest "
        "client making the same PingOne calls and reading the same bodies, so the ratio is what "
        "our code costs beyond the runtime and the HTTP work any client must do. At Lambda's "
        "128 MB a function gets about 7% of a vCPU: CPU time is what a user waits for and pays.",
        "",
        "| function | samples | expected answers | handler p50/p99 ms | echo p50/p99 ms "
        "| simulator p50/p99 ms | overhead p50/p99 ms | target (p50 ≤ 0.5 ms) "
        "| CPU µs/invocation | reference µs | CPU ÷ reference | target (≤ 1.3×) |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for w in results["warm"]:
        h, e, s = w["handler"], w["echo_handler"], w["simulator"]
        lines.append(
            f"| {w['binary']} | {h['samples']} | {w['expected_answers']} "
            f"| {h['p50_ms']:.3f} / {h['p99_ms']:.3f} | {e['p50_ms']:.3f} / {e['p99_ms']:.3f} "
            f"| {s['p50_ms']:.3f} / {s['p99_ms']:.3f} "
            f"| {w['overhead_p50_ms']:.3f} / {w['overhead_p99_ms']:.3f} "
            f"| {verdict(w['overhead_p50_ms'] <= TARGETS['overhead_p50_ms'])} "
            f"| {w['cpu_us_per_invocation']:.0f} | {w['reference_cpu_us_per_invocation']:.0f} "
            f"| {w['cpu_ratio']:.2f}× | {verdict(w['cpu_ratio'] <= TARGETS['cpu_ratio'])} |"
        )
    return lines


def security_costs_table(results):
    """What binding a call to its user and counting it against the user's limit cost."""
    rows = []
    for w in results["warm"]:
        binding, limit = w.get("user_binding"), w.get("rate_limit_check")
        if binding:
            rows.append(
                f"| {w['binary']} | user binding: one PingOne read before the action "
                f"| {binding['read_p50_ms']:.3f} (the read, direct) "
                f"| {binding['reference_cpu_us']:.0f} (reference: read + action − action) |"
            )
        if limit:
            rows.append(
                f"| {w['binary']} | per-user limit: one conditional DynamoDB update (moto) "
                f"| {limit['handler_p50_ms']:.3f} (handler, on − off) "
                f"| {limit['cpu_us']:.0f} (on − off) |"
            )
    if not rows:
        return []
    return [
        "",
        "## What the security checks cost",
        "",
        "Measured on the warm OTP check (issue 14): the read that proves the authentication is "
        "the caller's user's, and the count against the user's passcode-check limit.",
        "",
        "| function | check | wall ms (p50) | CPU µs per invocation |",
        "|---|---|---|---|",
    ] + rows


def rss_at(memory, n):
    """RSS (KiB) sampled at invocation n, or the nearest sample before it."""
    return max((s for s in memory["rss_kib"] if s[0] <= n), key=lambda s: s[0])[1]


def memory_table(results):
    invocations = results["warm"][0]["memory"]["invocations"]
    timed = results["warm"][0]["handler"]["samples"]
    marks = sorted({1_000, timed, *range(10_000, invocations + 1, 10_000), invocations})
    lines = [
        "",
        "## Memory",
        "",
        f"RSS (MiB) of the function process over {invocations:,} invocations (the warm run's "
        "included), sampled every 1,000. **Leak check**: growth from invocation 1,000 to "
        f"{timed:,}, and from {timed:,} to {invocations:,}; the floor runs the same "
        "invocations, so growth beyond the floor's is the functions' own. The control run "
        "gives every event the same trace id (Lambda gives each its own): what is left of the "
        "growth when the runtime's `setenv(\"_X_AMZN_TRACE_ID\")` has one string to reuse.",
        "",
        "| function | peak RSS MiB | "
        + " | ".join(f"at {m:,}" for m in marks)
        + f" | growth 1k→{timed // 1000}k MiB | growth {timed // 1000}k→{invocations // 1000}k MiB "
        f"| beyond the floor 1k→{invocations // 1000}k MiB | target (peak ≤ 40 MB) |",
        "|---|---|" + "---|" * len(marks) + "---|---|---|---|",
    ]
    floor = results.get("floor_memory")
    rows = [(w["binary"], w["memory"]) for w in results["warm"]]
    if floor:
        rows.append((f"{FLOOR} (the floor)", floor))
    if "same_trace_id_memory" in results:
        rows.append(("read-all-devices-pingid, one trace id for all (control)",
                     results["same_trace_id_memory"]))
    for binary, memory in rows:
        peak = memory["peak_rss_kib"] * 1024
        cells = " | ".join(f"{rss_at(memory, m) / 1024:.1f}" for m in marks)
        early = (rss_at(memory, timed) - rss_at(memory, 1_000)) / 1024
        late = (rss_at(memory, invocations) - rss_at(memory, timed)) / 1024
        beyond = f"{growth(memory) - growth(floor):+.2f}" if floor else "n/a"
        lines.append(
            f"| {binary} | {peak / MIB:.1f} | {cells} | {early:+.2f} | {late:+.2f} | {beyond} "
            f"| {verdict(peak <= TARGETS['peak_rss_mb'] * MB)} |"
        )
    return lines


def profile_name(profile):
    return f"lto = {profile['lto']}, codegen-units = {profile['codegen_units']}"


def size_table(results):
    chosen = next((row["profile"] for row in results.get("lto", []) if row["chosen"]), None)
    profile = f" ({profile_name(chosen)})" if chosen else ""
    lines = [
        "",
        "## Size",
        "",
        f"What `make build` leaves in `target/lambda/` (the release profile of `Cargo.toml`"
        f"{profile}, stripped), and zipped as `bootstrap` (the Lambda artifact, deflate level 9).",
        "",
        f"| binary | arch | binary MiB | zip MiB | target (zip ≤ {TARGETS['zip_mb']} MB) |",
        "|---|---|---|---|---|",
    ]
    for s in results["sizes"]:
        lines.append(
            f"| {s['binary']} | {s['arch']} | {s['binary_bytes'] / MIB:.2f} "
            f"| {s['zip_bytes'] / MIB:.2f} | {verdict(s['zip_bytes'] <= TARGETS['zip_mb'] * MB)} |"
        )
    lines += ["", f"arm64: {results['arm64']}."]
    return lines


def throughput_table(results):
    lines = [
        "",
        "## Local gateway throughput (loopback)",
        "",
        "The local gateway (`make run`) serving the handlers in-process, against the simulator; "
        "the simulator alone is the reference.",
        "",
        "| target | clients | requests/s | p50 ms | p99 ms |",
        "|---|---|---|---|---|",
    ]
    for t in results["throughput"]:
        lines.append(
            f"| {t['target']} | {t['concurrency']} | {t['requests_per_second']:.0f} "
            f"| {t['latency']['p50_ms']:.2f} | {t['latency']['p99_ms']:.2f} |"
        )
    return lines


def duration(seconds):
    minutes, seconds = divmod(round(seconds), 60)
    return f"{minutes} min {seconds:02d} s"


def build_target(what):
    for start, key in BUILD_TARGETS.items():
        if what.startswith(start):
            return key
    return None


def build_table(results):
    lines = ["", "## Build", ""]
    if not results["build"]:
        return lines + ["Not measured in this run (`make bench` measures it)."]
    lines += [
        f"Cold: empty target directory, crate sources already downloaded; "
        f"{results['machine']['cores']} cores.",
        "",
        "| what | wall time | result | target |",
        "|---|---|---|---|",
    ]
    for b in results["build"]:
        result = "succeeded" if b["succeeded"] else f"**failed** (log: `{b['log']}`)"
        key = build_target(b["what"])
        target = (
            f"{verdict(b['succeeded'] and b['seconds'] <= TARGETS[key] * 60)} (≤ {TARGETS[key]} min)"
            if key
            else "—"
        )
        lines.append(f"| {b['what']} | {duration(b['seconds'])} | {result} | {target} |")
    return lines


def lto_table(results):
    rows = results.get("lto", [])
    if not rows:
        return []
    lines = [
        "",
        "## LTO table",
        "",
        "A cold `make build` of every function under each release profile (the others by "
        "`CARGO_PROFILE_RELEASE_*` overrides), and what its binaries measure: sizes over the "
        "functions, cold starts round robin with the floor built the same way. **init ÷ floor** "
        "is the median over the functions of their init p50 ÷ the floor's; **first response** "
        "the median of the functions' p50s (work moved out of init shows there). The chosen row "
        "is `Cargo.toml`'s, measured with the full run above.",
        "",
        "| profile | chosen | cold `make build` | binary MiB (max) | zip MiB (max) "
        "| init ÷ floor | first response p50 ms | starts per binary |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        sizes = [s for s in row["sizes"] if s["binary"] != FLOOR]
        cold = row["cold_start"]
        first = statistics.median(
            c["first_response"]["p50_ms"] for c in cold if c["binary"] != FLOOR
        )
        lines.append(
            f"| {profile_name(row['profile'])} | {'**yes**' if row['chosen'] else ''} "
            f"| {duration(row['build']['seconds'])} "
            f"| {max(s['binary_bytes'] for s in sizes) / MIB:.2f} "
            f"| {max(s['zip_bytes'] for s in sizes) / MIB:.2f} "
            f"| {statistics.median(init_ratios(cold)):.2f}× | {first:.2f} "
            f"| {cold[0]['init']['samples']} |"
        )
    return lines


def chart(results, chart_path):
    cold = results["cold_start"]
    floor = next(c for c in cold if c["binary"] == FLOOR)
    names = [c["binary"] for c in cold]
    init = [c["init"]["p50_ms"] for c in cold]
    first = [c["first_response"]["p50_ms"] for c in cold]
    fig, ax = plt.subplots(figsize=(11, 5))
    xs = range(len(names))
    ax.bar([x - 0.2 for x in xs], init, width=0.4, label="init (exec → first /next)")
    ax.bar([x + 0.2 for x in xs], first, width=0.4, label="first response")
    ax.axhline(
        floor["init"]["p50_ms"] * TARGETS["init_ratio"],
        color="grey",
        linestyle="--",
        label=f"init target: {TARGETS['init_ratio']}× the floor",
    )
    ax.set_xticks(list(xs), names, rotation=60, ha="right", fontsize=7)
    ax.set_ylabel("milliseconds (p50)")
    ax.set_title("Cold start: every function vs the baseline-echo floor")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(chart_path, dpi=110)


def main(results_path, report_path, chart_path):
    results = json.loads(Path(results_path).read_text())
    h = headline(results)
    machine = results["machine"]
    lines = [
        "# Benchmark report",
        "",
        f"Machine: {machine['cores']} cores, {machine['arch']}; binaries from "
        f"`{machine['binaries']}`. Generated by `make bench` from `bench/results.json`.",
        "",
        "## Headline",
        "",
        f"- Init: **{h['init_ratio_median']:.2f}×** the floor (median over the functions; "
        f"at most {h['init_ratio_max']:.2f}×). Target ≤ {TARGETS['init_ratio']}×.",
        f"- Warm CPU per invocation: at most **{h['cpu_ratio_max']:.2f}×** the reference "
        f"(floor + bare reqwest making the same calls). Target ≤ {TARGETS['cpu_ratio']}×.",
        f"- Warm overhead p50: at most **{h['overhead_p50_max_ms']:.3f} ms**. "
        f"Target ≤ {TARGETS['overhead_p50_ms']} ms.",
        f"- Peak RSS: at most **{h['peak_rss_max_mib']:.1f} MiB**. "
        f"Target ≤ {TARGETS['peak_rss_mb']} MB.",
        f"- Zipped artifact: at most **{h['zip_max_mib']:.2f} MiB**. "
        f"Target ≤ {TARGETS['zip_mb']} MB.",
    ]
    if h["growth_floor_mib"] is not None:
        beyond = h["growth_max_mib"] - h["growth_floor_mib"]
        lines.append(
            f"- RSS growth over the memory run: at most **{h['growth_max_mib']:+.2f} MiB**, the "
            f"floor **{h['growth_floor_mib']:+.2f} MiB**; beyond the floor at most "
            f"**{beyond:+.2f} MiB**. Target: no growth beyond noise "
            f"({TARGETS['growth_noise_mib']} MiB): "
            f"{verdict(h['growth_max_mib'] <= TARGETS['growth_noise_mib'])} "
            "(the reading below says whose growth it is)."
        )
    if "same_trace_id_memory" in results:
        lines.append(
            f"- Control, one trace id for every invocation: **{growth(results['same_trace_id_memory']):+.2f} MiB**."
        )
    lines.append("")
    lines += cold_start_table(results)
    lines += ["", f"![cold start vs baseline]({Path(chart_path).name})"]
    lines += warm_table(results)
    lines += security_costs_table(results)
    lines += memory_table(results)
    lines += size_table(results)
    lines += throughput_table(results)
    lines += build_table(results)
    lines += lto_table(results)
    # The reading of the numbers (why a target is missed, what it would take) is written by
    # hand next to the generated tables and kept across runs.
    analysis = BENCH / "ANALYSIS.md"
    if analysis.exists():
        lines += ["", analysis.read_text().strip()]
    Path(report_path).write_text("\n".join(lines) + "\n")
    chart(results, chart_path)


if __name__ == "__main__":
    args = sys.argv[1:] or [BENCH / "results.json", BENCH / "REPORT.md", BENCH / "cold-start.png"]
    main(*args)

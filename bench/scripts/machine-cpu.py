#!/usr/bin/env python3
"""CPU per process name over a window: machine-cpu.py SECONDS.

Reads /proc/*/stat twice and prints, per process name, the share of one core its processes used in
between; "(reaped children)" is the CPU of children that exited and were reaped meanwhile (for the
stack's JVM: the job shells). Linux only; for docs/performance.md.
"""
import collections
import os
import sys
import time


def snapshot():
    cpu = collections.Counter()
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/stat") as f:
                stat = f.read()
        except OSError:
            continue  # the process ended meanwhile
        name = stat[stat.find("(") + 1 : stat.rfind(")")]
        fields = stat[stat.rfind(")") + 2 :].split()
        cpu[name] += int(fields[11]) + int(fields[12])  # utime + stime
        cpu[name + " (reaped children)"] += int(fields[13]) + int(fields[14])  # cutime + cstime
    return cpu


def main():
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 20
    before, start = snapshot(), time.time()
    time.sleep(seconds)
    after, elapsed = snapshot(), time.time() - start
    hz = os.sysconf("SC_CLK_TCK")
    shares = {k: (after[k] - before.get(k, 0)) / hz / elapsed * 100 for k in after}
    for name, share in sorted(shares.items(), key=lambda kv: -kv[1])[:12]:
        if share > 0.5:
            print(f"{share:6.1f}%  {name}")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""CPU per thread group of one running JVM, over a window: thread-cpu.py PID SECONDS.

Reads /proc/PID/task/*/stat twice and prints, per thread name with digits folded to N (so the 16
job threads of a worker count as one group), the share of one core each group used in between,
beside how busy the whole machine was. Linux only; for docs/performance.md.
"""
import collections
import os
import re
import sys
import time


def threads(pid):
    out = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/stat") as f:
                stat = f.read()
            with open(f"/proc/{pid}/task/{tid}/comm") as f:
                name = f.read().strip()
        except OSError:
            continue  # the thread ended meanwhile
        fields = stat[stat.rfind(")") + 2 :].split()
        out[tid] = (name, int(fields[11]) + int(fields[12]))  # utime + stime, in ticks
    return out


def machine_busy():
    with open("/proc/stat") as f:
        ticks = list(map(int, f.readline().split()[1:]))
    return sum(ticks) - ticks[3] - ticks[4]  # all but idle and iowait


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: thread-cpu.py PID SECONDS")
    pid, seconds = sys.argv[1], float(sys.argv[2])
    hz = os.sysconf("SC_CLK_TCK")
    before, busy0 = threads(pid), machine_busy()
    time.sleep(seconds)
    after, busy1 = threads(pid), machine_busy()
    groups = collections.Counter()
    for tid, (name, ticks) in after.items():
        groups[re.sub(r"\d+", "N", name)] += ticks - before.get(tid, (name, 0))[1]
    share = lambda t: t / hz / seconds * 100
    print(f"machine busy {share(busy1 - busy0):.0f}% of one core; "
          f"this JVM {share(sum(groups.values())):.0f}%")
    for name, ticks in groups.most_common(25):
        print(f"{share(ticks):6.1f}%  {name}")


if __name__ == "__main__":
    main()

# Runs one job's command ($1) as /bin/sh -c, in the process group this shell leads (started
# through setsid), with a watchdog: the worker holds this shell's standard input open for as long
# as it lives. When the worker dies, even by kill -9, the pipe closes, read sees end-of-file, and
# the watchdog stops the whole group: SIGTERM, $2 seconds of grace, then SIGKILL. The command runs
# in the foreground (so it keeps the signal dispositions a job expects) and reads /dev/null. The
# exit status is the command's, also when the group is stopped: this shell waits for it.
trap ':' TERM
exec 3<&0
(
  trap 'exit 0' TERM
  while read -r _; do :; done
  trap '' TERM
  kill -TERM -$$ 2>/dev/null
  sleep "${2:-15}"
  kill -KILL -$$ 2>/dev/null
) <&3 &
watchdog=$!
exec 3<&-
/bin/sh -c "$1" </dev/null
status=$?
kill "$watchdog" 2>/dev/null
exit "$status"

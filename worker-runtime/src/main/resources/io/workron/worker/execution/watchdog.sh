# Runs one job's command ($1) as /bin/sh -c, in the process group this shell leads (started
# through setsid), with a watchdog: the worker holds this shell's standard input open for as long
# as it lives. When the worker dies, even by kill -9, the pipe closes, read sees end-of-file, and
# the watchdog stops the whole group: SIGTERM, $2 seconds of grace, then SIGKILL. The command runs
# in the foreground (so it keeps the signal dispositions a job expects) and reads /dev/null. The
# exit status is the command's, also when the group is stopped: this shell waits for it.
# The watchdog keeps the default TERM disposition while it reads, so the kill after the command
# ends it even when it comes before the watchdog has run a single line (a watchdog that missed it
# would linger with the output pipe open); only this shell catches the group's TERM (and goes on waiting), once the
# watchdog is started.
exec 3<&0
(
  while read -r _; do :; done
  trap '' TERM
  kill -TERM -$$ 2>/dev/null
  sleep "${2:-15}"
  kill -KILL -$$ 2>/dev/null
) <&3 &
watchdog=$!
trap ':' TERM
exec 3<&-
/bin/sh -c "$1" </dev/null
status=$?
kill "$watchdog" 2>/dev/null
exit "$status"

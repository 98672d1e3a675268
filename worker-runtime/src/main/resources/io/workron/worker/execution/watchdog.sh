# Runs one job's command ($1) as /bin/sh -c, in the process group this shell leads (started
# through setsid), with a watchdog: the worker holds this shell's standard input open for as long
# as it lives. When the worker dies, even by kill -9, the pipe closes, read sees end-of-file, and
# the watchdog stops the whole group: SIGTERM, $2 seconds of grace, then SIGKILL. The command
# itself reads /dev/null. The exit status is the command's, also when the worker stops the group.
trap 'interrupted=1' TERM
exec 3<&0
/bin/sh -c "$1" </dev/null 3<&- &
child=$!
(
  trap 'exit 0' TERM
  while read -r _; do :; done
  trap '' TERM
  kill -TERM -$$ 2>/dev/null
  sleep "${2:-15}"
  kill -KILL -$$ 2>/dev/null
) <&3 &
exec 3<&-
watchdog=$!
while :; do
  interrupted=0
  wait "$child"
  status=$?
  [ "$interrupted" = 1 ] || break
done
kill "$watchdog" 2>/dev/null
exit "$status"

# One per worker: stops the process groups of the worker's commands when the worker is gone. The
# worker writes "+ <pgid>" to this shell's standard input when a command's group starts and
# "- <pgid>" once its leader has exited and its output is closed, and holds the pipe open for as
# long as it lives. When the worker dies, even by kill -9, the kernel closes the pipe, read sees
# end-of-file, and every group still listed gets SIGTERM; those still there after $1 seconds of
# grace (looked at every second, so a group that is gone is not signalled again) get SIGKILL. This
# shell runs in a session of its own, so stopping one command's group never reaches it.
groups=' '
while read -r op pgid; do
  case $op in
    +) groups="$groups$pgid " ;;
    -) case $groups in
         *" $pgid "*) groups="${groups%% "$pgid" *} ${groups#* "$pgid" }" ;;
       esac ;;
  esac
done
for g in $groups; do kill -TERM -"$g" 2>/dev/null; done
left=${1:-15}
while :; do
  alive=''
  for g in $groups; do kill -0 -"$g" 2>/dev/null && alive="$alive $g"; done
  groups=$alive
  [ -z "$groups" ] && exit 0
  [ "$left" -le 0 ] && break
  sleep 1
  left=$((left - 1))
done
for g in $groups; do kill -KILL -"$g" 2>/dev/null; done

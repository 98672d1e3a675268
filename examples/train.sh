#!/bin/sh
# A small "training" task for a Workron gang (or a single job): it counts steps, saves its step to
# $WORKRON_CHECKPOINT_FILE after every step and on SIGTERM, and resumes from its last checkpoint.
#
#   STEPS         how many steps to run (default 30)
#   STEP_SECONDS  how long one step takes (default 1)
#   FAIL_RANK, FAIL_AT_STEP  for a demonstration: the task of that GANG_INDEX fails (exit 1) when
#                 it reaches that step in its first attempt, so the gang drains and resumes
#
# Workron puts the last checkpoint back in $WORKRON_CHECKPOINT_FILE before the command starts, and
# also passes it as base64 in $CHECKPOINT_DATA when it is small enough; either is enough to resume.
steps=${STEPS:-30}
pause=${STEP_SECONDS:-1}
step=0
if [ -n "$CHECKPOINT_DATA" ]; then
  step=$(printf '%s' "$CHECKPOINT_DATA" | base64 -d | sed -n 's/^step=//p')
elif [ -s "$WORKRON_CHECKPOINT_FILE" ]; then
  step=$(sed -n 's/^step=//p' "$WORKRON_CHECKPOINT_FILE")
fi
step=${step:-0}
rank=${GANG_INDEX:-0}
echo "rank $rank of ${GANG_SIZE:-1} (attempt ${WORKRON_ATTEMPT:-?}, epoch ${GANG_EPOCH:-0}) starts at step $step; peers ${GANG_PEERS:-none}, rendezvous ${GANG_RENDEZVOUS:-none}"

save() {
  printf 'step=%s\n' "$step" > "$WORKRON_CHECKPOINT_FILE.tmp" && mv "$WORKRON_CHECKPOINT_FILE.tmp" "$WORKRON_CHECKPOINT_FILE"
}
trap 'save; echo "rank $rank stopped at step $step (saved)"; exit 143' TERM

while [ "$step" -lt "$steps" ]; do
  sleep "$pause" &
  wait $!
  step=$((step + 1))
  save
  echo "rank $rank step $step"
  if [ "$rank" = "${FAIL_RANK:-}" ] && [ "$step" = "${FAIL_AT_STEP:-}" ] && [ "${WORKRON_ATTEMPT:-1}" = 1 ]; then
    echo "rank $rank fails at step $step"
    exit 1
  fi
done
echo "rank $rank done at step $step"

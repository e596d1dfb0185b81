# Runs one activation for the agent, detached from it: the agent starts this script with
# /bin/sh in a session of its own with stdout and stderr going to a log file, so neither
# the agent exiting nor its service being restarted (which activating a new system may well
# do) cuts the activation short. The agent tails the log and waits for the result file.
# A shell script rather than a Node.js program: it starts in a millisecond, not a tenth of
# a second, and a deployment starts two of them. For the same reason it starts no other
# process than ln, PROGRAM and mv on the usual path (no command substitution, no subshell).
#
# Usage: sh activation-runner.sh PID_FILE RESULT_FILE PROGRAM [ARG...]
#
# PID_FILE is created exclusively, with its whole content, before PROGRAM starts. A
# restarted agent that finds neither it nor a result creates it itself to mark the
# activation abandoned; whichever side creates it first wins (link(2) fails when the name
# exists), so an activation can never start after the agent gave up on it. PID_FILE holds
# {"pid","startTime","bootId"} (see process-identity.ts). RESULT_FILE is written atomically
# (a temp file renamed into place) once PROGRAM has exited, as an ActivationOutcome
# (activator.ts); its modification time is when.
#
# Arguments are only ever expanded as data ("$@", "$1"), never evaluated as script text.
# POSIX sh only (dash, bash, busybox, macOS's sh).

# Exit code when the activation was abandoned by the agent before this runner claimed it.
EXIT_NOT_CLAIMED=3
EXIT_USAGE=2

if [ "$#" -lt 3 ]; then
  echo 'usage: activation-runner PID_FILE RESULT_FILE PROGRAM [ARG...]' >&2
  exit "$EXIT_USAGE"
fi
pid_file=$1
result_file=$2
shift 2

# Hang-ups and interrupts are about terminals, which a detached session does not have. A
# trap (not an ignored signal) so that PROGRAM starts with the default handlers. SIGTERM
# is not trapped: it means the service manager is stopping whatever it finds in the agent's
# unit (which should run with KillMode=process), and stalling that stop would only delay
# the activation it may be waiting for.
trap ':' INT HUP
# No file name globbing: unquoted expansions below split /proc fields, nothing else.
set -f

# Field 22 of /proc/$$/stat (the start time in clock ticks since boot), counted after the
# last ")": the command name before it may hold spaces and parentheses. Empty without /proc.
read_start_time() {
  started=
  stat=
  read -r stat 2>/dev/null </proc/$$/stat
  case $stat in *')'*) ;; *) return 0 ;; esac
  set -- ${stat##*)}
  [ "$#" -ge 20 ] || return 0
  shift 19
  case $1 in '' | *[!0-9]*) ;; *) started=$1 ;; esac
}

# The kernel's boot id; empty without /proc.
read_boot_id() {
  boot=
  read -r boot 2>/dev/null </proc/sys/kernel/random/boot_id
  case $boot in '' | *[!0-9a-f-]*) boot= ;; esac
}

# $1 as a JSON string (backslashes, quotes and control characters escaped), or null when
# empty; into $quoted. Only for text that may hold anything (a spawn error names the
# program): it starts sed.
quote() {
  if [ -z "$1" ]; then
    quoted=null
  else
    quoted="\"$(printf '%s' "$1" | tr '\000-\037' '?' | sed 's/[\\"]/\\&/g')\""
  fi
}

# The pid file: written beside its name, then linked into place, which fails when the name
# exists (the agent's mark that it gave up on this activation). Its content is complete the
# moment it appears. The temp file is left for the agent, which removes the deployment's
# folder (private to it, mode 0700) when the deployment ends; every process start counts.
read_start_time
read_boot_id
temp="$pid_file.$$.tmp"
if [ -n "$started" ]; then started="\"$started\""; else started=null; fi
if [ -n "$boot" ]; then boot="\"$boot\""; else boot=null; fi
printf '{"pid":%s,"startTime":%s,"bootId":%s}\n' "$$" "$started" "$boot" >"$temp" || exit 1
if ! ln "$temp" "$pid_file" 2>/dev/null; then
  echo 'activation runner: the agent abandoned this activation; not running it' >&2
  exit "$EXIT_NOT_CLAIMED"
fi

exit_code=null
signal=null
spawn_error=
if ! command -v "$1" >/dev/null 2>&1; then
  spawn_error="$1: not found"
elif case $1 in */*) [ -d "$1" ] || [ ! -x "$1" ] ;; *) false ;; esac; then
  spawn_error="$1: not executable"
else
  "$@" </dev/null
  code=$?
  # The shell reports a program killed by signal n as 128 + n (a program that exits with
  # such a code itself reads the same).
  if [ "$code" -gt 128 ] && name=$(kill -l "$code" 2>/dev/null) && [ -n "$name" ]; then
    signal="\"SIG${name#SIG}\""
  else
    exit_code=$code
  fi
fi
quote "$spawn_error"

# The result: a temp file renamed into place, so the agent reads all of it or nothing.
temp="$result_file.$$.tmp"
printf '{"exitCode":%s,"signal":%s,"spawnError":%s,"lost":null}\n' \
  "$exit_code" "$signal" "$quoted" >"$temp" || exit 1
mv -f "$temp" "$result_file" || exit 1
exit 0

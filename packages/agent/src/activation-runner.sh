# Runs one activation for the agent, detached from it: the agent starts this script with
# /bin/sh in a session of its own with stdout and stderr going to a log file, so neither
# the agent exiting nor its service being restarted (which activating a new system may well
# do) cuts the activation short. The agent tails the log and waits for the result file.
# A shell script rather than a Node.js program: it starts in a millisecond, not a tenth of
# a second, and a deployment starts two of them. For the same reason it starts no process
# but PROGRAM on the usual path: no command substitution, no subshell, no ln, mv or date;
# files are written by builtins (printf), each with one write(2).
#
# Usage: sh activation-runner.sh PID_FILE RESULT_FILE PROGRAM [ARG...]
#
# PID_FILE is created exclusively before PROGRAM starts: with noclobber (set -C) the shell
# opens a name that does not exist with O_CREAT|O_EXCL and refuses an existing file (dash,
# bash, busybox), so the open fails when the name exists. A restarted agent that
# finds neither it nor a result creates it itself (complete, through link(2)) to mark the
# activation abandoned; whichever side creates it first wins, so an activation can never
# start after the agent gave up on it. PID_FILE holds {"pid","startTime","bootId"} (see
# process-identity.ts), written with one write(2) right after the exclusive open: a reader
# may find it empty for that moment (or for good, when the runner is killed in between),
# never with another content; PROGRAM starts only after the write succeeded.
# RESULT_FILE is written once PROGRAM has exited, as an ActivationOutcome (activator.ts),
# also with one write(2) into the freshly created file: a reader may find it empty or, in
# principle, cut short, and a JSON object cut short never parses, so whatever parses is
# the whole outcome (the agent waits for the next change while the runner lives, and calls
# a result it still cannot parse once the runner is gone unreadable). It holds no end time:
# that would take a `date` process; the file's modification time is when PROGRAM ended.
# A PROGRAM killed by signal n and one that itself exits with 128 + n (n a signal number)
# cannot be told apart in a shell ($? is 128 + n for both); both are reported as signal n.
#
# Exit codes: 0 once the result is written (whatever PROGRAM's own exit code), 2 for a
# usage error, 3 when PID_FILE already existed (the agent abandoned the activation;
# PROGRAM does not run), 1 when PID_FILE or RESULT_FILE could not be written.
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

# The claim: one printf into PID_FILE opened exclusively (noclobber). A failed open skips
# the group, so `opened` tells a failed open (the name existed: the agent's mark; or the
# folder is gone) from a write that failed after it; the shell's own message goes to
# /dev/null. A brace group runs in this shell: no subshell, no process.
read_start_time
read_boot_id
if [ -n "$started" ]; then started="\"$started\""; else started=null; fi
if [ -n "$boot" ]; then boot="\"$boot\""; else boot=null; fi
opened=
set -C
if ! {
  {
    opened=1
    printf '{"pid":%s,"startTime":%s,"bootId":%s}\n' "$$" "$started" "$boot"
  } >"$pid_file"
} 2>/dev/null; then
  if [ -n "$opened" ]; then
    echo 'activation runner: could not write the pid file; not running the activation' >&2
    exit 1
  fi
  if [ -e "$pid_file" ]; then
    echo 'activation runner: the agent abandoned this activation; not running it' >&2
    exit "$EXIT_NOT_CLAIMED"
  fi
  echo 'activation runner: could not create the pid file; not running the activation' >&2
  exit 1
fi
set +C

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

# The result: one printf into a fresh file (see the header for why a reader that parses it
# has all of it).
printf '{"exitCode":%s,"signal":%s,"spawnError":%s,"lost":null}\n' \
  "$exit_code" "$signal" "$quoted" >"$result_file" || exit 1
exit 0

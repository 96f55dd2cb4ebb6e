// The shell program the collect container runs (busybox sh). It reads the target through
// /proc/<pid>/root and writes one framed stream to stdout, which the plugin turns into a tar
// archive as it arrives (src/plan/collect-archive.ts). It never writes a file: its own root is
// read-only and its /dev/shm is the pod's, so every byte goes to stdout.
//
// Records, one header line each (paths escaped: "\" as "\\", newline as "\n"; the path is the last field):
//   KEC1                                        stream start
//   I <key> <value>                             facts about the run (target pid and uid, collector pid)
//   O <size> <name>\n<size bytes>               a generated text (process list, sockets, mounts ...)
//   F <size> <mode> <uid> <gid> <mtime> <path>\n<size bytes>   a regular file of the target
//   D <mode> <uid> <gid> <mtime> <path>         a directory
//   L <mode> <uid> <gid> <mtime> <path>\n<target>   a symlink (recorded, never followed); target escaped the same way
//   C <path>                                    the file changed while it was read
//   S <reason> <path>                           skipped, and why (reason has no spaces; a path without a
//                                               leading "/" names a generated text)
//   X <reason>                                  fatal: nothing more follows
//   E                                           stream end
// The collector waits for "go" (sent once the plugin is attached, so no byte is lost) for at most
// 10 minutes: a run interrupted before it attached leaves no collector waiting for ever.
// A file is sent as exactly the size its stat gave: padded with zeros if it shrank, cut if it grew
// (and marked C), so a file changing under the reader can never break the framing. It is opened
// before its record is sent (`command exec`: a failed open must not end the shell), so an
// unreadable file is a skip, never zeros. mode is %f (hex st_mode). No `$$` anywhere (Kubernetes
// turns `$$` in a command into `$`) and no `$(NAME)` with NAME an env var (Kubernetes expands it).

/** Shell source kept as written: the tag turns each `$\{` (how a template literal spells `${`) back into `${`. */
const sh = (s: TemplateStringsArray): string => s.raw.join('').replace(/\$\\\{/g, '${');

/** The script; configured by COLLECT_PID, COLLECT_PATHS (newline separated), COLLECT_ENV (1: read environ), COLLECT_MAX (bytes). */
export const COLLECT_SCRIPT = sh`
read -t 600 go || exit 0
read -r me _ </proc/self/stat
exec 3<&0
(read stop <&3; kill -TERM "$me" 2>/dev/null) &
P=$COLLECT_PID; R=/proc/$P/root; max=$COLLECT_MAX; used=0
nl='
'
esc() { e=$1; e=$\{e//\\/\\\\}; e=$\{e//"$nl"/\\n}; }
skip() { esc "$2"; printf 'S %s %s\n' "$1" "$e"; }
fits() { [ $((used + $1)) -le "$max" ]; }
out() {
  n=$(printf '%s' "$2" | wc -c); n=$((n))
  if ! fits "$n"; then skip max-size "$1"; return; fi
  used=$((used + n)); printf 'O %s %s\n' "$n" "$1"; printf '%s' "$2"
}
printf 'KEC1\n'
tuid=$(awk '/^Uid:/ {print $2}' /proc/$P/status 2>/dev/null)
printf 'I target-pid %s\nI target-uid %s\nI collector-pid %s\nI collector-uid %s\n' "$P" "$tuid" "$me" "$(id -u)"
if ! ls "$R/" >/dev/null 2>&1; then printf 'X unreadable-root\nE\n'; exit 0; fi
mine=$(readlink /proc/self/ns/mnt)
bt=$(awk '/^btime/ {print $2}' /proc/stat)
ps=$(printf 'PID\tPPID\tUID\tUSER\tSTARTED\tCOLLECTOR\tCOMMAND\n'
for d in /proc/[0-9]*; do
  p=$\{d#/proc/}
  st=$(cat "$d/stat" 2>/dev/null) || continue
  comm=$\{st#*\(}; comm=$\{comm%\)*}; st=$\{st##*) }
  set -- $st
  ppid=$2; shift 19; start=$1
  uid=$(awk '/^Uid:/ {print $2}' "$d/status" 2>/dev/null)
  user=$(awk -F: -v u="$uid" '$3 == u {print $1; exit}' "$R/etc/passwd" 2>/dev/null)
  when=$(date -u -d "@$((bt + start / 100))" +%Y-%m-%dT%H:%M:%SZ)
  ours=no; [ "$(readlink "$d/ns/mnt" 2>/dev/null)" = "$mine" ] && ours=yes
  cmd=$(tr '\0' ' ' <"$d/cmdline" 2>/dev/null); cmd=$\{cmd% }; [ -n "$cmd" ] || cmd="[$comm]"
  [ $ours = no ] || cmd="[collector] $comm"
  esc "$cmd"; printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$p" "$ppid" "$uid" "$user" "$when" "$ours" "$e"
done)
out processes.tsv "$ps
"
targets=
for d in /proc/[0-9]*; do
  [ "$(readlink "$d/ns/mnt" 2>/dev/null)" = "$mine" ] || targets="$targets $\{d#/proc/}"
done
out sockets.txt "$(netstat -anp 2>/dev/null || netstat -ane 2>&1)
"
for f in tcp tcp6 udp udp6 raw unix; do out "net/$f" "$(cat /proc/$P/net/$f 2>&1)
"; done
out mountinfo "$(cat /proc/$P/mountinfo 2>&1)
"
for p in $targets; do
  [ -d "/proc/$p" ] || continue
  out "proc/$p/fd" "$(ls -l /proc/$p/fd 2>&1)
"
  out "proc/$p/status" "$(cat /proc/$p/status 2>&1)
"
  if [ "$COLLECT_ENV" = 1 ]; then out "proc/$p/environ" "$(tr '\0' '\n' 2>&1 <"/proc/$p/environ")
"; fi
done
meta() { stat -c '%f %u %g %Y %s' "$1" 2>/dev/null; }
file() {
  local m c d e t
  m=$(meta "$R$1") || { skip vanished "$1"; return; }
  set -- "$1" $m
  if [ -L "$R$1" ]; then
    esc "$(readlink "$R$1")"; t=$e; esc "$1"
    printf 'L %s %s %s %s %s\n%s\n' "$2" "$3" "$4" "$5" "$e" "$t"
  elif [ -d "$R$1" ]; then
    esc "$1"; printf 'D %s %s %s %s %s\n' "$2" "$3" "$4" "$5" "$e"
    d=$\{1%/}
    case $d in /proc|/sys) skip pseudo-filesystem "$1/"; return;; esac
    [ -r "$R$1" ] && [ -x "$R$1" ] || { skip permission-denied "$1/"; return; }
    for c in "$R$d"/* "$R$d"/.*; do
      case $\{c##*/} in .|..) continue;; esac
      [ -e "$c" ] || [ -L "$c" ] || continue
      file "$\{c#"$R"}"
    done
  elif [ -f "$R$1" ]; then
    if ! fits "$6"; then skip max-size "$1"; return; fi
    if ! { command exec 4<"$R$1"; } 2>/dev/null; then skip permission-denied "$1"; return; fi
    used=$((used + $6))
    esc "$1"; printf 'F %s %s %s %s %s %s\n' "$6" "$2" "$3" "$4" "$5" "$e"
    { head -c "$6" <&4 2>/dev/null; cat /dev/zero; } | head -c "$6"
    exec 4<&-
    [ "$(meta "$R$1")" = "$2 $3 $4 $5 $6" ] || printf 'C %s\n' "$e"
  else
    skip special-file "$1"
  fi
}
direct() {
  local a= part rest=$\{1#/}
  while [ -n "$rest" ]; do
    part=$\{rest%%/*}; rest=$\{rest#"$part"}; rest=$\{rest#/}; a="$a/$part"
    if [ -n "$rest" ] && [ -L "$R$a" ]; then return 1; fi
  done
}
printf '%s\n' "$COLLECT_PATHS" | while IFS= read -r path; do
  [ -n "$path" ] || continue
  if ! direct "$path"; then skip through-symlink "$path"
  elif [ -e "$R$path" ] || [ -L "$R$path" ]; then file "$path"
  else skip absent "$path"; fi
done
printf 'E\n'
`.trimStart();

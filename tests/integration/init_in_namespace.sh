#!/usr/bin/env bash
# enclaver-init end to end, short of a real enclave: the test build of init
# (no vsock heartbeat, /console.log instead of /dev/console) runs as PID 1 of
# a new PID and mount namespace, chrooted into a fake bootstrap+app ramdisk
# tree. It must read and delete /cmd and /env, switch to /rootfs, mount what
# eif.md §8 lists, exec the app found on the fixed PATH with exactly /env,
# report the exit, and "reboot" (in a PID namespace, reboot() kills the
# namespace's init with SIGHUP, so nothing outside is touched).
#   init_in_namespace.sh ENCLAVER_INIT_TESTING_BINARY
# Needs root (CAP_SYS_ADMIN), unshare(1) and a C compiler that can link
# statically (for the probe app); exits 77 (skip) without them.
set -uo pipefail
init_bin="$1"
fail() { echo "FAIL: $*" >&2; exit 1; }
skip() { echo "SKIP: $*" >&2; exit 77; }

[[ -x "$init_bin" ]] || fail "no init binary at $init_bin"
[[ $EUID -eq 0 ]] || skip "needs root"
command -v unshare >/dev/null || skip "needs unshare(1)"
unshare --mount --pid --fork true 2>/dev/null || skip "cannot create mount and PID namespaces here"
file "$init_bin" | grep -q "statically linked" || fail "$init_bin is not statically linked: $(file "$init_bin")"
# Only the test build: the real one would try the vsock heartbeat.
"$init_bin" --version | grep -q "test build: no heartbeat" || fail "$init_bin is not the enclaver-init-testing build"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# The app: prints what it was given and what it sees, then exits 7.
cat >"$work/probe.c" <<'EOF'
#include <stdio.h>
#include <string.h>
#include <unistd.h>
extern char **environ;
int main(int argc, char **argv) {
  char cwd[256] = "";
  if (!getcwd(cwd, sizeof cwd)) strcpy(cwd, "?");
  printf("probe: pid=%d sid=%d cwd=%s\n", getpid(), getsid(0), cwd);
  for (int i = 0; i < argc; i++) printf("probe: argv[%d]=[%s]\n", i, argv[i]);
  for (char **e = environ; *e; e++) printf("probe: env=[%s]\n", *e);
  char line[1024];
  FILE *f = fopen("/proc/self/status", "r");
  while (f && fgets(line, sizeof line, f)) if (!strncmp(line, "SigBlk:", 7)) printf("probe: %s", line);
  f = fopen("/proc/self/mountinfo", "r");
  while (f && fgets(line, sizeof line, f)) {
    char *sep = strstr(line, " - ");  /* "... mountpoint opts - fstype source superopts" */
    char mp[256], fstype[64];
    if (sep && sscanf(line, "%*s %*s %*s %*s %255s", mp) == 1 && sscanf(sep + 3, "%63s", fstype) == 1)
      printf("probe: mount %s %s\n", mp, fstype);
  }
  const char *paths[] = {"/cmd", "/env", "/rootfs", "/dev/fd", "/dev/stdin", "/dev/stdout", "/dev/stderr", 0};
  for (int i = 0; paths[i]; i++) printf("probe: %s %s\n", paths[i], access(paths[i], F_OK) == 0 ? "present" : "absent");
  fflush(stdout);
  return 7;
}
EOF
"${CC:-cc}" -static -O1 -o "$work/probe" "$work/probe.c" 2>"$work/cc.log" || skip "cannot build a static probe: $(cat "$work/cc.log")"

# make_tree DIR: a bootstrap ramdisk (dev/, init) unpacked over an app one
# (rootfs/ with the directories the builder adds, the probe as
# /usr/bin/probe, /bin/sh and /usr/local/bin/localprog).
make_tree() {
  local t="$1"
  mkdir -p "$t/dev" "$t/rootfs"/{dev,proc,run,sys,tmp,var,etc,bin,usr/bin,usr/local/bin}
  cp "$init_bin" "$t/init"
  : >"$t/console.log"
  cp "$work/probe" "$t/rootfs/usr/bin/probe"
  cp "$work/probe" "$t/rootfs/bin/sh"
  cp "$work/probe" "$t/rootfs/usr/local/bin/localprog"
}

# boot DIR: runs init as PID 1 in new namespaces; sets $rc and $console.
boot() {
  local t="$1"
  # The subshell keeps bash's "Hangup" job report (the expected end) off the output.
  (timeout 60 unshare --mount --pid --fork --propagation private chroot "$t" /init >"$work/outside.log" 2>&1
   exit $?) 2>/dev/null
  rc=$?
  console="$(cat "$t/console.log")"
}

expect() {  # expect DESCRIPTION FIXED-STRING
  grep -qxF -- "$2" <<<"$console" || fail "$1: no line '$2' in the console output:
$console"
}

# 1. The normal path.
t="$work/t1"; make_tree "$t"
# shellcheck disable=SC2016  # $HOME must reach the app unexpanded
printf 'probe\nhello world\n\n"quoted" $HOME\\n\r\n' >"$t/cmd"
printf 'A=1\nPATH=/image/path\n' >"$t/env"
boot "$t"
[[ $rc -eq 129 ]] || fail "1: expected the reboot (init killed by SIGHUP, status 129), got $rc; console:
$console"
expect "1" "probe: argv[0]=[probe]"
expect "1" "probe: argv[1]=[hello world]"
expect "1" "probe: argv[2]=[]"
expect "1" "probe: argv[3]=[\"quoted\" \$HOME\\n"$'\r'"]"
[[ "$(grep -c '^probe: argv' <<<"$console")" -eq 4 ]] || fail "1: expected 4 argv elements:
$console"
[[ "$(grep '^probe: env=' <<<"$console")" == $'probe: env=[A=1]\nprobe: env=[PATH=/image/path]' ]] ||
  fail "1: the environment is not exactly /env:
$console"
expect "1" "probe: pid=2 sid=2 cwd=/"
expect "1" "probe: SigBlk:	0000000000000000"
for m in "/ " "/dev devtmpfs" "/proc proc" "/run tmpfs" "/tmp tmpfs" "/dev/shm tmpfs" "/dev/pts devpts" \
         "/sys sysfs" "/sys/fs/cgroup tmpfs"; do
  grep -q "^probe: mount $m" <<<"$console" || fail "1: no mount '$m':
$console"
done
for p in /cmd /env /rootfs; do expect "1" "probe: $p absent"; done
for p in /dev/fd /dev/stdin /dev/stdout /dev/stderr; do expect "1" "probe: $p present"; done
[[ ! -e "$t/cmd" && ! -e "$t/env" ]] || fail "1: /cmd or /env was not deleted"
expect "1" "enclaver-init: the application exited with status 7"
if grep -q '^enclaver-init: .* failed' <<<"$console"; then
  grep '^enclaver-init: mount cgroup' <<<"$console" >&2 || true
  grep -v '^enclaver-init: mount cgroup' <<<"$console" | grep -q '^enclaver-init: .* failed' &&
    fail "1: unexpected failure lines:
$console"
fi
echo "ok 1: argv, env, session, signals, mounts, clean-up, reboot"

# 2. Empty /cmd runs sh; empty /env gives only the fixed PATH.
t="$work/t2"; make_tree "$t"
: >"$t/cmd"; : >"$t/env"
boot "$t"
[[ $rc -eq 129 ]] || fail "2: expected the reboot, got $rc:
$console"
expect "2" "probe: argv[0]=[sh]"
[[ "$(grep '^probe: env=' <<<"$console")" == "probe: env=[PATH=/sbin:/usr/sbin:/bin:/usr/bin]" ]] ||
  fail "2: expected only the fixed PATH:
$console"
echo "ok 2: empty cmd and env"

# 3. The image's PATH is not searched: /usr/local/bin/localprog is not found.
t="$work/t3"; make_tree "$t"
printf 'localprog\n' >"$t/cmd"; printf 'PATH=/usr/local/bin\n' >"$t/env"
boot "$t"
[[ $rc -eq 129 ]] || fail "3: expected the reboot, got $rc:
$console"
grep -q '^enclaver-init: localprog: no executable of that name in /sbin:/usr/sbin:/bin:/usr/bin' <<<"$console" ||
  fail "3: no clear not-found line:
$console"
expect "3" "enclaver-init: the application exited with status 127"
echo "ok 3: fixed PATH only"

# 4. An absolute path is used as is; a missing one is an exec failure.
t="$work/t4"; make_tree "$t"
printf '/usr/local/bin/localprog\n' >"$t/cmd"; : >"$t/env"
boot "$t"
expect "4" "probe: argv[0]=[/usr/local/bin/localprog]"
printf '/nope/app\n' >"$t/cmd"; : >"$t/env"; : >"$t/console.log"
boot "$t"
expect "4" "enclaver-init: exec /nope/app failed: No such file or directory"
expect "4" "enclaver-init: the application exited with status 127"
echo "ok 4: absolute paths"

# 5. Missing /cmd: a clear line, and init exits (in an enclave: kernel panic).
t="$work/t5"; make_tree "$t"
printf 'A=1\n' >"$t/env"
boot "$t"
[[ $rc -eq 1 ]] || fail "5: expected init to exit 1, got $rc:
$console"
expect "5" "enclaver-init: open /cmd failed: No such file or directory"
echo "ok 5: missing /cmd"

# 6. An app tree without /proc: the failing step is named.
t="$work/t6"; make_tree "$t"; rmdir "$t/rootfs/proc"
printf 'probe\n' >"$t/cmd"; : >"$t/env"
boot "$t"
[[ $rc -eq 1 ]] || fail "6: expected init to exit 1, got $rc:
$console"
expect "6" "enclaver-init: mount proc on /proc failed: No such file or directory"
echo "ok 6: missing /proc"

# 7. Not PID 1: it refuses to touch anything.
out="$("$init_bin" 2>&1)"; rc=$?
if [[ $rc -ne 2 ]] || ! grep -q 'not PID 1, refusing to run' <<<"$out"; then fail "7: expected a refusal, got $rc: $out"; fi
echo "ok 7: refuses to run as anything but PID 1"
echo "PASS"

# ---- Everything below this line is constant: the same for every config, host and action. ----
#
# What it does, in order:
#  0. Refuses to run from a file that someone other than its owner (or root) could rewrite. A copy
#     Terraform uploaded (.aspera-cross-account-<n>.sh) removes itself once it has started as root,
#     and on every exit, so that no copy of the docroots and External ID is left in the home.
#  1. Re-runs itself as root with "sudo -n" when it is not root.
#  2. Takes the lock of this aspera.conf (shared by every stack on the host; a lock left by a run
#     that is gone is taken over), reads this stack's Node API access keys when it has any (GET:
#     node-api-access-keys.sh; a refusal there changes nothing) and computes the new aspera.conf:
#     the awk program below edits the XML text in place (byte-exact splices), so everything it
#     does not touch - other users' stanzas, comments, layout - stays byte-identical. A transfer user that another stack on this
#     host installed is refused: nothing changes.
#  3. Creates, updates or deletes the access keys (POST, PUT, DELETE; a refused write takes back
#     what this run created, and aspera.conf is left as it was), then reads the new aspera.conf
#     back and checks every docroot and flag, writes what it changed (and what was there before)
#     to the state file next to aspera.conf, keeps a backup (0600, the newest KEEP_BACKUPS), renames the new file over aspera.conf, validates it with "asuserdata -v" when
#     that tool exists (putting the original back, by rename, when it is rejected) and restarts
#     asperanoded - only if the file changed, and only for a file asuserdata accepts as it is on disk.
# Install converges this stack's docroots to GRANTS and its access keys to ACCESS_KEYS; uninstall
# is the same with neither: it restores what the state file says was there before this stack,
# deletes the access keys it created, and leaves other stacks' alone.

PROG=aspera-cross-account
# How many aspera.conf.bak.* copies are kept (each holds the docroots, so the External IDs).
KEEP_BACKUPS=5
# The largest aspera.conf edited: the edit holds the file in memory several times over (about
# 10 times its size at the peak); a bigger file is refused before anything is read.
MAX_CONF_BYTES=33554432

step="starting"
died=0
say() { printf '%s: %s\n' "$PROG" "$*"; }
warn() { printf '%s: warning: %s\n' "$PROG" "$*" >&2; }
die() {
  died=1
  printf '%s: error: %s\n' "$PROG" "$*" >&2
  exit 1
}

# A copy Terraform uploaded (the connection's script_path) is named .aspera-cross-account-<n>.sh.
# It holds the docroots and the External ID, and Terraform leaves it in place when a run fails.
uploaded=0
case ${0##*/} in
  .aspera-cross-account-[0-9]*.sh) if [ -f "$0" ]; then uploaded=1; fi ;;
esac
forget_upload() {
  if [ "$uploaded" = 1 ]; then
    # The shell keeps reading the script through its open file: removing the name is safe.
    rm -f -- "$0" 2>/dev/null || printf '%s: warning: cannot remove %s: remove it by hand (it holds the docroots)\n' "$PROG" "$0" >&2
    uploaded=0
  fi
}
trap forget_upload EXIT

# Terraform uploads this script into the SSH user's home directory, makes it mode 0777 and runs
# it; it then runs again as root (below). Whoever else can reach a file they may write, or can
# replace it in its directory, decides what root runs. Nothing here can undo a rewrite made before
# this line ran, but a run stops on a host set up that way and says how to close the hole. The
# permission bits are those "ls -l" shows: type, then rwx for owner, group and others (an ACL
# shows its mask as the group's). Only the script's own directory is checked, not its parents.
if [ -f "$0" ]; then
  case $0 in
    */*) SCRIPT_DIR=${0%/*} ;;
    *) SCRIPT_DIR=. ;;
  esac
  FILE_MODE=$(ls -ldL -- "$0")
  # The trailing "/" looks through a symbolic link to the directory itself.
  DIR_MODE=$(ls -ld -- "${SCRIPT_DIR:-/}/")
  EXPOSED=
  # Writable by the group and the group may enter the directory; the same for others.
  case $FILE_MODE in ?????w*) case $DIR_MODE in ??????[xs]*) EXPOSED="its group can rewrite it" ;; esac ;; esac
  case $FILE_MODE in ????????w*) case $DIR_MODE in ?????????[xt]*) EXPOSED="every user can rewrite it" ;; esac ;; esac
  # A directory others may write to lets them put another file in its place, unless it is sticky.
  case $DIR_MODE in
    ?????????[tT]*) ;;
    ?????w* | ????????w*) EXPOSED="others can replace it in its directory" ;;
  esac
  if [ -n "$EXPOSED" ]; then
    WHERE=$(cd "${SCRIPT_DIR:-/}" 2>/dev/null && pwd) || WHERE=${SCRIPT_DIR:-/}
    case $DIR_MODE in
      ?????????[tT]*) HOW="run it from a directory only its owner may enter, not a shared one like $WHERE" ;;
      *) HOW="make $WHERE private to its owner (chmod 700 $WHERE; Terraform puts this script in the SSH user's home directory) and run again" ;;
    esac
    die "refusing to run $0 as root: $EXPOSED (file ${FILE_MODE%% *}, directory ${DIR_MODE%% *}): $HOW"
  fi
fi

# Editing aspera.conf and restarting asperanoded need root. The root run is a child, not an exec:
# when it ends, this run (the uploader's own user) can still remove the upload, even from a home
# root may not write to (NFS with root squashing).
if [ "$(id -u)" != 0 ]; then
  [ -f "$0" ] || die "not root, and cannot re-run with sudo: run this script from a file"
  command -v sudo >/dev/null 2>&1 || die "$(id -un) is not root and sudo is not installed: connect as root or give $(id -un) passwordless sudo"
  sudo -n true 2>/dev/null || die "$(id -un) is not root and may not use sudo without a password (sudo -n): connect as root or give $(id -un) passwordless sudo"
  say "re-running as root with sudo -n"
  rc=0
  # The overrides this script honours go along (sudo takes VAR=value before the command).
  set --
  if [ -n "${ASPERA_CONF:-}" ]; then set -- "$@" "ASPERA_CONF=$ASPERA_CONF"; fi
  if [ -n "${ASPERA_NODE_API_URL:-}" ]; then set -- "$@" "ASPERA_NODE_API_URL=$ASPERA_NODE_API_URL"; fi
  sudo -n -u root "$@" /bin/sh "$0" || rc=$?
  exit "$rc"
fi
forget_upload

# Files this script creates are root's alone (state, backups, temporary copies, lock); bytes, not
# characters.
umask 077
LC_ALL=C
export LC_ALL

CONF=${ASPERA_CONF:-$DEFAULT_ASPERA_CONF}
case $CONF in
  /*) ;;
  *) die "ASPERA_CONF must be an absolute path, got: $CONF" ;;
esac
# One state file, one restart marker and one lock per aspera.conf, shared by every stack that
# installs docroots in it: each record in the state names the stack that owns it.
STATE=$CONF.aspera-cross-account.state
PENDING=$CONF.aspera-cross-account.restart-pending
LOCK=$CONF.aspera-cross-account.lock

# The Node API access keys (node-api-access-keys.sh, put in place of the marker below when the
# script is rendered): functions only, called under the lock below.
# @NODE_API_ACCESS_KEYS_SH@

if [ ! -e "$CONF" ] && [ ! -L "$CONF" ]; then
  if [ "$ACTION" = uninstall ]; then
    say "$CONF does not exist: nothing to remove"
    exit 0
  fi
  die "$CONF does not exist: is Aspera installed here? (set asperaConfPath for this host in the config)"
fi
[ ! -L "$CONF" ] || die "$CONF is a symbolic link; set asperaConfPath to the file it points to"
[ -f "$CONF" ] || die "$CONF is not a regular file"
if [ -e "$STATE" ] && [ ! -f "$STATE" ]; then die "$STATE is not a regular file"; fi
conf_bytes=$(wc -c <"$CONF") || die "cannot read $CONF"
conf_bytes=$((conf_bytes + 0))
[ "$conf_bytes" -le "$MAX_CONF_BYTES" ] || die "$CONF is $conf_bytes bytes; this script edits files of up to $MAX_CONF_BYTES bytes (32 MiB: the edit holds the file in memory several times over). Nothing was changed"

# Earlier versions kept one state file per stackName (aspera.conf.<stackName>.state, first line
# "# aspera-cross-account stack <name>: ..."), which two customers with one stackName shared.
# Their docroots are not adopted: the stack they belong to cannot be told from that file.
for old in "$CONF".*.state; do
  if [ "$old" = "$STATE" ] || [ ! -f "$old" ]; then continue; fi
  first=
  IFS= read -r first <"$old" || :
  case $first in
    "# aspera-cross-account stack "*) die "$old was written by an earlier version of aspera-cross-account, for one stack (this version keeps the docroots of every stack on this host in one state file, and knows which stack installed each). Remove those docroots with the uninstall.sh of that version (or its cdktf destroy) first, or, if they are gone already, delete $old; then run again. Nothing was changed" ;;
  esac
done

# The awk program (aspera-conf-edit.awk, put in place of the marker below when the script is
# rendered): edits (apply) or checks (verify) aspera.conf.
# Usage: aspera_conf_awk apply|verify CONF STATE [NEW_STATE]; STACK comes from above, the grants
# from the file $LOCK/grants.
# apply writes the new aspera.conf to stdout and the new state to NEW_STATE; exit 0 = nothing
# changed, 3 = aspera.conf changed, 4 = only the state changed, anything else = refused.
# Values reach awk through files and a few short environment variables, never through its
# program text; nothing that grows with the grants goes through the environment or a command line.
#
# Where: Aspera reads users from <CONF><aaa><realms><realm><users><user> (IBM's HST admin guide,
# "Set up Users and Groups", and the Aspera On Demand S3 example), so that is the only section
# this program writes. A user found in exactly one <realm> is edited there; in several, refused;
# in none, added to the first realm. Missing levels (<aaa>, <realms>, <realm>, <users>, the user's
# <file_system><access><paths><path>) are created, indented as the file is. A <users> directly
# under <CONF> is not read by the server: it is never written, only warned about.
#
# Supported XML: elements, attributes, comments, CDATA, processing instructions, entity and
# character references in text. Refused (nothing changed): DOCTYPE, mismatched tags, several
# <aaa>, <realms> or (per realm) <users> sections, two stanzas for one user, several <path>
# entries (or several <absolute>, ...) or a conditional <absolute peer_ip=...> under one of our
# users, empty-element forms (<users/>, <realm/>, <aaa/>, <file_system/>, ...) on the way to the
# docroot, user names written with markup or entities, a root other than <CONF>, a state file
# written by an earlier version, a transfer user another stack on this host installed.
aspera_conf_awk() {
  MODE=$1 CONF_IN=$2 STATE_IN=$3 STATE_OUT=${4:-/dev/null} GRANTS_FILE=$LOCK/grants STACK=$STACK ACCOUNTS=${GETENT:-} awk '
@ASPERA_CONF_EDIT_AWK@
'
}

# asperanoded reads docroots at start. Each documented Aspera version restarts it its own way:
# systemd on HSTS 4.x, "service" on Aspera On Demand 3.7, the init script itself on AoD 3.9.6 and
# Shares on Demand 3.4.6. They are tried in that order, each only if the one before is missing or
# failed (systemctl is often present where systemd does not run).
restart_asperanoded() {
  if command -v systemctl >/dev/null 2>&1; then
    say "restarting asperanoded: systemctl restart asperanoded"
    if systemctl restart asperanoded; then return 0; fi
    warn "systemctl restart asperanoded failed"
  fi
  if command -v service >/dev/null 2>&1; then
    say "restarting asperanoded: service asperanoded restart"
    if service asperanoded restart; then return 0; fi
    warn "service asperanoded restart failed"
  fi
  if [ -x /etc/init.d/asperanoded ]; then
    say "restarting asperanoded: /etc/init.d/asperanoded restart"
    if /etc/init.d/asperanoded restart; then return 0; fi
    warn "/etc/init.d/asperanoded restart failed"
  fi
  warn "no way to restart asperanoded worked (tried systemctl, service and /etc/init.d/asperanoded, those present)"
  return 1
}

# Sets asuserdata to the validator's path, or to "" when it is not installed.
find_asuserdata() {
  asuserdata=
  if command -v asuserdata >/dev/null 2>&1; then
    asuserdata=asuserdata
  elif [ -x /opt/aspera/bin/asuserdata ]; then
    asuserdata=/opt/aspera/bin/asuserdata
  fi
}

# Whether asuserdata accepts aspera.conf as it is on disk now (it validates the installed file and
# takes no file argument). 0: accepted or no validator installed; 1: rejected (its output shown).
validate_on_disk() {
  find_asuserdata
  if [ -z "$asuserdata" ]; then
    say "asuserdata not found: skipping its validation"
    return 0
  fi
  if "$asuserdata" -v >"$LOCK/asuserdata.log" 2>&1; then
    say "asuserdata -v accepts $CONF"
    return 0
  fi
  cat -- "$LOCK/asuserdata.log" >&2
  return 1
}

# The owner, group, mode, ACLs and extended attributes (the SELinux context among them) of
# aspera.conf go to the copy that will replace it: GNU cp --preserve=all, else cp -p and, where
# SELinux tools exist, the context copied explicitly.
copy_identity() {
  if cp --preserve=all -- "$1" "$2" 2>/dev/null; then return 0; fi
  cp -p -- "$1" "$2" || return 1
  if command -v chcon >/dev/null 2>&1; then chcon --reference="$1" -- "$2" 2>/dev/null || :; fi
  return 0
}

# This process as the lock records it: "pid start host", start being its start time in clock
# ticks since boot (field 22 of /proc/<pid>/stat; "-" without /proc), so that a recycled pid does
# not pass for the holder.
start_of() {
  s=
  if [ -r "/proc/$1/stat" ]; then
    IFS= read -r s <"/proc/$1/stat" || s=
    s=${s##*) }
    # shellcheck disable=SC2086 # split into fields on purpose
    set -- $s
    if [ "$#" -ge 20 ]; then
      shift 19
      printf '%s' "$1"
      return 0
    fi
  fi
  printf '%s' -
}
this_host=$(uname -n 2>/dev/null) || this_host=unknown
owner="$$ $(start_of $$) ${this_host:-unknown}"

# Whether the holder recorded in a lock ("pid start host") still runs. Unknown (another host, no
# record) counts as running: only a holder known to be gone is taken over.
holder_gone() {
  # shellcheck disable=SC2086 # split into fields on purpose
  set -- $1
  [ "$#" = 3 ] || return 1
  [ "$3" = "${this_host:-unknown}" ] || return 1
  if [ -d /proc/self ]; then
    [ -d "/proc/$1" ] || return 0
    [ "$2" = - ] || [ "$(start_of "$1")" = "$2" ] || return 0
    return 1
  fi
  kill -0 "$1" 2>/dev/null && return 1
  return 0
}

backup=
pending_existed=0
state_existed=0
state_replaced=0
conf_replaced=0
restarted=0
locked=0
cleanup() {
  status=$?
  set +e
  if [ "$status" != 0 ] && [ "$died" = 0 ]; then
    printf '%s: error: stopped while %s (exit status %s); %s\n' "$PROG" "$step" "$status" "$(if [ "$conf_replaced" = 1 ]; then echo "$CONF is the new version: the next run validates it before any restart"; else echo "$CONF left unchanged"; fi)" >&2
  fi
  # A failure after the state file was replaced but before aspera.conf was: put the state back.
  if [ "$status" != 0 ] && [ "$state_replaced" = 1 ] && [ "$conf_replaced" = 0 ]; then
    if [ "$state_existed" = 1 ]; then mv -f -- "$saved_state" "$STATE"; else rm -f -- "$STATE"; fi
  fi
  set --
  # A failure that left aspera.conf as it was leaves no backup or restart marker behind either.
  if [ "$status" != 0 ] && [ "$conf_replaced" = 0 ]; then
    if [ "$pending_existed" = 0 ]; then set -- "$@" "$PENDING"; fi
    if [ -n "$backup" ]; then set -- "$@" "$backup"; fi
  fi
  if [ "$restarted" = 1 ]; then set -- "$@" "$PENDING"; fi
  # The lock directory holds the temporary files: removing it cleans up and releases the lock.
  if [ "$locked" = 1 ]; then set -- "$@" "$LOCK"; fi
  if [ "$#" -gt 0 ]; then rm -rf -- "$@"; fi
  forget_upload
  exit "$status"
}
trap cleanup EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM

# The lock: a directory next to aspera.conf (mkdir is atomic), holding the temporary files and,
# in "owner", who holds it. A lock whose holder is gone (a run killed with SIGKILL, a reboot) is
# taken over: renamed away (atomic too; only one run can rename it), checked to be the one read,
# then removed.
step="taking the lock $LOCK"
if ! err=$(mkdir -- "$LOCK" 2>&1); then
  [ -d "$LOCK" ] || die "cannot create the lock $LOCK: ${err:-mkdir failed}. Nothing was changed"
  holder=
  IFS= read -r holder 2>/dev/null <"$LOCK/owner" || :
  if [ -z "$holder" ] || ! holder_gone "$holder"; then
    if [ -n "$holder" ]; then
      die "$LOCK is held by the run \"$holder\" (pid start host), another run editing $CONF: wait for it and run again. Nothing was changed"
    fi
    die "$LOCK is held by another run editing $CONF, or by a run that ended before recording itself (remove that directory if no run is in progress): wait for it and run again. Nothing was changed"
  fi
  stale=$LOCK.stale.$$
  mv -- "$LOCK" "$stale" 2>/dev/null || die "the lock $LOCK of a run that is gone ($holder) changed hands while being taken over: run again. Nothing was changed"
  moved=
  IFS= read -r moved 2>/dev/null <"$stale/owner" || :
  if [ "$moved" != "$holder" ]; then
    mv -- "$stale" "$LOCK" 2>/dev/null || :
    die "the lock $LOCK changed hands while being taken over: run again. Nothing was changed"
  fi
  rm -rf -- "$stale"
  warn "took over the lock $LOCK of a run that is gone (pid start host: $holder)"
  err=$(mkdir -- "$LOCK" 2>&1) || die "cannot create the lock $LOCK: ${err:-mkdir failed}. Nothing was changed"
fi
locked=1
printf '%s\n' "$owner" >"$LOCK/owner" || die "cannot write to the lock directory $LOCK. Nothing was changed"
# Temporary files go into the lock directory: root's alone (umask 077), on the same filesystem
# as aspera.conf so that renames are atomic, and nobody else's while the lock is held.
tmp_conf=$LOCK/aspera.conf.new
tmp_state=$LOCK/state.new
saved_state=$LOCK/state.old
original=$LOCK/aspera.conf.original

if [ -e "$PENDING" ]; then pending_existed=1; fi

# The access keys are read first: an unreachable Node API, refused credentials or a key this
# stack does not own stop the run before anything changes. The uninstall deletes them here, and
# goes on without them when the Node API fails (a revocation must not depend on it).
if [ "$ACTION" = uninstall ]; then access_keys_uninstall; else access_keys_plan; fi

step="writing the grants"
# printf is a shell builtin: the grants, however many, pass through no command line.
printf '%s' "$GRANTS" >"$LOCK/grants" || die "cannot write $LOCK/grants; $CONF left unchanged"

step="computing the new aspera.conf"
copy_identity "$CONF" "$tmp_conf" || die "cannot copy $CONF; it is left unchanged"
rc=0
GETENT=$(command -v getent 2>/dev/null) || GETENT=
aspera_conf_awk apply "$CONF" "$STATE" "$tmp_state" </dev/null >"$tmp_conf" || rc=$?
case $rc in
  0 | 3 | 4) ;;
  *) die "$CONF left unchanged" ;;
esac

# aspera.conf can be changed as asked: the access keys are written now, before it is, so that a
# write the Node API refuses leaves aspera.conf as it was.
access_keys_apply

validated=0
if [ "$rc" = 0 ]; then
  if [ "$ACTION" = install ]; then
    say "$CONF already has every docroot of this stack: nothing changed"
  else
    say "$CONF has no docroot of this stack left: nothing changed"
  fi
else
  # Read the result back before anything is replaced.
  step="reading the new aspera.conf back"
  if [ "$rc" = 3 ]; then checked=$tmp_conf; else checked=$CONF; fi
  aspera_conf_awk verify "$checked" "$tmp_state" </dev/null ||
    die "the edited aspera.conf did not read back as expected; $CONF left unchanged"

  if [ "$rc" = 3 ]; then
    step="keeping a backup"
    backup=$CONF.bak.$(date -u +%Y%m%dT%H%M%SZ)
    if [ -e "$backup" ]; then backup=$backup.$$; fi
    cp -- "$CONF" "$backup" || die "cannot write the backup $backup; $CONF left unchanged"
    chmod 600 -- "$backup" || die "cannot make the backup $backup private (chmod 600); $CONF left unchanged"
    # A second name for the original: putting it back is then a rename, which needs no space.
    ln -- "$CONF" "$original" || die "cannot link $CONF into $LOCK (is $CONF immutable?); it is left unchanged"
  fi

  # The state goes first: should aspera.conf then fail to be replaced, the state is put back
  # (from a second name, again: no copy).
  step="replacing the state file"
  if [ -e "$STATE" ]; then
    state_existed=1
    ln -- "$STATE" "$saved_state" || die "cannot link $STATE into $LOCK; $CONF left unchanged"
  fi
  state_replaced=1
  if [ -s "$tmp_state" ]; then
    mv -f -- "$tmp_state" "$STATE" || die "cannot replace $STATE; $CONF left unchanged"
  else
    rm -f -- "$STATE" || die "cannot remove $STATE; $CONF left unchanged"
  fi

  if [ "$rc" = 3 ]; then
    step="replacing aspera.conf"
    : >"$PENDING" || die "cannot write $PENDING; $CONF left unchanged"
    mv -f -- "$tmp_conf" "$CONF" || die "cannot put the new aspera.conf in place (is $CONF immutable, or its filesystem read-only?); $CONF left unchanged"
    conf_replaced=1
    step="validating the new aspera.conf"
    if ! validate_on_disk; then
      if mv -f -- "$original" "$CONF"; then
        conf_replaced=0
        die "asuserdata -v rejected the edited aspera.conf: the original is back in place, asperanoded was not restarted"
      fi
      die "asuserdata -v rejected the edited aspera.conf and putting the original back failed: restore it from $backup; asperanoded was not restarted"
    fi
    validated=1
    say "updated $CONF (previous version kept as $backup)"
    step="removing old backups"
    # The newest KEEP_BACKUPS copies stay; the names sort by time (C locale, set above).
    set -- "$CONF".bak.[0-9]*
    if [ -e "$1" ]; then
      while [ "$#" -gt "$KEEP_BACKUPS" ]; do
        rm -f -- "$1" || warn "cannot remove the old backup $1"
        shift
      done
      # Copies an earlier version left readable become root's alone too.
      chmod 600 -- "$@" || warn "cannot make the backups of $CONF private (chmod 600)"
    fi
  else
    say "$CONF unchanged; state file updated"
  fi
fi

if [ -e "$PENDING" ]; then
  # A restart is for a file asuserdata accepts as it is now: a marker left by an earlier run
  # (interrupted, or whose restart failed) does not say the file was ever validated.
  if [ "$validated" = 0 ]; then
    step="validating aspera.conf before the pending restart"
    validate_on_disk || die "asuserdata -v rejects $CONF as it is now on disk, and a restart of asperanoded is pending from an earlier run: not restarting. Put back a valid aspera.conf (the copies $CONF.bak.* are the versions before each change) and run again"
  fi
  step="restarting asperanoded"
  restart_asperanoded || die "$CONF is updated but asperanoded did not restart; fix that and re-run (the next run validates it again and retries the restart)"
  restarted=1
fi
step="finishing"
if [ -n "$ak_left" ]; then
  # aspera.conf and its state are done: the error must not undo them.
  state_replaced=0
  die "$ak_left"
fi

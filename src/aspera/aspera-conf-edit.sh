# ---- Everything below this line is constant: the same for every config, host and action. ----
#
# What it does, in order:
#  0. Refuses to run from a file that someone other than its owner (or root) could rewrite.
#  1. Re-executes itself as root with "sudo -n" when it is not root.
#  2. Takes a lock (a directory next to aspera.conf that also holds the temporary files) and
#     computes the new aspera.conf: the awk program below edits the XML text in place (byte-exact
#     splices), so everything it does not touch - other users' stanzas, comments, layout - stays
#     byte-identical.
#  3. Reads the result back and checks every docroot and flag, writes what it changed (and what
#     was there before) to the state file next to aspera.conf, keeps a timestamped backup, renames
#     the new file over aspera.conf, validates it with "asuserdata -v" when that tool exists
#     (rolling back on failure) and restarts asperanoded - only if the file changed.
# Install converges aspera.conf to GRANTS; uninstall is the same with no grants: it restores what
# the state file says was there before this stack, and deletes the state file.

PROG=aspera-cross-account

say() { printf '%s: %s\n' "$PROG" "$*"; }
warn() { printf '%s: warning: %s\n' "$PROG" "$*" >&2; }
die() {
  printf '%s: error: %s\n' "$PROG" "$*" >&2
  exit 1
}

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

# Editing aspera.conf and restarting asperanoded need root.
if [ "$(id -u)" != 0 ]; then
  [ -f "$0" ] || die "not root, and cannot re-execute with sudo: run this script from a file"
  command -v sudo >/dev/null 2>&1 || die "$(id -un) is not root and sudo is not installed: connect as root or give $(id -un) passwordless sudo"
  sudo -n true 2>/dev/null || die "$(id -un) is not root and may not use sudo without a password (sudo -n): connect as root or give $(id -un) passwordless sudo"
  say "re-executing as root with sudo -n"
  if [ -n "${ASPERA_CONF:-}" ]; then
    exec sudo -n -u root ASPERA_CONF="$ASPERA_CONF" /bin/sh "$0"
  fi
  exec sudo -n -u root /bin/sh "$0"
fi

# Files this script creates are root's alone (state, temporary copies, lock); bytes, not characters.
umask 077
LC_ALL=C
export LC_ALL

CONF=${ASPERA_CONF:-$DEFAULT_ASPERA_CONF}
case $CONF in
  /*) ;;
  *) die "ASPERA_CONF must be an absolute path, got: $CONF" ;;
esac
STATE=$CONF.$STACK.state
PENDING=$CONF.$STACK.restart-pending
LOCK=$CONF.aspera-cross-account.lock

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

# The awk program (aspera-conf-edit.awk, put in place of the marker below when the script is
# rendered): edits (apply) or checks (verify) aspera.conf.
# Usage: aspera_conf_awk apply|verify CONF STATE [NEW_STATE]; GRANTS and STACK come from above.
# apply writes the new aspera.conf to stdout and the new state to NEW_STATE; exit 0 = nothing
# changed, 3 = aspera.conf changed, 4 = only the state changed, anything else = refused.
# Values reach awk only through its environment (ENVIRON), never through its program text.
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
# written by an earlier version (which used the top-level <users>).
aspera_conf_awk() {
  MODE=$1 CONF_IN=$2 STATE_IN=$3 STATE_OUT=${4:-/dev/null} GRANTS=$GRANTS STACK=$STACK awk '
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
  exit "$status"
}
trap cleanup EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM

mkdir -- "$LOCK" 2>/dev/null || die "$LOCK exists: another run is editing $CONF (if none is running, remove that directory and re-run)"
locked=1
# Temporary files go into the lock directory: root's alone (umask 077), on the same filesystem
# as aspera.conf so that the final rename is atomic, and nobody else's while the lock is held.
tmp_conf=$LOCK/aspera.conf.new
tmp_state=$LOCK/state.new
saved_state=$LOCK/state.old

if [ -e "$PENDING" ]; then pending_existed=1; fi

# The candidate gets the owner, group and mode of aspera.conf (cp -p), then the new content.
cp -p -- "$CONF" "$tmp_conf" || die "cannot copy $CONF; it is left unchanged"
rc=0
aspera_conf_awk apply "$CONF" "$STATE" "$tmp_state" </dev/null >"$tmp_conf" || rc=$?
case $rc in
  0 | 3 | 4) ;;
  *) die "$CONF left unchanged" ;;
esac

if [ "$rc" = 0 ]; then
  if [ "$ACTION" = install ]; then
    say "$CONF already has every docroot of this stack: nothing changed"
  else
    say "$CONF has no docroot of this stack left: nothing changed"
  fi
else
  # Read the result back before anything is replaced.
  if [ "$rc" = 3 ]; then checked=$tmp_conf; else checked=$CONF; fi
  aspera_conf_awk verify "$checked" "$tmp_state" </dev/null ||
    die "the edited aspera.conf did not read back as expected; $CONF left unchanged"

  if [ "$rc" = 3 ]; then
    backup=$CONF.bak.$(date -u +%Y%m%dT%H%M%SZ)
    if [ -e "$backup" ]; then backup=$backup.$$; fi
    cp -p -- "$CONF" "$backup"
  fi

  # The state goes first: should aspera.conf then fail to be replaced, the state is put back.
  if [ -e "$STATE" ]; then
    state_existed=1
    cp -p -- "$STATE" "$saved_state"
  fi
  state_replaced=1
  if [ -s "$tmp_state" ]; then mv -f -- "$tmp_state" "$STATE"; else rm -f -- "$STATE"; fi

  if [ "$rc" = 3 ]; then
    : >"$PENDING"
    mv -f -- "$tmp_conf" "$CONF"
    conf_replaced=1
    # asuserdata validates the installed aspera.conf (it takes no file argument): validate in
    # place, and put the original back if it is rejected.
    find_asuserdata
    if [ -n "$asuserdata" ]; then
      if ! "$asuserdata" -v >"$LOCK/asuserdata.log" 2>&1; then
        cat -- "$LOCK/asuserdata.log" >&2
        if cp -p -- "$backup" "$LOCK/aspera.conf.rollback" && mv -f -- "$LOCK/aspera.conf.rollback" "$CONF"; then
          conf_replaced=0
          die "asuserdata -v rejected the edited aspera.conf: the original is back in place, asperanoded was not restarted"
        fi
        die "asuserdata -v rejected the edited aspera.conf and putting the original back failed: restore it from $backup"
      fi
      say "asuserdata -v accepts the new aspera.conf"
    else
      say "asuserdata not found: skipping its validation"
    fi
    say "updated $CONF (previous version kept as $backup)"
  else
    say "$CONF unchanged; state file updated"
  fi
fi

if [ -e "$PENDING" ]; then
  restart_asperanoded || die "$CONF is updated but asperanoded did not restart; fix that and re-run (the next run retries the restart)"
  restarted=1
fi

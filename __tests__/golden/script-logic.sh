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
# ---- Node API access keys (grants with "installAs": ["access-key"]) ----
#
# Embedded into aspera-conf-edit.sh (in place of its @NODE_API_ACCESS_KEYS_SH@ line) and run in the
# same process, under the same lock: only functions here, called by the main logic.
#
# IBM's Node API (HSTS 4.x; OpenAPI "IBM Aspera Node API" 4.4.6): POST /access_keys creates a key,
# GET, PUT and DELETE /access_keys/{id} read, update and remove one; Basic authentication with a
# Node API user. Each key this stack wants is one ACCESS_KEYS line: id, transfer user, storage JSON
# (rendered at synth time: bucket, endpoint, path, assume-role credentials with the External ID).
# Its secret is derived here: sha256 of "<seed>:<id>", the seed being in ACCESS_KEY_SEED.
#
# The access-key state file (AK_STATE, next to aspera.conf, root's alone) records "stack id hash"
# for every key a stack created on this node, hash being the sha256 of the secret and storage last
# written. It is what "this stack created it" means: a key that exists on the node but is not
# recorded for this stack is refused, never taken over. A key is recorded as pending ("-") before
# its POST is sent: should the run stop after the node created it but before the record says so
# (a timeout, a full disk), the next run finds it recorded, and updates it instead of refusing it.
#
# Order: access_keys_plan only reads (GET); it runs before anything changes, so an unreachable
# Node API, refused credentials and a key this stack does not own stop the run with nothing
# changed. access_keys_apply then writes (POST, PUT, DELETE) before aspera.conf is replaced; a
# write refused takes back the keys this run created and stops the run before aspera.conf changes.
#
# The uninstall deletes the keys this stack recorded. It runs that part in a subshell: should the
# Node API refuse or not answer, the docroots are removed all the same (a revocation must not
# depend on the Node API), the keys stay recorded, and the run ends in an error saying so.
#
# Secrets: the Node API password and the access key secrets pass to curl on its standard input
# (its --config), never on a command line, and are written to no file. curl is started with -q (no
# ~/.curlrc) and noproxy "*": no proxy setting of the environment or of root's curlrc may receive
# the password, or turn a certificate check off.

AK_STATE=$CONF.aspera-cross-account.access-keys
ak_plan=
ak_changed=
ak_created=
ak_auth=
ak_tls=
ak_left=
# Set while the take-back runs: a request that cannot be made is then a warning, not a stop.
ak_soft=

# The keys recorded for a stack, "id hash" per line.
ak_recorded() {
  [ -f "$AK_STATE" ] || return 0
  while read -r ak_s ak_i ak_h; do
    if [ "$ak_s" = "$1" ]; then printf '%s %s\n' "$ak_i" "$ak_h"; fi
  done <"$AK_STATE"
}

# Whether the config wants any key (shell builtins only: a stack without keys needs no other tool).
ak_wanted() {
  while read -r w_id _; do
    if [ -n "$w_id" ]; then return 0; fi
  done <<EOF
$ACCESS_KEYS
EOF
  return 1
}

# Whether this run has anything to do with the Node API: keys wanted, or keys of this stack recorded.
access_keys_in_use() {
  ak_wanted && return 0
  [ -f "$AK_STATE" ] || return 1
  while read -r r_s _; do
    if [ "$r_s" = "$STACK" ]; then return 0; fi
  done <"$AK_STATE"
  return 1
}

# curl config escaping: inside "..." only \ and " need a backslash.
ak_escape() { printf '%s' "$1" | sed 's/[\\"]/\\&/g'; }

# Checks what the Node API calls need and prepares the curl options: URL, tools, credentials.
node_api_setup() {
  for tool in curl sha256sum sed head grep; do
    command -v "$tool" >/dev/null 2>&1 || die "$tool is not installed: this stack has Node API access keys, which this script manages with curl, sed, head and grep, and whose secrets it derives with sha256sum. Install it and run again. $(ak_changes)"
  done
  NODE_API=${ASPERA_NODE_API_URL:-$NODE_API_URL}
  NODE_API=${NODE_API%/}
  bad_url="the Node API URL \"$NODE_API\" must be https://<host>[:<port>] (http only to this host itself: 127.0.0.1, localhost or [::1]). $(ak_changes)"
  case $NODE_API in
    https://*) scheme=https ;;
    http://*) scheme=http ;;
    *) die "$bad_url" ;;
  esac
  # Host and port, nothing else: no user, path, query or fragment.
  rest=${NODE_API#*://}
  case $rest in
    '' | *[!A-Za-z0-9.:\[\]-]*) die "$bad_url" ;;
    \[*\]) url_host=$rest url_port= ;;
    \[*\]:*) url_host=${rest%%]*}] url_port=${rest#*]:} ;;
    *:*) url_host=${rest%%:*} url_port=${rest#*:} ;;
    *) url_host=$rest url_port= ;;
  esac
  case $url_port in *[!0-9]*) die "$bad_url" ;; esac
  # The host itself: a whole loopback name or address, not a name that starts like one.
  loopback=0
  case $url_host in
    localhost | '[::1]') loopback=1 ;;
    127.*)
      # A whole IPv4 address, four decimal numbers of 0-255: "127.0.0.1.2.3" or "127.999.1.1" is a
      # name that curl would look up in DNS.
      set -f
      old_ifs=$IFS
      IFS=.
      # shellcheck disable=SC2086 # split on the dots on purpose
      set -- $url_host
      IFS=$old_ifs
      set +f
      if [ "$#" = 4 ]; then
        loopback=1
        for octet in "$@"; do
          case $octet in
            0 | [1-9] | [1-9][0-9] | 1[0-9][0-9] | 2[0-4][0-9] | 25[0-5]) ;;
            *) loopback=0 ;;
          esac
        done
      fi
      ;;
  esac
  if [ "$scheme" = http ] && [ "$loopback" = 0 ]; then die "$bad_url"; fi
  f=$NODE_API_CREDENTIALS
  [ -e "$f" ] || die "$f does not exist: create it with the Node API user's credentials, one line \"<node user>:<password>\", owned by root and mode 600 (see docs/access-keys.md; nodeApi.credentialsFile in the config names another file). $(ak_changes)"
  if [ -L "$f" ] || [ ! -f "$f" ]; then die "$f must be a regular file, not a link or anything else. $(ak_changes)"; fi
  [ -O "$f" ] || die "$f must be owned by $(id -un) (the user this script runs as): it holds the Node API password. $(ak_changes)"
  mode=$(ls -ln -- "$f")
  case $mode in
    -r[w-]-------[.\ ]*) ;;
    *) die "$f must be readable by its owner only (chmod 600 $f; no ACL): it holds the Node API password, and is now ${mode%% *}. $(ak_changes)" ;;
  esac
  credentials=
  IFS= read -r credentials <"$f" || [ -n "$credentials" ] || die "$f is empty: write one line \"<node user>:<password>\". $(ak_changes)"
  case $credentials in
    ?*:?*) ;;
    *) die "$f must hold one line \"<node user>:<password>\" (found no \"user:password\" on its first line). $(ak_changes)" ;;
  esac
  ak_auth="user = \"$(ak_escape "$credentials")\""
  credentials=
  # HSTS's own certificate on 9092 is self-signed: on the host itself it is accepted as it is (the
  # traffic never leaves the machine); elsewhere it is checked, with the CA file when one is given.
  ak_tls=
  if [ -n "$NODE_API_CA_FILE" ]; then
    [ -f "$NODE_API_CA_FILE" ] || die "nodeApi.caFile $NODE_API_CA_FILE does not exist. $(ak_changes)"
    ak_tls="cacert = \"$(ak_escape "$NODE_API_CA_FILE")\""
  elif [ "$scheme" = https ] && [ "$loopback" = 1 ]; then
    ak_tls=insecure
  fi
}

# One request: node_api_call METHOD PATH [BODY]. Sets ak_status (HTTP status) and ak_body (the
# response). The credentials and the body reach curl on its standard input, in its config.
node_api_call() {
  ak_status=000
  ak_out=$(
    {
      printf '%s\n' "$ak_auth"
      if [ -n "$ak_tls" ]; then printf '%s\n' "$ak_tls"; fi
      if [ "$#" -ge 3 ]; then
        printf 'header = "Content-Type: application/json"\n'
        printf 'data-binary = "%s"\n' "$(ak_escape "$3")"
      fi
    } | curl -q --noproxy '*' --config - --silent --show-error --proto '=http,https' --connect-timeout 10 --max-time 60 \
      --request "$1" --header 'Accept: application/json' --write-out '\n%{http_code}' -- "$NODE_API$2" 2>"$LOCK/curl.stderr"
  ) || {
    ak_rc=$?
    ak_err=$(head -c 300 -- "$LOCK/curl.stderr" 2>/dev/null | tr '\n' ' ')
    if [ -n "$ak_soft" ]; then
      ak_status=000
      ak_body="curl exit $ak_rc: $ak_err"
      return 0
    fi
    die "cannot reach the Node API at $NODE_API ($1 $2: curl exit $ak_rc: ${ak_err:-no message}): is asperanoded running, and is nodeApi.url right for this host? $(ak_changes)"
  }
  ak_status=${ak_out##*
}
  ak_body=${ak_out%"$ak_status"}
}

# What the Node API said, for a message: IBM's error object ("user_message", else "reason"), or the
# first 300 bytes of the body.
ak_reason() {
  # A JSON string: any character but " and \, or a backslash escape; the escapes are then undone.
  r=$(printf '%s' "$ak_body" | sed -n 's/.*"user_message" *: *"\([^"\\]*\(\\.[^"\\]*\)*\)".*/\1/p' | head -n 1 | sed 's/\\\(.\)/\1/g')
  [ -n "$r" ] || r=$(printf '%s' "$ak_body" | sed -n 's/.*"reason" *: *"\([^"\\]*\(\\.[^"\\]*\)*\)".*/\1/p' | head -n 1 | sed 's/\\\(.\)/\1/g')
  [ -n "$r" ] || r=$(printf '%s' "$ak_body" | tr '\n' ' ' | head -c 300)
  printf '%s' "${r:-no message}"
}

# The end of a message: what this run changed so far among the access keys (ak_created: created
# and not taken back; ak_changed: updated or deleted).
ak_changes() {
  if [ -z "$ak_created$ak_changed" ] && [ "$ACTION" = uninstall ]; then
    printf 'No access key was deleted by this run'
  elif [ -z "$ak_created$ak_changed" ]; then
    printf 'Nothing was changed'
  elif [ "$ACTION" = uninstall ]; then
    printf 'Access keys deleted by this run before it stopped:%s (recorded in %s)' "$ak_changed" "$AK_STATE"
  else
    printf 'Access keys changed by this run before it stopped:%s%s (recorded in %s); %s left unchanged' "${ak_created:+ created}$ak_created" "$ak_changed" "$AK_STATE" "$CONF"
  fi
}

# A refusal that says which request, with which status and message: ak_refused WHAT [STATUS REASON]
# (by default the last answer's).
ak_refused() {
  rf_status=${2:-$ak_status}
  if [ "$#" -ge 3 ]; then rf_reason=$3; else rf_reason=$(ak_reason); fi
  case $rf_status in
    401 | 403) die "the Node API at $NODE_API refused the credentials in $NODE_API_CREDENTIALS ($1: HTTP $rf_status: $rf_reason): check the node user and password (asnodeadmin -l lists the node users). $(ak_changes)" ;;
    *) die "the Node API refused $1 (HTTP $rf_status: $rf_reason). $(ak_changes)" ;;
  esac
}

# ak_secret ID: sets secret to the key's secret (sha256 of "<seed>:<id>"; printf is a builtin, so
# the seed passes through no command line).
ak_secret() {
  secret=$(printf '%s:%s' "$ACCESS_KEY_SEED" "$1" | sha256sum) || die "sha256sum failed. $(ak_changes)"
  secret=${secret%% *}
}

# ak_hash ID STORAGE: sets hash to what the state records for a key written with its secret and
# STORAGE (a change of either, the seed included, is an update).
ak_hash() {
  ak_secret "$1"
  hash=$(printf '%s %s' "$secret" "$2" | sha256sum) || die "sha256sum failed. $(ak_changes)"
  hash=${hash%% *}
}

# Rewrites the state with one record changed: ak_record ID HASH (empty HASH: forget the key). awk,
# not a shell loop: a run that writes every key rewrites the file once per key.
ak_record() {
  if [ -f "$AK_STATE" ]; then rec_in=$AK_STATE; else rec_in=/dev/null; fi
  awk -v s="$STACK" -v id="$1" -v h="$2" '
    BEGIN { print "# aspera-cross-account: Node API access keys each stack created on this node (\"stack id sha256\"); do not edit" }
    /^#/ || NF == 0 { next }
    !($1 == s && $2 == id) { print $1, $2, $3 }
    END { if (h != "") print s, id, h }
  ' "$rec_in" >"$LOCK/access-keys.new" || die "cannot write $LOCK/access-keys.new. $(ak_changes)"
  if [ "$(grep -vc '^#' "$LOCK/access-keys.new")" = 0 ]; then
    rm -f -- "$AK_STATE" "$LOCK/access-keys.new"
  else
    mv -f -- "$LOCK/access-keys.new" "$AK_STATE" || die "cannot replace $AK_STATE. $(ak_changes)"
  fi
}

# Reads only: decides, per key, "create", "update", "keep" or "delete", into ak_plan.
access_keys_plan() {
  access_keys_in_use || return 0
  step="reading the Node API access keys"
  if ak_wanted; then
    case $ACCESS_KEY_SEED in
      [0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]) ;;
      *) die "the access key secret seed is not in this script: it is put in by terraform apply (random_bytes.access_key_secret_seed); run the script through Terraform, not from cdktf.out. $(ak_changes)" ;;
    esac
  fi
  if [ -e "$AK_STATE" ] && [ ! -f "$AK_STATE" ]; then die "$AK_STATE is not a regular file. $(ak_changes)"; fi
  node_api_setup
  # (Explicit: in the uninstall this runs where set -e is off, in "if ! ( ... )".)
  recorded=$(ak_recorded "$STACK") || die "cannot read $AK_STATE. $(ak_changes)"
  wanted=
  while read -r id user storage; do
    [ -n "$id" ] || continue
    wanted="$wanted $id "
    ak_hash "$id" "$storage"
    owner_stack=
    had=
    if [ -f "$AK_STATE" ]; then
      owner_stack=$(awk -v id="$id" '$2 == id { print $1; exit }' "$AK_STATE")
      had=$(awk -v id="$id" -v s="$STACK" '$1 == s && $2 == id { print $3; exit }' "$AK_STATE")
    fi
    # Another stack on this host recorded the same id: it is theirs.
    if [ -n "$owner_stack" ] && [ "$owner_stack" != "$STACK" ]; then
      die "access key $id (transfer user $user) was created on this node by the stack $owner_stack, not by this one ($STACK): refusing to take it over. $(ak_changes)"
    fi
    node_api_call GET "/access_keys/$id"
    case $ak_status in
      200)
        if [ -z "$had" ]; then
          die "access key $id (transfer user $user) exists on the Node API at $NODE_API, and this stack did not create it (it is not recorded in $AK_STATE): refusing to take it over. Delete it there if it is a leftover, or rename the grant. $(ak_changes)"
        elif [ "$had" = "$hash" ]; then
          ak_plan="${ak_plan}keep $id $user
"
        else
          ak_plan="${ak_plan}update $id $user $hash $storage
"
        fi
        ;;
      404)
        if [ -n "$had" ]; then say "access key $id (transfer user $user) is recorded but missing on the node: creating it again"; fi
        ak_plan="${ak_plan}create $id $user $hash $storage
"
        ;;
      *) ak_refused "GET /access_keys/$id" ;;
    esac
  done <<EOF
$ACCESS_KEYS
EOF
  while read -r id hash; do
    [ -n "$id" ] || continue
    case $wanted in
      *" $id "*) ;;
      *) ak_plan="${ak_plan}delete $id -
" ;;
    esac
  done <<EOF
$recorded
EOF
}

# Takes back what this run created, after a refused write (best effort: said when it fails).
ak_take_back() {
  kept=
  ak_soft=1
  for tb_id in $ak_created; do
    node_api_call DELETE "/access_keys/$tb_id"
    case $ak_status in
      200 | 204 | 404) ak_record "$tb_id" "" ;;
      *)
        kept="$kept $tb_id"
        warn "could not delete access key $tb_id, created by this run before the refusal (HTTP $ak_status${ak_body:+: $(ak_reason)}): it stays recorded for this stack, and the next run or the uninstall removes it"
        ;;
    esac
  done
  ak_soft=
  ak_created=$kept
}

# Writes: carries out ak_plan, recording each key as it goes. A plan line is "action id user", and
# for create and update also the hash to record and the storage to send.
access_keys_apply() {
  [ -n "$ak_plan" ] || return 0
  step="writing the Node API access keys"
  while read -r action id user hash storage; do
    case $action in
      keep) ;;
      create | update)
        ak_secret "$id"
        if [ "$action" = create ]; then
          # Pending until the node confirms it (see the header).
          ak_record "$id" -
          node_api_call POST /access_keys "{\"id\":\"$id\",\"secret\":\"$secret\",\"storage\":$storage}"
        else
          node_api_call PUT "/access_keys/$id" "{\"secret\":\"$secret\",\"storage\":$storage}"
        fi
        secret=
        case $ak_status in
          200 | 201 | 204)
            if [ "$action" = create ]; then ak_created="$ak_created $id"; fi
            ;;
          409)
            # Not ours: the pending record goes (the key is another node user's).
            if [ "$action" = create ]; then ak_record "$id" ""; fi
            ak_take_back
            if [ "$action" = create ]; then
              die "access key $id (transfer user $user) already exists on the node (POST: HTTP 409), though the Node API user cannot read it: another node user created it. Refusing to take it over. $(ak_changes)"
            fi
            ak_refused "PUT /access_keys/$id" 409 "$(ak_reason)"
            ;;
          *)
            # The refusal is kept before the take-back's own requests replace ak_status and ak_body.
            if [ "$action" = create ]; then refused_what="POST /access_keys (id $id)"; else refused_what="PUT /access_keys/$id"; fi
            refused_status=$ak_status
            refused_reason=$(ak_reason)
            # A refused POST created nothing: its pending record goes.
            if [ "$action" = create ]; then ak_record "$id" ""; fi
            ak_take_back
            ak_refused "$refused_what" "$refused_status" "$refused_reason"
            ;;
        esac
        ak_record "$id" "$hash"
        if [ "$action" = create ]; then
          say "created access key $id (transfer user $user)"
        else
          ak_changed="$ak_changed updated $id"
          say "updated access key $id (transfer user $user)"
        fi
        ;;
      delete)
        node_api_call DELETE "/access_keys/$id"
        case $ak_status in
          200 | 204) say "deleted access key $id" ;;
          404) say "access key $id was already gone from the node" ;;
          *)
            refused_status=$ak_status
            refused_reason=$(ak_reason)
            ak_take_back
            ak_refused "DELETE /access_keys/$id" "$refused_status" "$refused_reason"
            ;;
        esac
        ak_record "$id" ""
        ak_changed="$ak_changed deleted $id"
        ;;
    esac
  done <<EOF
$ak_plan
EOF
  if [ -z "$ak_created$ak_changed" ]; then say "every Node API access key of this stack is as wanted: nothing changed"; fi
}

# The uninstall's part (see the header): deletes what this stack recorded, in a subshell, so that a
# Node API that refuses or does not answer stops only this part. Sets ak_left when it failed.
access_keys_uninstall() {
  access_keys_in_use || return 0
  if ! (access_keys_plan && access_keys_apply); then
    left=$(awk -v s="$STACK" '$1 == s { printf " %s", $2 }' "$AK_STATE" 2>/dev/null) || left=
    ak_left="the docroots of this stack are removed from $CONF, but its Node API access keys are not all deleted (the error above says why): left on the node and recorded in $AK_STATE:${left:- (none recorded)}; run this uninstall again once the Node API answers"
  fi
}

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
# aspera-conf-edit.awk: edits (apply) or checks (verify) aspera.conf, byte-exactly.
#
# Embedded into aspera-conf-edit.sh when the host scripts are rendered (host-scripts.ts), inside
# the single-quoted program argument of its aspera_conf_awk function, so the host receives one
# file. Therefore this file must never contain a single quote: write \047 instead.
# Input comes from the environment (MODE, CONF_IN, STATE_IN, STATE_OUT, GRANTS_FILE, STACK: file
# names and the stack, each short) and from files: the grants (GRANTS_FILE, one per line, as many
# as the config has), aspera.conf and the state file. Nothing that grows with the grants passes
# through the environment or a command line, whose single strings Linux limits to 128 KiB.
# POSIX awk (mawk, gawk, busybox awk): no gawk extensions.
# Messages go to standard error through cat: POSIX awk has no /dev/stderr of its own (gawk
# --posix opens the device file, which fails when stderr is a socket), and each is closed at once
# so that none is lost when the program exits.
function note(msg) {
  printf "%s: %s\n", "aspera-cross-account", msg | "cat 1>&2"
  close("cat 1>&2")
}
function fail(msg) {
  note("error: " where ": " msg)
  exit 1
}
function blank(s) { return s ~ /^[ \t\r\n]*$/ }
function trim(s) { sub(/^[ \t\r\n]+/, "", s); sub(/[ \t\r\n]+$/, "", s); return s }
# Bytes from..to of s ("" when to < from): substr without its zero-length edge cases.
function slice(s, from, to) { return to < from ? "" : substr(s, from, to - from + 1) }
function validname(s) { return s ~ /^[A-Za-z_:][-A-Za-z0-9._:]*$/ }

# Whole file, byte for byte. XML cannot contain \001, so it never ends a record.
function slurp(path,    save, r, rec, n) {
  save = RS; RS = "\001"; n = 0; slurped = ""
  while ((r = (getline rec < path)) > 0) { n++; slurped = rec }
  RS = save
  if (r < 0) return -1
  close(path)
  if (n > 1) fail("contains the control character \\001, which XML does not allow")
  return n
}

# State values: "-" (absent) or "=" followed by the element text, escaped so it fits on one line.
function enc(s,    out, i, n, c) {
  if (s !~ /[\\\t\n\r]/) return s
  out = ""; n = length(s)
  for (i = 1; i <= n; i++) {
    c = substr(s, i, 1)
    if (c == "\\") out = out "\\\\"
    else if (c == "\t") out = out "\\t"
    else if (c == "\n") out = out "\\n"
    else if (c == "\r") out = out "\\r"
    else out = out c
  }
  return out
}
function dec(s,    out, i, n, c) {
  if (index(s, "\\") == 0) return s
  out = ""; n = length(s)
  for (i = 1; i <= n; i++) {
    c = substr(s, i, 1)
    if (c == "\\" && i < n) {
      i++; c = substr(s, i, 1)
      if (c == "t") c = "\t"; else if (c == "n") c = "\n"; else if (c == "r") c = "\r"
    }
    out = out c
  }
  return out
}

# Offset of the ">" that ends the tag at the start of p (quotes in attribute values respected).
function tagend(p,    i, n, c, q, gt) {
  gt = index(p, ">")
  if (gt == 0) return 0
  if (!index(q = substr(p, 1, gt), "\"") && !index(q, "\047")) return gt
  q = ""; n = length(p)
  for (i = 1; i <= n; i++) {
    c = substr(p, i, 1)
    if (q != "") { if (c == q) q = "" }
    else if (c == "\"" || c == "\047") q = c
    else if (c == ">") return i
  }
  return 0
}

# Tokenizes doc into tags: tok_s/tok_e (offsets of "<" and ">"), tok_t ("o" open, "c" close,
# "e" empty), tok_n (name), tok_m (matching tag). Comments, CDATA and processing
# instructions are skipped as a whole. Anything that is not well-formed is refused.
# Parsing costs a pass over the whole file, so it runs again only after an edit (splice).
function parse(    n, part, i, e, j, k, pos, piece, joined, term, skip, rest, gt, tag, name, isempty, sp, opened, depth, nroots, first) {
  if (!dirty) return
  dirty = 0; indexed = 0
  ntok = 0; depth = 0; sp = 0; nroots = 0; root = 0
  n = split(doc, part, "<")
  first = part[1]
  if (length(first) >= 3 && substr(first, 1, 3) == "\357\273\277") first = slice(first, 4, length(first))
  if (!blank(first)) fail("text before the root element")
  pos = length(part[1]) + 1
  i = 2
  while (i <= n) {
    piece = part[i]
    if (substr(piece, 1, 1) == "!" || substr(piece, 1, 1) == "?") {
      if (substr(piece, 1, 3) == "!--") { term = "-->"; skip = 3 }
      else if (substr(piece, 1, 8) == "![CDATA[") { term = "]]>"; skip = 8 }
      else if (substr(piece, 1, 1) == "?") { term = "?>"; skip = 1 }
      else fail("unsupported markup <" substr(piece, 1, 9) " (DOCTYPE and declarations are not supported)")
      if (skip == 8 && depth == 0) fail("CDATA outside the root element")
      joined = piece; e = i
      while ((k = index(substr(joined, skip + 1), term)) == 0) {
        e++
        if (e > n) fail("unterminated <" substr(piece, 1, 3))
        joined = joined "<" part[e]
      }
      rest = slice(joined, skip + k + length(term), length(joined))
      if (depth == 0 && !blank(rest)) fail("text outside the root element")
      for (j = i; j <= e; j++) pos += 1 + length(part[j])
      i = e + 1
      continue
    }
    if (substr(piece, 1, 1) == "/") {
      gt = index(piece, ">")
      if (gt == 0) fail("unterminated closing tag at byte " pos)
      name = substr(piece, 2, gt - 2)
      # The usual case first: the name of the open element (already checked), exactly.
      if (sp == 0 || tok_n[opened[sp]] != name) {
        if (!validname(name)) { name = trim(name); if (!validname(name)) fail("bad closing tag </" name "> at byte " pos) }
        if (sp == 0 || tok_n[opened[sp]] != name) fail("</" name "> at byte " pos " does not close the open element")
      }
      ntok++; tok_t[ntok] = "c"; tok_n[ntok] = name; tok_s[ntok] = pos; tok_e[ntok] = pos + gt
      depth--
      tok_m[ntok] = opened[sp]; tok_m[opened[sp]] = ntok; sp--
    } else {
      gt = tagend(piece)
      if (gt == 0) fail("unterminated tag at byte " pos)
      # A name, then the end of the tag, "/" or white space.
      if (!match(piece, /^[A-Za-z_:][-A-Za-z0-9._:]*/) || index(" \t\r\n/>", substr(piece, RLENGTH + 1, 1)) == 0) {
        name = piece; if (match(piece, /[ \t\r\n\/>]/)) name = substr(piece, 1, RSTART - 1)
        fail("bad tag <" name "> at byte " pos)
      }
      name = substr(piece, 1, RLENGTH)
      isempty = (substr(piece, gt - 1, 1) == "/")
      ntok++; tok_t[ntok] = isempty ? "e" : "o"; tok_n[ntok] = name; tok_s[ntok] = pos; tok_e[ntok] = pos + gt
      if (depth == 0) { nroots++; root = ntok }
      if (isempty) tok_m[ntok] = ntok
      else { sp++; opened[sp] = ntok; depth++ }
    }
    if (depth == 0 && gt < length(piece) && !blank(substr(piece, gt + 1))) fail("text outside the root element")
    pos += 1 + length(piece)
    i++
  }
  if (sp > 0) fail("<" tok_n[opened[sp]] "> is never closed")
  if (nroots != 1) fail(nroots == 0 ? "no root element" : "more than one root element")
  if (tok_n[root] != "CONF") fail("the root element is <" tok_n[root] ">, not <CONF>: is this aspera.conf?")
  # Indentation unit of the file, from the first child of the root; two spaces otherwise.
  unit = "  "
  if (root + 1 < tok_m[root]) { k = line_indent(root + 1); if (k != "\001" && k != "") unit = k }
  nl = index(doc, "\r\n") ? "\r\n" : "\n"
}

# The first (and only) child element of k named name; nchild says how many there are.
function child(k, name,    j, found) {
  nchild = 0; found = 0
  if (tok_t[k] != "o") return 0
  j = k + 1
  while (j < tok_m[k]) {
    if (tok_n[j] == name) { nchild++; if (!found) found = j }
    j = tok_m[j] + 1
  }
  return found
}
function inner(k) { return tok_t[k] == "o" ? substr(doc, tok_e[k] + 1, tok_s[tok_m[k]] - tok_e[k] - 1) : "" }
function elemtext(k) { return substr(doc, tok_s[k], tok_e[tok_m[k]] - tok_s[k] + 1) }
function splice(from, to, text) { doc = substr(doc, 1, from - 1) text substr(doc, to + 1); dirty = 1 }
# Line number of token k, for messages.
function line_of(k,    t) { t = substr(doc, 1, tok_s[k]); return gsub(/\n/, "", t) + 1 }
function empty_form(k) { return "<" tok_n[k] "/> at line " line_of(k) " is in empty-element form; write it as <" tok_n[k] "></" tok_n[k] "> and re-run" }
# "the <realm> at line 12", with its <name> when it has one.
function realm_label(k,    nm) {
  nm = child(k, "name")
  return "the <realm> " (nm ? "named " trim(inner(nm)) " " : "") "at line " line_of(k)
}
# "the <realm> at line 3 and in the <realm> at line 9", from their tokens ("5 77").
function realm_labels(tokens,    t, n, i, s) {
  n = split(tokens, t, " ")
  s = realm_label(t[1])
  for (i = 2; i <= n; i++) s = s " and in " realm_label(t[i])
  return s
}
# Spaces and tabs that start the line of token k, or "\001" when k does not start its line.
function line_indent(k,    a) {
  a = tok_s[k]
  while (a > 1 && (substr(doc, a - 1, 1) == " " || substr(doc, a - 1, 1) == "\t")) a--
  if (a > 1 && substr(doc, a - 1, 1) != "\n") return "\001"
  return slice(doc, a, tok_s[k] - 1)
}

# Where and how to add a child to element p: after its last non-blank content, on a new line
# indented like its children when the file is laid out on lines, inline when it is compact.
function insertion(p,    cs, q, ws, pind, ind) {
  cs = tok_e[p] + 1
  q = tok_s[tok_m[p]] - 1
  while (q >= cs && index(" \t\r\n", substr(doc, q, 1))) q--
  ins_at = q + 1
  ws = slice(doc, q + 1, tok_s[tok_m[p]] - 1)
  pretty = (index(ws, "\n") > 0)
  pind = line_indent(p)
  if (pind == "\001") pind = ""
  ci = pind unit
  if (p + 1 < tok_m[p]) { ind = line_indent(p + 1); if (ind != "\001") ci = ind }
  if (!pretty) ci = ""
}
function sep(ind) { return pretty ? nl ind : "" }
# Where the blank run before element k (the line break and indent added with it) starts.
function blank_start(k,    a) {
  a = tok_s[k]
  while (a > 1 && index(" \t\r\n", substr(doc, a - 1, 1))) a--
  return a
}

# Several edits made on one parse: queued, then applied in one pass that rebuilds the file from
# the pieces between them, so that the file is copied and parsed again once however many edits
# there are (thousands, for thousands of grants). Queued edits never overlap; among edits at one
# offset, the one queued first comes first in the file.
function queue(from, to, text) { nq++; q_from[nq] = from; q_to[nq] = to; q_text[nq] = text }
function queue_child(p, text) { insertion(p); queue(ins_at, ins_at - 1, sep(ci) text) }
function queue_removal(k) { queue(blank_start(k), tok_e[tok_m[k]], "") }
# Whether queued edit a goes before edit b.
function q_before(a, b) { return q_from[a] < q_from[b] || (q_from[a] == q_from[b] && a < b) }
# Sorts the queue (indices in q_ord[1..nq]) with a bottom-up merge sort: n log n, no recursion.
function q_sort(    width, lo, mid, hi, i, j, k, t) {
  for (i = 1; i <= nq; i++) q_ord[i] = i
  for (width = 1; width < nq; width *= 2) {
    for (lo = 1; lo <= nq; lo += 2 * width) {
      mid = lo + width - 1; hi = lo + 2 * width - 1
      if (mid >= nq) { for (k = lo; k <= nq; k++) t[k] = q_ord[k]; continue }
      if (hi > nq) hi = nq
      i = lo; j = mid + 1; k = lo
      while (i <= mid && j <= hi) { if (q_before(q_ord[j], q_ord[i])) t[k++] = q_ord[j++]; else t[k++] = q_ord[i++] }
      while (i <= mid) t[k++] = q_ord[i++]
      while (j <= hi) t[k++] = q_ord[j++]
    }
    for (k = 1; k <= nq; k++) q_ord[k] = t[k]
  }
}
# Joins chunk[1..n] into one string, pairwise: each byte is copied about log2(n) times, where
# appending piece by piece would copy the growing string once per piece.
function join_pieces(n,    k, m) {
  if (n == 0) return ""
  while (n > 1) {
    m = 0
    for (k = 1; k <= n; k += 2) chunk[++m] = (k < n) ? chunk[k] chunk[k + 1] : chunk[k]
    n = m
  }
  return chunk[1]
}
function flush(    j, e, pos, n) {
  if (nq == 0) return
  q_sort()
  n = 0; pos = 1
  for (j = 1; j <= nq; j++) {
    e = q_ord[j]
    chunk[++n] = slice(doc, pos, q_from[e] - 1)
    chunk[++n] = q_text[e]
    pos = q_to[e] + 1
  }
  chunk[++n] = substr(doc, pos)
  doc = join_pieces(n)
  split("", chunk); split("", q_ord)
  nq = 0; dirty = 1
}

# Element text for the chain from level lvl down to the path and its fields, at indent ind.
function chain_text(lvl, ind, g,    s, ci2, f) {
  ci2 = pretty ? ind unit : ""
  s = "<" L[lvl] ">"
  if (lvl == USER) s = s sep(ci2) "<name>" du[g] "</name>"
  if (lvl < PATH) s = s sep(ci2) chain_text(lvl + 1, ci2, g)
  else for (f = 1; f <= 4; f++) s = s sep(ci2) field_text(f, val[g, f])
  return s sep(ind) "</" L[lvl] ">"
}
function field_text(f, v) { return "<" F[f] ">" v "</" F[f] ">" }

# Every user stanza in the realms, by name, built once per parse (a lookup then costs nothing,
# whatever the number of users): at_n[name] = how many realms have it, at_user/at_users/at_realm
# its tokens, at_where the realms named for a message, at_dup a name with two stanzas in one realm.
function index_users(    j, us, k, nm, t, seen) {
  indexed = 1
  split("", at_n); split("", at_user); split("", at_users); split("", at_realm); split("", at_where); split("", at_dup)
  j = chain[REALMS] + 1
  while (j < tok_m[chain[REALMS]]) {
    if (tok_n[j] == "realm" && tok_t[j] == "o") {
      us = child(j, "users")
      if (nchild > 1) fail(realm_label(j) " has several <users> sections")
      if (us && tok_t[us] == "o") {
        split("", seen)
        k = us + 1
        while (k < tok_m[us]) {
          if (tok_n[k] == "user" && tok_t[k] == "o") {
            nm = child(k, "name")
            if (nchild > 1) fail("the <user> stanza at line " line_of(k) " has several <name> elements")
            if (nm) {
              t = inner(nm)
              if (index(t, "<") || index(t, "&")) fail("a user name is written with markup or entities (" trim(t) ", line " line_of(nm) "); names are compared literally")
              t = trim(t)
              if (t in seen) at_dup[t] = "two <user> stanzas are named " t " (lines " line_of(seen[t]) " and " line_of(k) ")"
              else {
                seen[t] = k
                # The realms are named for a message only (a label costs a pass over the file).
                if (t in at_n) { at_n[t]++; at_where[t] = at_where[t] " " j }
                else { at_n[t] = 1; at_where[t] = j }
                at_user[t] = k; at_users[t] = us; at_realm[t] = j
              }
            }
          }
          k = tok_m[k] + 1
        }
      }
    }
    j = tok_m[j] + 1
  }
}

# Finds user u in the realms: chain[0..PATH] = CONF, aaa, realms, realm, users, user, file_system,
# access, paths, path (0 if missing). Returns the first missing level, PATH + 1 when the path
# exists. Refuses what is ambiguous.
function locate(u,    lvl, k, c, us, first, nfound) {
  parse()
  chain[0] = root
  for (lvl = 1; lvl <= PATH; lvl++) chain[lvl] = 0
  for (lvl = AAA; lvl <= REALMS; lvl++) {
    k = child(chain[lvl - 1], L[lvl])
    if (nchild > 1) fail("several <" L[lvl] "> sections in <" tok_n[chain[lvl - 1]] ">")
    if (k == 0) return lvl
    if (tok_t[k] == "e") fail(empty_form(k))
    chain[lvl] = k
  }
  # The user may have a stanza in at most one realm.
  if (!indexed) index_users()
  if (u in at_dup) fail(at_dup[u])
  nfound = (u in at_n) ? at_n[u] : 0
  if (nfound == 1) { chain[REALM] = at_realm[u]; chain[USERS] = at_users[u]; chain[USER] = at_user[u] }
  if (nfound > 1) fail("user " u " has a stanza in " realm_labels(at_where[u]) ": cannot tell which one the server reads; keep one and re-run")
  first = child(chain[REALMS], "realm")
  if (nfound == 0) {
    # Not there yet: it goes into the first realm.
    if (!first) return REALM
    if (tok_t[first] == "e") fail(empty_form(first))
    chain[REALM] = first
    us = child(first, "users")
    if (us == 0) return USERS
    if (tok_t[us] == "e") fail(empty_form(us))
    chain[USERS] = us
    return USER
  }
  for (lvl = FILE_SYSTEM; lvl <= PATH; lvl++) {
    c = child(chain[lvl - 1], L[lvl])
    if (nchild > 1) {
      if (lvl == PATH) fail("user " u " has several <path> entries: cannot tell which one is the docroot; keep one and re-run")
      fail("user " u " has several <" L[lvl] "> elements")
    }
    if (c == 0) return lvl
    if (tok_t[c] == "e") fail("user " u ": " empty_form(c))
    chain[lvl] = c
  }
  # IBM writes a conditional docroot as <absolute peer_ip="..."> beside the plain one.
  c = child(chain[PATH], "absolute")
  if (nchild > 1) fail("user " u " has several <absolute> elements in its path (line " line_of(chain[PATH]) "), a conditional docroot: this stack would replace it for every client; keep one unconditional <absolute> (or give the stack another transfer user) and re-run")
  if (c && substr(doc, tok_s[c], tok_e[c] - tok_s[c] + 1) ~ /^<absolute[ \t\r\n]+[^ \t\r\n\/>]/)
    fail("user " u " has a conditional docroot (" substr(doc, tok_s[c], tok_e[c] - tok_s[c] + 1) ", line " line_of(c) "): this stack would replace it for every client; remove the condition (or give the stack another transfer user) and re-run")
  return PATH + 1
}
# Field f of user u (after locate returned 7): its token, or 0.
function field(u, f,    c) {
  c = child(chain[PATH], F[f])
  if (nchild > 1) fail("user " u " has several <" F[f] "> elements in its path")
  return c
}
function current_docroot(u,    c) {
  if (locate(u) != PATH + 1) return "\001"
  c = field(u, 1)
  return c ? trim(inner(c)) : "\001"
}

# Sets the fields of user u to those of grant g; leaves alone those that already read right.
# The chain must be that of u (locate(u) returned PATH + 1 on this parse).
function set_fields(u, g,    f, c, v) {
  for (f = 1; f <= 4; f++) {
    v = val[g, f]
    c = field(u, f)
    if (c == 0) queue_child(chain[PATH], field_text(f, v))
    else if (tok_t[c] == "e") queue(tok_s[c], tok_e[c], field_text(f, v))
    else if (trim(inner(c)) != v) queue(tok_e[c] + 1, tok_s[tok_m[c]] - 1, v)
  }
}

# Whether element k, at level lvl of the chain, holds nothing but the chain below it (the fields,
# for the path; and its <name>, for the user): then removing that leaves k empty.
function holds_only_chain(k, lvl,    j, prev) {
  prev = tok_e[k] + 1
  j = k + 1
  while (j < tok_m[k]) {
    if (!blank(slice(doc, prev, tok_s[j] - 1))) return 0
    if (lvl == PATH) { if (!(tok_n[j] in FIELD)) return 0 }
    else if (j != chain[lvl + 1] && !(lvl == USER && tok_n[j] == "name")) return 0
    prev = tok_e[tok_m[j]] + 1
    j = tok_m[j] + 1
  }
  return blank(slice(doc, prev, tok_s[tok_m[k]] - 1))
}

# The state: one file per aspera.conf for every stack that installed docroots in it. Records r*
# in install order, each owned by one stack (rs): rs, ru (user), rinst (the docroot installed),
# rcreated (the outermost level created with it, or "none"), rprev (the four fields before).
# A user has at most one record: rec_of[user]. A dropped record is only marked (rdead), so that
# dropping thousands costs nothing.
function add_record(stack, u,    f) {
  nrec++; rs[nrec] = stack; ru[nrec] = u; rcreated[nrec] = "none"; rdead[nrec] = 0
  for (f = 1; f <= 4; f++) rprev[nrec, f] = "-"
  rec_of[u] = nrec
  return nrec
}
function drop_record(i) { rdead[i] = 1; delete rec_of[ru[i]] }

# The identity of a stack is "<stackName>:<My Account>:<Other Account>"; messages spell it out.
function stack_label(id,    p) {
  if (split(id, p, ":") != 3) return "stack " id
  return "stack " p[1] " (My Account " p[2] ", Other Account " p[3] ")"
}

# Messages about single users: the first few in full, then a count (thousands of users would
# otherwise drown the rest of the output).
function tell(msg) {
  if (++told <= MAX_TOLD) note(msg)
}
function tell_rest() {
  if (told > MAX_TOLD) note("... and " (told - MAX_TOLD) " more users, as above")
}

# Undo what record i installed, when the docroot is still the one this stack wrote.
function revert(i,    u, c, f, lvl, top) {
  u = ru[i]
  if (current_docroot(u) != rinst[i]) {
    if (locate(u) == PATH + 1 && field(u, 1)) tell(u ": docroot was changed outside this stack since it was installed; left as it is")
    else tell(u ": docroot already removed")
    return
  }
  # A level above <user> may hold users reverted before this one: their edits go in first.
  if (rcreated[i] != "none" && LEVEL[rcreated[i]] < USER) flush()
  locate(u)
  if (rcreated[i] != "none") {
    # Remove the outermost level this stack created that holds nothing else (comments count).
    top = 0
    if (holds_only_chain(chain[PATH], PATH)) {
      top = PATH
      for (lvl = PATH - 1; lvl >= LEVEL[rcreated[i]] && holds_only_chain(chain[lvl], lvl); lvl--) top = lvl
    }
    if (top) queue_removal(chain[top])
    else for (f = 1; f <= 4; f++) { c = field(u, f); if (c) queue_removal(c) }
    if (top && top <= USER && top > LEVEL[rcreated[i]]) hand_over(i, chain[top - 1])
    tell(u ": docroot removed, with the elements this stack had added")
    return
  }
  for (f = 1; f <= 4; f++) {
    c = field(u, f)
    if (rprev[i, f] == "-") { if (c) queue_removal(c) }
    else if (c) queue(tok_s[c], tok_e[tok_m[c]], dec(substr(rprev[i, f], 2)))
    else queue_child(chain[PATH], dec(substr(rprev[i, f], 2)))
  }
  tell(u ": docroot removed; the settings from before this stack are restored")
}

# Record i created levels above <user> (<aaa> ... <users>) that stay because they hold other
# users (k is the innermost of them). Whoever removes the last user in them must remove them too,
# or the file does not end as it began: hand them to the newest remaining record (of any stack)
# whose user is in k and whose own stanza was created by an install. Without one, what holds
# them is not ours, and they stay.
function hand_over(i, k,    j, t) {
  for (j = nrec; j >= 1; j--) {
    if (j == i || rdead[j] || rcreated[j] == "none" || LEVEL[rcreated[j]] > USER) continue
    if (!(ru[j] in at_user)) continue
    t = at_user[ru[j]]
    if (tok_s[t] < tok_s[k] || tok_s[t] > tok_s[tok_m[k]]) continue
    if (LEVEL[rcreated[i]] < LEVEL[rcreated[j]]) rcreated[j] = rcreated[i]
    return
  }
}

# Make user g carry its desired docroot and flags; record what was there before. The edits are
# queued (see flush) and read back once all are applied; only a missing <aaa>, <realms>, <realm>
# or <users>, which the next user may need too, is written at once.
function install(g,    u, i, m, f, c, ours, fresh, text, cur) {
  u = du[g]
  i = (u in rec_of) ? rec_of[u] : 0
  # One locate serves the whole user (its chain stays valid: nothing is spliced in between).
  m = locate(u)
  if (m < USER) { flush(); m = locate(u) }
  cur = "\001"
  if (m == PATH + 1 && (c = field(u, 1))) cur = trim(inner(c))
  ours = (i && cur == rinst[i])
  if (i && !ours) {
    tell(u ": docroot was changed outside this stack since it was installed; the current one becomes the one to restore")
    drop_record(i)
    i = 0
  }
  fresh = !i
  if (fresh) i = add_record(STACK, u)
  rinst[i] = dd[g]
  if (m <= PATH) {
    insertion(chain[m - 1])
    text = sep(ci) chain_text(m, ci, g)
    if (m < USER) splice(ins_at, ins_at - 1, text)
    else queue(ins_at, ins_at - 1, text)
    rcreated[i] = L[m]
    return
  }
  if (fresh) for (f = 1; f <= 4; f++) { c = field(u, f); if (c) rprev[i, f] = "=" enc(elemtext(c)) }
  set_fields(u, g)
}

# The state file: a comment, a "format" line, then one "user" record per docroot installed.
# Files of earlier versions are refused with what to do: format 2 (one state file per stackName,
# records without the stack) and the first one (no format line, stanzas in a top-level <users>).
function read_state(path,    line, r, f, n, format, legacy, i) {
  nrec = 0; format = 0; legacy = ""
  split("", rec_of)
  while ((r = (getline line < path)) > 0) {
    if (line == "" || substr(line, 1, 1) == "#") continue
    n = split(line, f, "\t")
    if (n == 2 && f[1] == "format" && !format && !nrec && legacy == "") {
      if (f[2] == STATE_FORMAT) { format = 1; continue }
      if (f[2] == "2") fail("the state file " path " was written by an earlier version of aspera-cross-account, for one stack (this version keeps the docroots of every stack on this host in one state file, and knows which stack installed each). Remove those docroots with the uninstall.sh of that version (or its cdktf destroy) first, or, if they are gone already, delete " path "; then run again")
    }
    if (!format && n == 8 && f[1] == "user") { legacy = legacy (legacy == "" ? "" : ", ") f[2]; continue }
    if (!format || n != 9 || f[1] != "user" || f[2] == "" || f[3] == "" || f[5] !~ /^(none|aaa|realms|realm|users|user|file_system|access|paths|path)$/ || (f[3] in rec_of)) fail("cannot read the state file " path "; leave it in place and fix it (or restore it from a backup) before re-running")
    i = add_record(f[2], f[3])
    rinst[i] = f[4]; rcreated[i] = f[5]
    rprev[i, 1] = f[6]; rprev[i, 2] = f[7]; rprev[i, 3] = f[8]; rprev[i, 4] = f[9]
  }
  if (r == 0) close(path)
  if (legacy != "") fail("the state file " path " was written by an earlier version of aspera-cross-account, which put the docroots of " legacy " in a <users> section directly under <CONF> (Aspera does not read users there). This version does not undo that. By hand: delete the <user> stanzas of " legacy " from that top-level <users> (or put back the aspera.conf.bak.* copy taken before the first install), then delete " path " and run again")
}
# The state as text ("" when no record is left: the file is then removed).
function state_text(    i, n, live) {
  n = 0; live = 0
  chunk[++n] = "# aspera-cross-account: the docroots installed in this aspera.conf, by stack, and what was there before, for their uninstall. Do not edit.\n"
  chunk[++n] = "format\t" STATE_FORMAT "\n"
  for (i = 1; i <= nrec; i++) {
    if (rdead[i]) continue
    live++
    chunk[++n] = "user\t" rs[i] "\t" ru[i] "\t" rinst[i] "\t" rcreated[i] "\t" rprev[i, 1] "\t" rprev[i, 2] "\t" rprev[i, 3] "\t" rprev[i, 4] "\n"
  }
  if (!live) { split("", chunk); return "" }
  return join_pieces(n)
}

# Stanzas for our users in a <users> directly under <CONF>: the server does not read them, and
# they stay as they are; say so, since someone may believe they are in force.
function warn_legacy(    k, j, nm, t) {
  k = root + 1
  while (k < tok_m[root]) {
    if (tok_n[k] == "users" && tok_t[k] == "o") {
      j = k + 1
      while (j < tok_m[k]) {
        if (tok_n[j] == "user" && tok_t[j] == "o" && (nm = child(j, "name"))) {
          t = trim(inner(nm))
          if (t in wanted) note("warning: " where " line " line_of(j) ": the stanza for " t " sits in a <users> directly under <CONF>, which Aspera does not read (it reads <CONF><aaa><realms><realm><users>); left as it is, and the docroot goes into the realm")
        }
        j = tok_m[j] + 1
      }
    }
    k = tok_m[k] + 1
  }
}

BEGIN {
  mode = ENVIRON["MODE"]; STACK = ENVIRON["STACK"]
  where = ENVIRON["CONF_IN"]
  constants()
  if (STACK !~ /^[A-Za-z0-9][A-Za-z0-9_-]*:[0-9]+:[0-9]+$/) fail("internal: the stack identity " STACK " is malformed")
  read_grants(ENVIRON["GRANTS_FILE"])
  read_conf()
  read_state(ENVIRON["STATE_IN"])
  if (mode == "verify") verify()
  else apply()
}

function read_conf(    r) {
  r = slurp(ENVIRON["CONF_IN"])
  if (r < 0) fail("cannot read the file")
  if (r == 0) fail("the file is empty")
  doc = slurped
  orig = doc
}

function constants(    j) {
  # The levels from <CONF> down to the docroot path of a user, and their numbers.
  split("aaa realms realm users user file_system access paths path", L, " ")
  AAA = 1; REALMS = 2; REALM = 3; USERS = 4; USER = 5; FILE_SYSTEM = 6; PATH = 9
  for (j = 1; j <= PATH; j++) LEVEL[L[j]] = j
  split("absolute read_allowed write_allowed dir_allowed", F, " ")
  for (j = 1; j <= 4; j++) FIELD[F[j]] = j
  STATE_FORMAT = 3
  MAX_TOLD = 20
  dirty = 1; nq = 0; told = 0
}

# Desired grants: "user read_allowed write_allowed dir_allowed docroot" per line of the file.
function read_grants(path,    r, line, w) {
  nd = 0
  while ((r = (getline line < path)) > 0) {
    if (blank(line)) continue
    if (split(line, w, " ") != 5) fail("malformed grant line: " line)
    if (w[1] !~ /^[A-Za-z0-9_.@-]+$/ || w[2] !~ /^(true|false)$/ || w[3] !~ /^(true|false)$/ || w[4] !~ /^(true|false)$/) fail("malformed grant line: " line)
    # The docroot must already be XML text: no "<", and "&" only as an entity.
    if (index(w[5], "<") || w[5] !~ /^([^&]|&(amp|lt|gt|quot|apos);)*$/) fail("the docroot of " w[1] " is not XML-escaped")
    if (w[1] in wanted) fail("two grants for user " w[1])
    nd++; du[nd] = w[1]; wanted[w[1]] = nd
    val[nd, 2] = w[2]; val[nd, 3] = w[3]; val[nd, 4] = w[4]; val[nd, 1] = w[5]; dd[nd] = w[5]
  }
  if (r < 0) fail("internal: cannot read the grants")
  if (r == 0) close(path)
}

# Read back: every grant has exactly its docroot and flags, and the state file says so.
function verify(    g, f, c, i, ours) {
  parse()
  for (g = 1; g <= nd; g++) {
    if (locate(du[g]) != PATH + 1) fail("read back: no docroot path for " du[g])
    for (f = 1; f <= 4; f++) {
      c = field(du[g], f)
      if (!c || trim(inner(c)) != val[g, f]) fail("read back: <" F[f] "> of " du[g] " is not " val[g, f])
    }
  }
  ours = 0
  for (i = 1; i <= nrec; i++) {
    if (rs[i] != STACK) continue
    ours++
    if (!(ru[i] in wanted) || rinst[i] != dd[wanted[ru[i]]]) fail("read back: the state file disagrees for " ru[i])
  }
  if (ours != nd) fail("read back: the state file lists " ours " users of this stack, expected " nd)
  exit 0
}

# Users this stack would take from another stack on this host: refused, nothing changed. A
# transfer user has one docroot; two stacks writing it would undo each other.
function refuse_conflicts(    g, i, n) {
  n = 0
  for (g = 1; g <= nd; g++) {
    if (!(du[g] in rec_of)) continue
    i = rec_of[du[g]]
    if (rs[i] == STACK) continue
    if (++n <= MAX_TOLD) note("error: " where ": transfer user " du[g] " already has a docroot installed by " stack_label(rs[i]) " on this host")
  }
  if (n == 0) return
  if (n > MAX_TOLD) note("error: ... and " (n - MAX_TOLD) " more transfer users of other stacks")
  fail(n " transfer user" (n == 1 ? "" : "s") " of " stack_label(STACK) " belong" (n == 1 ? "s" : "") " to another stack on this host (a user has one docroot: the second stack would replace the docroot of the first, and either uninstall would undo the other): give the grant another transferUser, or remove it from the other stack first. Nothing was changed")
}

# Aspera transfer users are system accounts: a docroot for a name the host does not know is
# written, but nobody can log in with it; say so. Names are looked up with getent (ACCOUNTS, its
# path: local files, LDAP, SSSD alike) in batches of 200 (a bounded command line; the names are
# letters, digits and _ . @ -), or in /etc/passwd where getent is not installed.
function warn_missing_accounts(    g, known, line, f, r, cmd, n, k, shown) {
  if (ENVIRON["ACCOUNTS"] == "") {
    while ((r = (getline line < "/etc/passwd")) > 0) { split(line, f, ":"); known[f[1]] = 1 }
    if (r == 0) close("/etc/passwd")
  } else {
    for (g = 1; g <= nd; g += 200) {
      cmd = ENVIRON["ACCOUNTS"] " passwd --"
      for (k = g; k <= nd && k < g + 200; k++) cmd = cmd " " du[k]
      cmd = cmd " 2>/dev/null"
      while ((cmd | getline line) > 0) { split(line, f, ":"); known[f[1]] = 1 }
      close(cmd)
    }
  }
  n = 0; shown = ""
  for (g = 1; g <= nd; g++) {
    if (du[g] in known) continue
    if (++n <= MAX_TOLD) shown = shown (n > 1 ? ", " : "") du[g]
  }
  if (n == 0) return
  note("warning: " n " transfer user" (n == 1 ? " has" : "s have") " no system account on this host (" shown (n > MAX_TOLD ? ", and " (n - MAX_TOLD) " more" : "") "): Aspera transfer users are system accounts; the docroot" (n == 1 ? " is" : "s are") " written, but nobody can log in as " (n == 1 ? "that user" : "those users") " until the account exists")
}

# Converge aspera.conf to the grants: the new file on stdout, the new state to STATE_OUT.
function apply(    i, g, old_state, new_state) {
  old_state = ""
  if (slurp(ENVIRON["STATE_IN"]) > 0) old_state = slurped
  parse()
  refuse_conflicts()
  if (nd > 0) warn_missing_accounts()
  warn_legacy()
  # Users this stack installed that are no longer granted: undo, newest first.
  # Each phase is computed on one parse and applied at once (flush); none of its edits overlap.
  for (i = nrec; i >= 1; i--) if (!rdead[i] && rs[i] == STACK && !(ru[i] in wanted)) { revert(i); drop_record(i) }
  flush()
  for (g = 1; g <= nd; g++) install(g)
  flush()
  tell_rest()
  # The result is parsed and read back by the separate "verify" run that follows.

  new_state = state_text()
  printf "%s", new_state > ENVIRON["STATE_OUT"]
  if (close(ENVIRON["STATE_OUT"]) != 0) fail("cannot write the new state file")
  printf "%s", doc
  if (doc != orig) exit 3
  if (new_state != old_state) exit 4
  exit 0
}
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

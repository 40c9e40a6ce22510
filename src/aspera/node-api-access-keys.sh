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

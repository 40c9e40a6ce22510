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
# aspera-conf-edit.awk: edits (apply) or checks (verify) aspera.conf, byte-exactly.
#
# Embedded into aspera-conf-edit.sh when the host scripts are rendered (host-scripts.ts), inside
# the single-quoted program argument of its aspera_conf_awk function, so the host receives one
# file. Therefore this file must never contain a single quote: write \047 instead.
# Input comes only from the environment: MODE, CONF_IN, STATE_IN, STATE_OUT, GRANTS, STACK.
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
      if (!validname(name)) { name = trim(name); if (!validname(name)) fail("bad closing tag </" name "> at byte " pos) }
      if (sp == 0 || tok_n[opened[sp]] != name) fail("</" name "> at byte " pos " does not close the open element")
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

# Several edits made on one parse: queued, then applied from the end of the file backwards (the
# later-queued first among edits at one offset), so that each leaves the offsets of the edits
# before it valid and the file is parsed again only once. Queued edits never overlap.
function queue(from, to, text) { nq++; q_from[nq] = from; q_to[nq] = to; q_text[nq] = text }
function queue_child(p, text) { insertion(p); queue(ins_at, ins_at - 1, sep(ci) text) }
function queue_removal(k) { queue(blank_start(k), tok_e[tok_m[k]], "") }
function flush(    j, best) {
  while (nq > 0) {
    best = 1
    for (j = 2; j <= nq; j++) if (q_from[j] >= q_from[best]) best = j
    splice(q_from[best], q_to[best], q_text[best])
    for (j = best; j < nq; j++) { q_from[j] = q_from[j + 1]; q_to[j] = q_to[j + 1]; q_text[j] = q_text[j + 1] }
    nq--
  }
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
                if (t in at_n) { at_n[t]++; at_where[t] = at_where[t] " and in " realm_label(j) }
                else { at_n[t] = 1; at_where[t] = realm_label(j) }
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
  if (nfound > 1) fail("user " u " has a stanza in " at_where[u] ": cannot tell which one the server reads; keep one and re-run")
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

# Sets the fields of user u (whose path exists) to those of grant g; leaves alone those that
# already read right.
function set_fields(u, g,    f, c, v) {
  if (locate(u) != PATH + 1) fail("internal: the path of " u " vanished")
  for (f = 1; f <= 4; f++) {
    v = val[g, f]
    c = field(u, f)
    if (c == 0) queue_child(chain[PATH], field_text(f, v))
    else if (tok_t[c] == "e") queue(tok_s[c], tok_e[c], field_text(f, v))
    else if (trim(inner(c)) != v) queue(tok_e[c] + 1, tok_s[tok_m[c]] - 1, v)
  }
  flush()
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

# Working copy of the state: records r* in install order.
function find_record(u,    i) { for (i = 1; i <= nrec; i++) if (ru[i] == u) return i; return 0 }
function drop_record(i,    j, f) {
  for (j = i; j < nrec; j++) {
    ru[j] = ru[j + 1]; rinst[j] = rinst[j + 1]; rcreated[j] = rcreated[j + 1]
    for (f = 1; f <= 4; f++) rprev[j, f] = rprev[j + 1, f]
  }
  nrec--
}

# Undo what record i installed, when the docroot is still the one this stack wrote.
function revert(i,    u, c, f, lvl, top) {
  u = ru[i]
  if (current_docroot(u) != rinst[i]) {
    if (locate(u) == PATH + 1 && field(u, 1)) note(u ": docroot was changed outside this stack since it was installed; left as it is")
    else note(u ": docroot already removed")
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
    note(u ": docroot removed, with the elements this stack had added")
    return
  }
  for (f = 1; f <= 4; f++) {
    c = field(u, f)
    if (rprev[i, f] == "-") { if (c) queue_removal(c) }
    else if (c) queue(tok_s[c], tok_e[tok_m[c]], dec(substr(rprev[i, f], 2)))
    else queue_child(chain[PATH], dec(substr(rprev[i, f], 2)))
  }
  note(u ": docroot removed; the settings from before this stack are restored")
}

# Make user g carry its desired docroot and flags; record what was there before. The edits are
# queued (see flush) and read back once all are applied; only a missing <aaa>, <realms>, <realm>
# or <users>, which the next user may need too, is written at once.
function install(g,    u, i, m, f, c, ours, fresh, text) {
  u = du[g]
  i = find_record(u)
  ours = (i && current_docroot(u) == rinst[i])
  if (i && !ours) {
    note(u ": docroot was changed outside this stack since it was installed; the current one becomes the one to restore")
    drop_record(i)
    i = 0
  }
  fresh = !i
  if (fresh) {
    nrec++; i = nrec; ru[i] = u; rcreated[i] = "none"
    for (f = 1; f <= 4; f++) rprev[i, f] = "-"
  }
  rinst[i] = dd[g]
  m = locate(u)
  if (m < USER) { flush(); m = locate(u) }
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

# The state file: a "format" line, then one "user" record per docroot this stack installed.
# A file with records but no format line was written by an earlier version, which put its
# stanzas in a top-level <CONF><users> that Aspera does not read: that is not undone here.
function read_state(path,    line, r, f, n, format, legacy) {
  nrec = 0; state_text = ""; format = 0; legacy = ""
  while ((r = (getline line < path)) > 0) {
    state_text = state_text line "\n"
    if (line == "" || substr(line, 1, 1) == "#") continue
    n = split(line, f, "\t")
    if (n == 2 && f[1] == "format" && f[2] == STATE_FORMAT && !format && !nrec && legacy == "") { format = 1; continue }
    if (!format && n == 8 && f[1] == "user") { legacy = legacy (legacy == "" ? "" : ", ") f[2]; continue }
    if (!format || n != 8 || f[1] != "user" || f[4] !~ /^(none|aaa|realms|realm|users|user|file_system|access|paths|path)$/) fail("cannot read the state file " path "; leave it in place and fix it (or restore it from a backup) before re-running")
    nrec++; ru[nrec] = f[2]; rinst[nrec] = f[3]; rcreated[nrec] = f[4]
    rprev[nrec, 1] = f[5]; rprev[nrec, 2] = f[6]; rprev[nrec, 3] = f[7]; rprev[nrec, 4] = f[8]
  }
  if (r == 0) close(path)
  if (legacy != "") fail("the state file " path " was written by an earlier version of aspera-cross-account, which put the docroots of " legacy " in a <users> section directly under <CONF> (Aspera does not read users there). This version does not undo that. By hand: delete the <user> stanzas of " legacy " from that top-level <users> (or put back the aspera.conf.bak.* copy taken before the first install), then delete " path " and run again")
}
function state_out(    t, i) {
  if (nrec == 0) return ""
  t = "# aspera-cross-account stack " stack ": what it changed in aspera.conf, for its uninstall. Do not edit.\n"
  t = t "format\t" STATE_FORMAT "\n"
  for (i = 1; i <= nrec; i++) t = t "user\t" ru[i] "\t" rinst[i] "\t" rcreated[i] "\t" rprev[i, 1] "\t" rprev[i, 2] "\t" rprev[i, 3] "\t" rprev[i, 4] "\n"
  return t
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
  mode = ENVIRON["MODE"]; stack = ENVIRON["STACK"]
  where = ENVIRON["CONF_IN"]
  constants()
  read_grants()
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
  STATE_FORMAT = 2
  dirty = 1; nq = 0
}

# Desired grants: "user read_allowed write_allowed dir_allowed docroot" per line.
function read_grants(    n, j, lines, w) {
  nd = 0
  n = split(ENVIRON["GRANTS"], lines, "\n")
  for (j = 1; j <= n; j++) {
    if (blank(lines[j])) continue
    if (split(lines[j], w, " ") != 5) fail("malformed grant line: " lines[j])
    if (w[1] !~ /^[A-Za-z0-9_.@-]+$/ || w[2] !~ /^(true|false)$/ || w[3] !~ /^(true|false)$/ || w[4] !~ /^(true|false)$/) fail("malformed grant line: " lines[j])
    # The docroot must already be XML text: no "<", and "&" only as an entity.
    if (index(w[5], "<") || w[5] !~ /^([^&]|&(amp|lt|gt|quot|apos);)*$/) fail("the docroot of " w[1] " is not XML-escaped")
    if (w[1] in wanted) fail("two grants for user " w[1])
    nd++; du[nd] = w[1]; wanted[w[1]] = nd
    val[nd, 2] = w[2]; val[nd, 3] = w[3]; val[nd, 4] = w[4]; val[nd, 1] = w[5]; dd[nd] = w[5]
  }
}

# Read back: every grant has exactly its docroot and flags, and the state file says so.
function verify(    g, f, c, i) {
  parse()
  for (g = 1; g <= nd; g++) {
    if (locate(du[g]) != PATH + 1) fail("read back: no docroot path for " du[g])
    for (f = 1; f <= 4; f++) {
      c = field(du[g], f)
      if (!c || trim(inner(c)) != val[g, f]) fail("read back: <" F[f] "> of " du[g] " is not " val[g, f])
    }
  }
  if (nrec != nd) fail("read back: the state file lists " nrec " users, expected " nd)
  for (i = 1; i <= nrec; i++) if (!(ru[i] in wanted) || rinst[i] != dd[wanted[ru[i]]]) fail("read back: the state file disagrees for " ru[i])
  exit 0
}

# Converge aspera.conf to the grants: the new file on stdout, the new state to STATE_OUT.
function apply(    i, g, old_state, new_state) {
  old_state = state_text
  parse()
  warn_legacy()
  # Users this stack installed that are no longer granted: undo, newest first.
  # Each phase is computed on one parse and applied at once (flush); none of its edits overlap.
  for (i = nrec; i >= 1; i--) if (!(ru[i] in wanted)) { revert(i); drop_record(i) }
  flush()
  for (g = 1; g <= nd; g++) install(g)
  flush()
  # The result is parsed and read back by the separate "verify" run that follows.

  new_state = state_out()
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

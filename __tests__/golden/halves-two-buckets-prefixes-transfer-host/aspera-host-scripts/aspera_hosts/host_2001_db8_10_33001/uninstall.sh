#!/bin/sh
# aspera-cross-account uninstall script, rendered by cdktf synth: do not edit.
# Removes the S3 docroots this stack installed from aspera.conf, restoring what was there before, and deletes the Node API access keys it created.
# Runs as root (re-executes itself with "sudo -n" otherwise). ASPERA_CONF overrides the file it edits,
# ASPERA_NODE_API_URL the Node API it calls for access keys.
set -eu

# ---- Data (the only part that depends on the config) ----
ACTION='uninstall'
# The stack, as the host state records it: stackName, My Account, Other Account.
STACK='acme-exchange:444444444444:555555555555'
DEFAULT_ASPERA_CONF='/opt/aspera/etc/aspera.conf'
# One line per grant: transfer user, read_allowed, write_allowed, dir_allowed, docroot as written
# into aspera.conf (XML-escaped). Empty for uninstall: it removes what the state file records.
GRANTS=''
# The Node API of this host (for access keys): URL, root-only file with "<node user>:<password>",
# CA file ("" for none).
NODE_API_URL='https://127.0.0.1:9092'
NODE_API_CREDENTIALS='/opt/aspera/etc/aspera-cross-account/node-api.credentials'
NODE_API_CA_FILE=''
# One line per Node API access key: id, transfer user, storage as POST /access_keys takes it. Empty
# for uninstall: it removes the keys the access-key state records for this stack.
ACCESS_KEYS=''
# The seed the access key secrets are derived from; terraform apply puts it in place of the marker.
ACCESS_KEY_SEED=''

@golden: the constant script logic, as in __tests__/golden/script-logic.sh@

#!/bin/sh
# aspera-cross-account install script, rendered by cdktf synth: do not edit.
# Installs the S3 docroots and the Node API access keys of this stack (and removes any it installed before that are no longer granted).
# Runs as root (re-executes itself with "sudo -n" otherwise). ASPERA_CONF overrides the file it edits,
# ASPERA_NODE_API_URL the Node API it calls for access keys.
set -eu

# ---- Data (the only part that depends on the config) ----
ACTION='install'
# The stack, as the host state records it: stackName, My Account, Other Account.
STACK='faspex-media:121212121212:343434343434'
DEFAULT_ASPERA_CONF='/opt/aspera/etc/aspera.conf'
# One line per grant: transfer user, read_allowed, write_allowed, dir_allowed, docroot as written
# into aspera.conf (XML-escaped). Empty for uninstall: it removes what the state file records.
GRANTS='
ascp_in true true true s3://arn%3Aaws%3Aiam%3A%3A121212121212%3Arole%2Ffaspex-media-ascp_in@s3.amazonaws.com/studio-deliveries/incoming;iam-role.external-id=faspex-media-5c1e0a77
archive_ro true false true s3://arn%3Aaws%3Aiam%3A%3A121212121212%3Arole%2Ffaspex-media-archive_ro@s3.amazonaws.com/studio-archive;iam-role.external-id=faspex-media-5c1e0a77
'
# The Node API of this host (for access keys): URL, root-only file with "<node user>:<password>",
# CA file ("" for none).
NODE_API_URL='https://127.0.0.1:9092'
NODE_API_CREDENTIALS='/opt/aspera/etc/aspera-cross-account/node-api.credentials'
NODE_API_CA_FILE=''
# One line per Node API access key: id, transfer user, storage as POST /access_keys takes it. Empty
# for uninstall: it removes the keys the access-key state records for this stack.
ACCESS_KEYS='
faspex-media-121212121212-faspex_pkgs faspex_pkgs {"type":"aws_s3","bucket":"studio-deliveries","endpoint":"s3.amazonaws.com","path":"/faspex/packages","credentials":{"type":"assume-role","assume_role_arn":"arn:aws:iam::121212121212:role/faspex-media-faspex_pkgs","assume_role_external_id":"faspex-media-5c1e0a77","assume_role_session_name":"faspex-media.faspex_pkgs"}}
faspex-media-121212121212-archive_ro archive_ro {"type":"aws_s3","bucket":"studio-archive","endpoint":"s3.amazonaws.com","path":"/","credentials":{"type":"assume-role","assume_role_arn":"arn:aws:iam::121212121212:role/faspex-media-archive_ro","assume_role_external_id":"faspex-media-5c1e0a77","assume_role_session_name":"faspex-media.archive_ro"}}
'
# The seed the access key secrets are derived from; terraform apply puts it in place of the marker.
ACCESS_KEY_SEED='ASPERAACCESSKEYSEEDMARKER'

@golden: the constant script logic, as in __tests__/golden/script-logic.sh@

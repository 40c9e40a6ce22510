#!/bin/sh
# aspera-cross-account uninstall script, rendered by cdktf synth: do not edit.
# Removes the S3 docroots this stack installed from aspera.conf, restoring what was there before.
# Runs as root (re-executes itself with "sudo -n" otherwise). ASPERA_CONF overrides the file it edits.
set -eu

# ---- Data (the only part that depends on the config) ----
ACTION='uninstall'
# The stack, as the host state records it: stackName, My Account, Other Account.
STACK='aspera-cross-account:111111111111:222222222222'
DEFAULT_ASPERA_CONF='/opt/aspera/etc/aspera.conf'
# One line per grant: transfer user, read_allowed, write_allowed, dir_allowed, docroot as written
# into aspera.conf (XML-escaped). Empty for uninstall: it removes what the state file records.
GRANTS=''

@golden: the constant script logic, as in __tests__/golden/script-logic.sh@

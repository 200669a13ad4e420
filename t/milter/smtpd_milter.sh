#!/bin/sh
# smtpd_milter.sh - t/milter/smtpd.sh with mvmtr-smtpd asking a running
# mvmtr over the milter protocol (-m) instead of running the policy in
# its own process: the same path, dialogues and hostile clients
SMTPD_MODE=milter
export SMTPD_MODE
. "$top_srcdir/t/milter/smtpd.sh"

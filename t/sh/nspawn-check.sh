#!/bin/sh
# nspawn-check.sh - t/sh/debian.sh's check inside systemd-nspawn: run by
# systemd (PID 1) as the container's only job, it drives the packaged
# mvmtr.service and writes KEY=VALUE lines, the unit's journal, and
# "checked" at the end into /mnt/mvmf-test; then powers the container off.
d=/mnt/mvmf-test
exec >"$d/out" 2>&1
sock=/var/spool/postfix/mvmtr/mvmtr.sock
systemctl start mvmtr.service
echo "start=$?"
i=0
while [ ! -S "$sock" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
echo "active=$(systemctl is-active mvmtr.service)"
pid=$(systemctl show -p MainPID --value mvmtr.service)
echo "user=$(stat -c %U "/proc/$pid")"
echo "socket=$(stat -c '%U:%G %a' "$sock")"
echo "rundir=$(stat -c '%U:%G %a' /run/mvmf)"
echo "store=$(stat -c '%U:%G %a' /var/lib/mvmf/mvmtr)"
systemctl reload mvmtr.service
echo "reload=$?"
i=0
until journalctl -u mvmtr.service -o cat --no-pager | grep -q 'reload:' || [ $i -ge 50 ]; do
	sleep 0.1
	i=$((i + 1))
done
echo "timer=$(systemctl is-enabled mvmcas-expire.timer)"
echo "enabled=$(systemctl is-enabled mvmtr.service)"
systemctl start mvmcas-expire.service
echo "expire=$?"
systemctl stop mvmtr.service
echo "stop=$?"
echo "stopped=$(systemctl is-active mvmtr.service)"
journalctl -u mvmtr.service -u mvmcas-expire.service -o cat --no-pager >"$d/journal" 2>&1
echo checked
systemctl poweroff --no-block

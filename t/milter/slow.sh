#!/bin/sh
# slow.sh - mvmtr's -T bounds a whole packet, not each read: a peer on
# the milter socket that sends a byte at a time, each well within -T,
# is cut off once the packet has taken -T; an idle connection is closed
# after -T with a log line that says so (it said "read: Resource
# temporarily unavailable"); a packet sent whole is answered as ever.
. "$top_srcdir/t/tap.sh"
command -v python3 >/dev/null 2>&1 || skip_all "python3 is not installed"
mvmtr=$top_builddir/milter/mvmtr
tmp=$(mktemp -d /tmp/mvmtr-slow.XXXXXX)
pid=
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
printf 'void $hook_envrcpt(string $r, string[] $a) { }\n' >"$tmp/s.mfl"
"$mvmtr" -f -l debug -T 2 -p "unix:$tmp/m.sock" "$tmp/s.mfl" >"$tmp/m.log" 2>&1 &
pid=$!
i=0
while [ ! -S "$tmp/m.sock" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
cat >"$tmp/peer.py" <<'PY'
import socket, struct, sys, time
mode, path = sys.argv[1], sys.argv[2]
# SMFIC_OPTNEG: version 6, every action, every protocol step
body = b"O" + struct.pack(">III", 6, 0x1ff, 0x1fffff)
packet = struct.pack(">I", len(body)) + body
s = socket.socket(socket.AF_UNIX)
s.connect(path)
start = time.monotonic()
try:
    if mode == "whole":
        s.sendall(packet)
    elif mode == "trickle":
        for b in packet:                  # 17 bytes, one each 0.5 s: 8.5 s
            s.send(bytes([b]))
            time.sleep(0.5)
    s.settimeout(15)
    reply = s.recv(4096)
except OSError:
    reply = b""
print("%s %.1f" % ("answered" if reply[4:5] == b"O" else "closed", time.monotonic() - start))
PY
set -- $(python3 "$tmp/peer.py" whole "$tmp/m.sock")
is "$1" answered "a packet sent whole is answered"
set -- $(python3 "$tmp/peer.py" trickle "$tmp/m.sock")
is "$1" closed "a packet trickled a byte each 0.5 s is not waited for past -T 2"
ok "$(python3 -c "import sys; sys.exit(0 if float(sys.argv[1]) < 6 else 1)" "$2"; echo $?)" \
	"it is closed after about -T (took ${2} s), not after 8.5 s"
ok "$(grep -q 'a packet took more than 2 s to arrive (-T); closing it' "$tmp/m.log"; echo $?)" \
	"and the log says why"
set -- $(python3 "$tmp/peer.py" idle "$tmp/m.sock")
is "$1" closed "an idle connection is closed"
ok "$(grep -q 'milter connection: idle for 2 s (-T); closing it' "$tmp/m.log" \
	&& ! grep -q 'Resource temporarily unavailable' "$tmp/m.log"; echo $?)" \
	"logged as idle, not as a read error"
kill "$pid"
wait "$pid" 2>/dev/null
pid=
done_testing

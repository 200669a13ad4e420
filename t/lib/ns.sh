# ns.sh - tests that run in namespaces of their own: a network with
# loopback only, a real DNS server on it, a private /etc with a user.
#
# ns_enter UNSHARE-FLAGS...: re-run this test in new namespaces (skip
# when they cannot be made), then bring up lo there. With -m, refuse to
# go on in the host's mount namespace: what follows mounts over /etc.
#
# unbound_start DIR: unbound on 127.0.0.1:53 answering only the
# local-zone/local-data lines on standard input, its files in DIR;
# sets unbound_pid, returns 1 when it does not start serving.
#
# ns_user_etc DIR HOME: a copy of /etc in DIR/etc with the user joe
# (uid and gid 4711, home HOME, made) bound over /etc. Not a bind over
# /etc/passwd alone: a useradd elsewhere renames a new passwd over it,
# which takes such a mount away in every namespace.
ns_enter() {
	if [ -z "$MVMF_NETNS" ]; then
		command -v unshare >/dev/null 2>&1 || skip_all "unshare is not installed (util-linux)"
		unshare "$@" true 2>/dev/null ||
			skip_all "cannot make namespaces (unshare $* needs root)"
		MVMF_NETNS=1 exec unshare "$@" sh "$0"
	fi
	case " $* " in
	*" -m "*)
		[ "$(readlink /proc/self/ns/mnt)" != "$(readlink /proc/1/ns/mnt)" ] || {
			echo "Bail out! not in a mount namespace of its own"
			exit 99
		} ;;
	esac
	ip link set lo up 2>/dev/null || ifconfig lo up 2>/dev/null || {
		echo "Bail out! cannot bring up lo in the namespace"
		exit 99
	}
}

# tcp_wait ADDRESS PORT - until something listens there, at most 5 s
tcp_wait() {
	_i=0
	until bash -c "exec 3<>/dev/tcp/$1/$2" 2>/dev/null; do
		[ $_i -ge 50 ] && return 1
		sleep 0.1
		_i=$((_i + 1))
	done
}

unbound_start() {
	{
		cat <<CONF
server:
	interface: 127.0.0.1
	port: 53
	do-daemonize: no
	chroot: ""
	username: ""
	directory: "$1"
	pidfile: "$1/unbound.pid"
	use-syslog: no
	logfile: "$1/unbound.log"
	log-queries: yes
	verbosity: 1
	do-ip6: no
	access-control: 127.0.0.0/8 allow
	module-config: "iterator"
CONF
		sed 's/^/	/'
		printf 'remote-control:\n\tcontrol-enable: no\n'
	} >"$1/unbound.conf"
	unbound -d -c "$1/unbound.conf" >"$1/unbound.out" 2>&1 &
	unbound_pid=$!
	_i=0
	until grep -q 'start of service' "$1/unbound.log" 2>/dev/null; do
		[ $_i -ge 100 ] && return 1
		sleep 0.1
		_i=$((_i + 1))
	done
}

ns_user_etc() {
	mkdir -p "$2"
	cp -a /etc "$1/etc"
	echo "joe:x:4711:4711:Joe:$2:/bin/sh" >>"$1/etc/passwd"
	echo "joe:x:4711:" >>"$1/etc/group"
	chown 4711:4711 "$2"
	mount --bind "$1/etc" /etc
}

# An sshd for the tests that reach "remote" hosts on this machine: source it
# after tests/lib.sh. ssh_start DIR starts sshd on 127.0.0.1 at a free port
# (SSH_PORT) with a host key and a login key made for the test, both under
# DIR, and writes DIR/ssh_config for clients (CADEIA_SSH_CONFIG); SSH_URI is
# the libvirt URI of "the remote host". ssh_stop stops it and removes the
# keys. Nothing outside DIR is touched but /run/sshd (sshd's privsep dir).
SSHD_PID=

ssh_start() {
	local dir=$1 p i

	SSH_PORT=
	for p in $(shuf -i 20000-60000 -n 20); do
		ss -Hltn "sport = :$p" | grep -q . || { SSH_PORT=$p; break; }
	done
	[ -n "$SSH_PORT" ] || return 1
	ssh-keygen -q -t ed25519 -N '' -f "$dir/hostkey" -C cadeia-test-host || return 1
	ssh-keygen -q -t ed25519 -N '' -f "$dir/id" -C cadeia-test-login || return 1
	cp "$dir/id.pub" "$dir/authorized_keys"
	# StrictModes off: the keys live under /tmp, which is world-writable.
	cat >"$dir/sshd_config" <<EOC
Port $SSH_PORT
ListenAddress 127.0.0.1
HostKey $dir/hostkey
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
AuthorizedKeysFile $dir/authorized_keys
StrictModes no
UsePAM no
PidFile $dir/sshd.pid
EOC
	cat >"$dir/ssh_config" <<EOC
Host *
  StrictHostKeyChecking no
  UserKnownHostsFile $dir/known_hosts
  IdentityFile $dir/id
  IdentitiesOnly yes
  LogLevel ERROR
EOC
	mkdir -p /run/sshd
	/usr/sbin/sshd -f "$dir/sshd_config" -E "$dir/sshd.log" || return 1
	for i in $(seq 50); do [ -s "$dir/sshd.pid" ] && break; sleep 0.1; done
	SSHD_PID=$(cat "$dir/sshd.pid" 2>/dev/null)
	SSH_DIR=$dir
	SSH_URI="qemu+ssh://root@127.0.0.1:$SSH_PORT/system?keyfile=$dir/id&no_verify=1"
	[ -n "$SSHD_PID" ]
}

ssh_stop() {
	local i

	[ -n "$SSHD_PID" ] && kill "$SSHD_PID" 2>/dev/null
	for i in $(seq 50); do
		[ -n "$SSHD_PID" ] && kill -0 "$SSHD_PID" 2>/dev/null || break
		sleep 0.1
	done
	[ -n "${SSH_DIR:-}" ] && rm -f "$SSH_DIR/id" "$SSH_DIR/id.pub" "$SSH_DIR/authorized_keys" \
		"$SSH_DIR/hostkey" "$SSH_DIR/hostkey.pub"
}

# ssh_gone: sshd has stopped and no key of the test is left.
ssh_gone() {
	! kill -0 "$SSHD_PID" 2>/dev/null &&
		! ls "$SSH_DIR"/id "$SSH_DIR"/id.pub "$SSH_DIR"/hostkey* "$SSH_DIR/authorized_keys" 2>/dev/null | grep -q .
}

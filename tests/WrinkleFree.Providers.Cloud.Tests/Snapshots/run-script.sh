#!/bin/bash
# WrinkleFree replica 2 of chat (version 1, tier cloud), written by the cloud provider.
# Its output: journalctl -u wf-replica
set -euo pipefail
install -d -m 0755 /etc/wrinklefree /var/lib/wrinklefree/model
test -x /usr/local/bin/wf || { echo 'wrinklefree: the image has no /usr/local/bin/wf; give the tier wf_url and wf_sha256' >&2; exit 1; }

cat > /etc/wrinklefree/replica.env <<'WF_REPLICA_ENV'
HOST=0.0.0.0
PORT=8080
WF_REPLICA_ENV
chmod 0600 /etc/wrinklefree/replica.env

cat > /etc/systemd/system/wf-replica.service <<'WF_REPLICA_UNIT'
[Unit]
Description=WrinkleFree replica 2 of chat
After=network-online.target
Wants=network-online.target

[Service]
EnvironmentFile=/etc/wrinklefree/replica.env
ExecStart=/bin/sh -c "set -e\necho setting up\nset +e\nwf replica --port $$PORT # 100%%"
KillSignal=SIGTERM
TimeoutStopSec=110
Restart=on-failure
RestartSec=2

[Install]
WantedBy=multi-user.target
WF_REPLICA_UNIT
systemctl daemon-reload
systemctl enable --now wf-replica.service

#!/bin/bash
# WrinkleFree replica 7 of chat (version 3, tier cloud-spot), written by the cloud provider.
# Its output: journalctl -u wf-replica
set -euo pipefail
install -d -m 0755 /etc/wrinklefree /var/lib/wrinklefree/model
curl -fsSL --retry 5 -o '/tmp/wf' 'https://releases.example.com/wf-serving/1.2.0/wf'
echo 'bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb  /tmp/wf' | sha256sum -c -
install -m 0755 /tmp/wf /usr/local/bin/wf
if ! echo 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa  /var/lib/wrinklefree/model/wrinklefree-2b.gguf' | sha256sum -c - >/dev/null 2>&1; then
  aws s3 cp --only-show-errors 's3://wf-models/wrinklefree-2b.gguf' '/var/lib/wrinklefree/model/wrinklefree-2b.gguf.part'
  echo 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa  /var/lib/wrinklefree/model/wrinklefree-2b.gguf.part' | sha256sum -c -
  mv /var/lib/wrinklefree/model/wrinklefree-2b.gguf.part /var/lib/wrinklefree/model/wrinklefree-2b.gguf
fi
install -d -m 0700 /etc/wrinklefree/files
(umask 077; echo 'cmVwbGljYS1rZXkK' | base64 -d > /etc/wrinklefree/files/wf-api-key-file)

cat > /etc/wrinklefree/replica.env <<'WF_REPLICA_ENV'
HOST=0.0.0.0
MODEL_PATH=/var/lib/wrinklefree/model/wrinklefree-2b.gguf
NOTE="a \"quoted\" $value with 100%"
NUM_THREADS=4
PORT=8080
WF_API_KEY_FILE=/etc/wrinklefree/files/wf-api-key-file
WF_REPLICA_ENV
chmod 0600 /etc/wrinklefree/replica.env

cat > /etc/systemd/system/wf-replica.service <<'WF_REPLICA_UNIT'
[Unit]
Description=WrinkleFree replica 7 of chat
After=network-online.target
Wants=network-online.target

[Service]
EnvironmentFile=/etc/wrinklefree/replica.env
ExecStart=/usr/local/bin/wf replica --context-size 4096 --interruption-notice aws
KillSignal=SIGTERM
TimeoutStopSec=110
Restart=on-failure
RestartSec=2

[Install]
WantedBy=multi-user.target
WF_REPLICA_UNIT
systemctl daemon-reload
systemctl enable --now wf-replica.service

locals {
  # Fixed private addresses, so the outputs (and the pool file) do not change when servers are recreated.
  worker_private_ips = [for i in range(var.server_count) : cidrhost(var.subnet_cidr, 10 + i)]
  bastion_private_ip = cidrhost(var.subnet_cidr, 5)

  labels = {
    app  = "wrinklefree"
    pool = var.name
  }
}

resource "hcloud_ssh_key" "this" {
  name       = var.ssh_key_name
  public_key = file(pathexpand(var.ssh_public_key_path))
  labels     = local.labels
}

resource "hcloud_network" "this" {
  name     = "${var.name}-net"
  ip_range = var.network_cidr
  labels   = local.labels
}

resource "hcloud_network_subnet" "cloud" {
  network_id   = hcloud_network.this.id
  type         = "cloud"
  network_zone = var.network_zone
  ip_range     = var.subnet_cidr
}

# Robot servers join the same network through a vSwitch; they keep their own public addresses.
resource "hcloud_network_subnet" "robot" {
  count        = var.robot_vswitch_id == null ? 0 : 1
  network_id   = hcloud_network.this.id
  type         = "vswitch"
  network_zone = var.network_zone
  ip_range     = var.robot_subnet_cidr
  vswitch_id   = var.robot_vswitch_id
}

# Hetzner Cloud firewalls filter public interfaces only; the private network is open between its members.
resource "hcloud_firewall" "public" {
  name   = "${var.name}-public"
  labels = local.labels

  rule {
    description = "SSH from the admins"
    direction   = "in"
    protocol    = "tcp"
    port        = "22"
    source_ips  = var.admin_cidrs
  }

  dynamic "rule" {
    for_each = var.endpoint_port == null ? [] : [var.endpoint_port]
    content {
      description = "service endpoint"
      direction   = "in"
      protocol    = "tcp"
      port        = tostring(rule.value)
      source_ips  = var.endpoint_cidrs
    }
  }
}

resource "hcloud_server" "bastion" {
  count        = var.bastion ? 1 : 0
  name         = "${var.name}-bastion"
  server_type  = var.bastion_server_type
  image        = var.image
  location     = var.location
  ssh_keys     = [hcloud_ssh_key.this.id]
  firewall_ids = [hcloud_firewall.public.id]
  labels       = merge(local.labels, { role = "bastion" })

  public_net {
    ipv4_enabled = true
    ipv6_enabled = true
  }

  network {
    network_id = hcloud_network.this.id
    ip         = local.bastion_private_ip
  }

  depends_on = [hcloud_network_subnet.cloud]
}

resource "hcloud_server" "worker" {
  count       = var.server_count
  name        = "${var.name}-worker-${count.index + 1}"
  server_type = var.server_type
  image       = var.image
  location    = var.location
  ssh_keys    = [hcloud_ssh_key.this.id]
  # Behind a bastion the workers have no public interface, so there is nothing for a firewall to filter.
  firewall_ids = var.bastion ? [] : [hcloud_firewall.public.id]
  labels       = merge(local.labels, { role = "worker" })

  public_net {
    ipv4_enabled = !var.bastion
    ipv6_enabled = !var.bastion
  }

  # Attached at creation: a server without a public address must have a network from the start.
  network {
    network_id = hcloud_network.this.id
    ip         = local.worker_private_ips[count.index]
  }

  depends_on = [hcloud_network_subnet.cloud]
}

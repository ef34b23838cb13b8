# The shape `wf ssh import-terraform` reads (docs/deployment.md, "Terraform"): `servers` is a list of objects with
# name, ipv4_address, ipv6_address and private_ip; an address a server does not have is null.

output "servers" {
  description = "Every server of the pool: the cloud workers, then the Robot servers as listed in robot_servers."
  value = concat(
    [for i, s in hcloud_server.worker : {
      name         = s.name
      ipv4_address = s.ipv4_address == "" ? null : s.ipv4_address
      ipv6_address = s.ipv6_address == "" ? null : s.ipv6_address
      private_ip   = local.worker_private_ips[i]
    }],
    [for r in var.robot_servers : {
      name         = r.name
      ipv4_address = r.ipv4_address
      ipv6_address = r.ipv6_address
      private_ip   = r.private_ip
    }],
  )
}

output "ssh_user" {
  description = "The pool's login user."
  value       = var.ssh_user
}

output "ssh_private_key_path" {
  description = "The pool's identity_file."
  value       = var.ssh_private_key_path
}

output "bastion_ip" {
  description = "The bastion's public IPv4 address; null without a bastion. The importer writes proxy_jump USER@THIS when the workers have no public address."
  value       = var.bastion ? hcloud_server.bastion[0].ipv4_address : null
}

output "bastion_private_ip" {
  description = "The bastion's address on the private network: where the wf daemon's balancer is reached from the nodes in the production layout."
  value       = var.bastion ? local.bastion_private_ip : null
}

output "private_network_cidr" {
  description = "The private network; pass it to `wf export firewall --balancer` when the balancer runs inside it."
  value       = var.network_cidr
}

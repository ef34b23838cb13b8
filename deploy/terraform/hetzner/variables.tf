variable "name" {
  description = "Prefix for every resource's name (servers are NAME-worker-1, NAME-worker-2, ..., NAME-bastion)."
  type        = string
  default     = "wrinklefree"
}

variable "server_count" {
  description = "How many Hetzner Cloud workers to create. 0 is allowed when robot_servers lists dedicated machines."
  type        = number
  default     = 3

  validation {
    condition     = var.server_count >= 0 && var.server_count == floor(var.server_count)
    error_message = "server_count must be a whole number, 0 or more."
  }
}

variable "server_type" {
  description = "Hetzner Cloud server type. ccx33 (8 dedicated vCPUs, 32 GB) is the smallest that serves a 2B ternary model well; ccx53/ccx63 for more replicas per node. Dedicated AX boxes (AX52, AX102) come from Robot, see robot_servers."
  type        = string
  default     = "ccx33"
}

variable "location" {
  description = "Hetzner location (fsn1, nbg1, hel1, ash, hil, sin). Must lie in network_zone."
  type        = string
  default     = "fsn1"
}

variable "network_zone" {
  description = "Network zone of the private subnet: eu-central for fsn1/nbg1/hel1, us-east for ash, us-west for hil, ap-southeast for sin."
  type        = string
  default     = "eu-central"
}

variable "image" {
  description = "OS image. wf ssh up needs systemd (or falls back to a supervised process) and nothing else: the serving wf is self-contained."
  type        = string
  default     = "debian-12"
}

variable "ssh_key_name" {
  description = "Name of the hcloud_ssh_key this module creates from ssh_public_key_path."
  type        = string
  default     = "wrinklefree"
}

variable "ssh_public_key_path" {
  description = "Public key installed for root on every server."
  type        = string
  default     = "~/.ssh/hetzner_ed25519.pub"
}

variable "ssh_private_key_path" {
  description = "The matching private key. Only passed through to the outputs (identity_file of the pool); never read by Terraform."
  type        = string
  default     = "~/.ssh/hetzner_ed25519"
}

variable "ssh_user" {
  description = "Login user of the pool. Hetzner's images log in as root."
  type        = string
  default     = "root"
}

variable "admin_cidrs" {
  description = "Who may reach port 22 on the public addresses (your office or VPN, as CIDRs). Nothing else is opened by default."
  type        = list(string)

  validation {
    condition     = length(var.admin_cidrs) > 0 && alltrue([for c in var.admin_cidrs : can(cidrhost(c, 0))])
    error_message = "admin_cidrs must list at least one CIDR, e.g. [\"203.0.113.7/32\"]."
  }
}

variable "network_cidr" {
  description = "The private network (Hetzner Cloud network ip_range)."
  type        = string
  default     = "10.0.0.0/16"
}

variable "subnet_cidr" {
  description = "The cloud subnet the servers are attached to; inside network_cidr. Workers get .10, .11, ...; the bastion .5."
  type        = string
  default     = "10.0.1.0/24"
}

variable "bastion" {
  description = "Create a bastion with a public IPv4 address and give the workers no public address at all: SSH and the load balancer reach them on the private network only."
  type        = bool
  default     = false
}

variable "bastion_server_type" {
  description = "Server type of the bastion. It carries SSH (and, in the production layout, the wf daemon and endpoint), not replicas."
  type        = string
  default     = "cx22"
}

variable "endpoint_port" {
  description = "The service endpoint's port opened on the public addresses (the bastion when bastion = true) to endpoint_cidrs; null opens nothing."
  type        = number
  default     = null
}

variable "endpoint_cidrs" {
  description = "Who may reach endpoint_port (e.g. Cloudflare's published ranges). Used only when endpoint_port is set."
  type        = list(string)
  default     = []
}

variable "robot_servers" {
  description = "Dedicated (Robot) servers to list in the servers output beside the cloud workers. Terraform cannot order Robot servers: rent them in Robot and list them here. private_ip is their vSwitch address when robot_vswitch_id is set."
  type = list(object({
    name         = string
    ipv4_address = string
    ipv6_address = optional(string)
    private_ip   = optional(string)
  }))
  default = []
}

variable "robot_vswitch_id" {
  description = "ID of a Robot vSwitch to couple to the private network (a vswitch subnet), so Robot servers and cloud servers share it. null for none."
  type        = number
  default     = null
}

variable "robot_subnet_cidr" {
  description = "The vswitch subnet's range, inside network_cidr; the Robot servers' private_ip values come from it."
  type        = string
  default     = "10.0.2.0/24"
}

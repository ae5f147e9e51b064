terraform {
  required_version = ">= 1.5"
}

variable "image_tag" {
  type    = string
  default = "latest"
}

// Package ansible holds the tests of the Ansible playbook beside it
// (site.yml and its roles): syntax check and ansible-lint, and a real
// converge into a Debian 12 root through Ansible's chroot connection,
// twice, the second reporting no change, then --check runs of the roles
// that need testbed hardware. It has no code of its own.
package ansible

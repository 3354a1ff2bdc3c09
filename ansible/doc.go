// Package ansible holds the tests of the Ansible playbooks beside it
// (site.yml, loadgen.yml and their roles): syntax check and ansible-lint;
// a real converge of site.yml into a Debian 12 root through Ansible's
// chroot connection, twice, the second reporting no change, then --check
// runs of the roles that need testbed hardware; and a real run of
// loadgen.yml on two local load hosts against a sim serve twin. It has no
// code of its own.
package ansible

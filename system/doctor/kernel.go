package doctor

import (
	"fmt"
	"slices"
	"strings"

	"trenv-bench/system"
)

// PseudoMMDevice is the TrEnv kernel's mm-template device.
const PseudoMMDevice = "/dev/pseudo_mm"

// kernelSource names the kernel component for remedies.
func kernelSource(k *system.Component) string {
	if k.Git == nil {
		return "stack.yaml component " + k.Name
	}
	return fmt.Sprintf("%s, stack.yaml component %s", strings.TrimSuffix(strings.TrimPrefix(k.Git.Repository, "https://github.com/"), ".git"), k.Name)
}

func (e *env) checkKernelRelease() Check {
	required := e.sc.Has(MethodTrEnv)
	res := result("kernel.release", "TrEnv kernel running", required)
	k, ok := e.st.Kernel()
	if !ok {
		return res.skip("stack.yaml has no kernel requirements")
	}
	rel := e.release()
	if rel == "" {
		return res.fail("cannot read /proc/sys/kernel/osrelease", "run doctor on the host itself")
	}
	if strings.Contains(rel, k.Kernel.Release) {
		return res.pass("running " + rel)
	}
	detail := fmt.Sprintf("running %s; TrEnv needs %s (%s)", rel, k.Kernel.Release, kernelSource(k))
	if !required {
		detail = fmt.Sprintf("running %s, not TrEnv's %s, on which the paper ran every system", rel, k.Kernel.Release)
	}
	installed := ""
	for _, p := range k.Install {
		if strings.Contains(p, k.Kernel.Release) && e.exists(p) {
			installed = p
		}
	}
	if installed != "" {
		return res.fail(detail, fmt.Sprintf("it is installed (%s) but not running: make it GRUB's default (\"Linux %s+\") and reboot", installed, k.Kernel.Release))
	}
	return res.fail(detail, fmt.Sprintf("build and install the kernel (%s: its build steps and config options), make it GRUB's default (\"Linux %s+\") and reboot", kernelSource(k), k.Kernel.Release))
}

func (e *env) checkPseudoMM() Check {
	res := result("kernel.pseudo-mm", PseudoMMDevice, true)
	if e.exists(PseudoMMDevice) {
		return res.pass(PseudoMMDevice + " present")
	}
	return res.fail(PseudoMMDevice+" missing: the running kernel has no pseudo_mm driver",
		"boot the TrEnv kernel: its pseudo_mm driver is built in and creates the device")
}

// kernelConfig returns the running kernel's config and where it came from.
func (e *env) kernelConfig() (map[string]string, string, error) {
	rel := e.release()
	var tried []string
	for _, p := range []string{"/boot/config-" + rel, "/proc/config.gz"} {
		b, err := e.read(p)
		if err != nil {
			tried = append(tried, p)
			continue
		}
		cfg, err := ParseKernelConfig(b)
		if err != nil {
			return nil, p, fmt.Errorf("%s: %w", p, err)
		}
		return cfg, p, nil
	}
	return nil, "", fmt.Errorf("no kernel config at %s", strings.Join(tried, " or "))
}

func (e *env) checkKernelConfig() Check {
	required := e.sc.Has(MethodTrEnv)
	res := result("kernel.config", "kernel config options of stack.yaml", required)
	k, ok := e.st.Kernel()
	if !ok || len(k.Kernel.Config) == 0 {
		return res.skip("stack.yaml lists no kernel config options")
	}
	cfg, from, err := e.kernelConfig()
	if err != nil {
		return res.warn(err.Error(), "install the kernel's config as /boot/config-<release> (make install does) or enable CONFIG_IKCONFIG_PROC")
	}
	var readme, estimate []string
	for _, o := range k.Kernel.Config {
		v := cfg[o.Option]
		if o.Satisfied(v) {
			continue
		}
		got := v
		if got == "" || got == "n" {
			got = "not set"
		} else {
			got = "=" + got
		}
		msg := fmt.Sprintf("%s %s (want %s)", strings.TrimPrefix(o.Option, "CONFIG_"), got, o.Want)
		if o.Source == system.OptionReadme {
			readme = append(readme, msg)
		} else {
			estimate = append(estimate, msg)
		}
	}
	slices.Sort(readme)
	slices.Sort(estimate)
	remedy := fmt.Sprintf("rebuild the kernel with these options (%s; scripts/config --enable/--module/--disable, then make olddefconfig)", kernelSource(k))
	switch {
	case len(readme) > 0 && required:
		detail := fmt.Sprintf("%s: required by TrEnv's README: %s", from, strings.Join(readme, ", "))
		if len(estimate) > 0 {
			detail += fmt.Sprintf("; also (estimated needs): %s", strings.Join(estimate, ", "))
		}
		return res.fail(detail, remedy)
	case len(readme)+len(estimate) > 0:
		all := append(readme, estimate...)
		return res.warn(fmt.Sprintf("%s: %s", from, strings.Join(all, ", ")), remedy)
	}
	return res.pass(fmt.Sprintf("%s: all %d options as stack.yaml wants", from, len(k.Kernel.Config)))
}

// versionAtLeast reports whether a dotted version ("6.18.44-fc", "3.17.1")
// is at least major.minor; false if it does not start with numbers.
func versionAtLeast(v string, major, minor int) bool {
	var a, b int
	if n, _ := fmt.Sscanf(v, "%d.%d", &a, &b); n < 2 {
		return false
	}
	return a > major || a == major && b >= minor
}

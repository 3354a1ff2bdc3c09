package system

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"time"
)

// DefaultContainerdSocket is containerd's socket on a TrEnv host (faasd's
// default `sock`, ctr's default address).
const DefaultContainerdSocket = "/run/containerd/containerd.sock"

// answerTimeout bounds one ContainerdAnswers probe.
const answerTimeout = 5 * time.Second

// ContainerdAnswers returns nil when a containerd serves socket: the
// socket exists (ctr would wait ten seconds on a missing one) and `ctr -a
// socket version` through r reaches the server. Otherwise it says why.
func ContainerdAnswers(ctx context.Context, r Runner, ctr, socket string) error {
	st, err := os.Stat(socket)
	if err != nil {
		return fmt.Errorf("containerd's socket: %w", err)
	}
	if st.Mode().Type() != os.ModeSocket {
		return fmt.Errorf("containerd's socket %s is not a socket (%v)", socket, st.Mode().Type())
	}
	ctx, cancel := context.WithTimeout(ctx, answerTimeout)
	defer cancel()
	out, err := r.Run(ctx, ctr, "--connect-timeout", "1s", "-a", socket, "version")
	if err != nil {
		return fmt.Errorf("containerd on %s does not answer: %w", socket, err)
	}
	if !bytes.Contains(out, []byte("Server:")) {
		return fmt.Errorf("containerd on %s: ctr version printed no server version", socket)
	}
	return nil
}

package replay

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cenkalti/backoff/v5"
)

// Control is the policy of control-plane calls (/healthz,
// /system/register, /system/metrics). They are not part of the measurement,
// so they get bounds of their own instead of upstream's (which makes each
// once, with no timeout). The zero value means DefaultControl's values.
type Control struct {
	// Timeout bounds one attempt, wall time.
	Timeout time.Duration
	// Tries is how many attempts a call makes at most.
	Tries int
	// Backoff is the wait before the first retry; each later wait doubles.
	Backoff time.Duration
}

// DefaultControl: 10 s per attempt, 4 attempts, waits of 0.5, 1 and 2 s.
var DefaultControl = Control{Timeout: 10 * time.Second, Tries: 4, Backoff: 500 * time.Millisecond}

// resolve fills zero fields from DefaultControl.
func (c Control) resolve() Control {
	if c.Timeout <= 0 {
		c.Timeout = DefaultControl.Timeout
	}
	if c.Tries <= 0 {
		c.Tries = DefaultControl.Tries
	}
	if c.Backoff <= 0 {
		c.Backoff = DefaultControl.Backoff
	}
	return c
}

// retryControl runs op, each attempt under c.Timeout, retrying as c says;
// warn, when not nil, is told of every failed attempt that is retried. An
// error op marks with backoff.Permanent is not retried. The error of the
// last attempt is returned, wrapped with what.
func retryControl(ctx context.Context, c Control, what string, warn func(string), op func(ctx context.Context) error) error {
	c = c.resolve()
	eb := backoff.NewExponentialBackOff()
	eb.InitialInterval, eb.Multiplier, eb.RandomizationFactor, eb.MaxInterval = c.Backoff, 2, 0, time.Hour
	tries := 0
	_, err := backoff.Retry(ctx, func() (struct{}, error) {
		tries++
		actx, cancel := context.WithTimeout(ctx, c.Timeout)
		defer cancel()
		err := op(actx)
		if err != nil && actx.Err() == context.DeadlineExceeded && ctx.Err() == nil {
			err = fmt.Errorf("no answer within %v: %w", c.Timeout, err)
		}
		return struct{}{}, err
	}, backoff.WithBackOff(eb), backoff.WithMaxTries(uint(c.Tries)), backoff.WithMaxElapsedTime(0),
		backoff.WithNotify(func(err error, next time.Duration) {
			if warn != nil {
				warn(fmt.Sprintf("%s: attempt %d of %d failed, retrying in %v: %v", what, tries, c.Tries, next, err))
			}
		}))
	if err == nil {
		return nil
	}
	if ctx.Err() != nil {
		return fmt.Errorf("%s: %w", what, ctx.Err())
	}
	return fmt.Errorf("%s (%d attempts): %w", what, tries, err)
}

// permanentOn4xx marks a 4xx answer permanent: the server refused the
// request, and asking again will not change its mind.
func permanentOn4xx(err error) error {
	var se *StatusError
	if errors.As(err, &se) && se.Code >= 400 && se.Code < 500 {
		return backoff.Permanent(err)
	}
	return err
}

// permanentOnAnswer marks every answer permanent, so that only calls that
// got no answer at all (refused, reset, timed out) are retried: for
// /system/register, where faasd keeps the first registration of a name,
// a retry after any answer could leave a half-registered function.
func permanentOnAnswer(err error) error {
	var se *StatusError
	if errors.As(err, &se) {
		return backoff.Permanent(err)
	}
	return err
}

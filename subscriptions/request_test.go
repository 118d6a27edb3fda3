package subscriptions_test

import (
	"errors"
	"testing"

	"github.com/switchyard/switchyard/subscriptions"
)

func TestConsumerRequestValidate(t *testing.T) {
	for _, tc := range []struct {
		req  subscriptions.ConsumerRequest
		want string // "" means valid
	}{
		{subscriptions.ConsumerRequest{Action: "list", Stream: "EVENTS"}, ""},
		{subscriptions.ConsumerRequest{Action: "list"}, "--stream is required"},
		{subscriptions.ConsumerRequest{Action: "inspect", Stream: "EVENTS"}, "--consumer is required"},
		{subscriptions.ConsumerRequest{Action: "delete", Stream: "EVENTS", Consumer: "c"}, "deleting consumer c forgets its position; pass --confirm=c"},
		{subscriptions.ConsumerRequest{Action: "delete", Stream: "EVENTS", Consumer: "c", Confirm: "c"}, ""},
	} {
		err := tc.req.Validate()
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%+v: Validate() = %v, want nil", tc.req, err)
		case tc.want != "" && (err == nil || err.Error() != tc.want || !errors.Is(err, subscriptions.ErrInvalidDeclaration)):
			t.Errorf("%+v: Validate() = %v, want %q matching ErrInvalidDeclaration", tc.req, err, tc.want)
		}
	}
}
